import operator as py_operator

from psycopg2 import errors as pgerrors

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import mute_logger

PAID_STATES = ("paid", "in_payment", "reversed")

# SQL sums of the open receivable lines behind each computed balance field.
BALANCE_AGGREGATES = {
    "security_balance": "SUM(-l.amount_residual)",
    "security_balance_due": "SUM(GREATEST(l.amount_residual, 0))",
    "security_past_due": "SUM(CASE WHEN l.amount_residual > 0 "
    "AND l.date_maturity < %(today)s THEN l.amount_residual ELSE 0 END)",
}
SEARCH_OPERATORS = {
    "=": py_operator.eq,
    "!=": py_operator.ne,
    "<": py_operator.lt,
    "<=": py_operator.le,
    ">": py_operator.gt,
    ">=": py_operator.ge,
}


class AccountMove(models.Model):
    _inherit = "account.move"

    security_contract_id = fields.Many2one(
        "contract.contract",
        compute="_compute_security_contract_id",
        store=True,
        readonly=False,
        index=True,
        copy=False,
    )
    security_is_mmr = fields.Boolean(
        string="MMR Invoice",
        compute="_compute_security_is_mmr",
        store=True,
        index=True,
        help="Invoice of an MMR contract: it makes up the customer's balance.",
    )
    security_billing_run_id = fields.Many2one(
        "security.billing.run",
        string="Billing Run",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    security_is_payment = fields.Boolean(
        string="Security Payment",
        copy=False,
        help="Entry of a payment received through a security billing channel.",
    )
    security_in_balance = fields.Boolean(
        compute="_compute_security_in_balance", store=True, index=True
    )
    security_period_start = fields.Date(
        string="Service From", compute="_compute_security_period", store=True
    )
    security_period_end = fields.Date(
        string="Service To", compute="_compute_security_period", store=True
    )

    @api.depends("invoice_line_ids.contract_line_id", "reversed_entry_id")
    def _compute_security_contract_id(self):
        for move in self:
            contract = move.invoice_line_ids.contract_line_id.contract_id[:1]
            move.security_contract_id = (
                contract
                or move.reversed_entry_id.security_contract_id
                or move.security_contract_id
            )

    @api.depends("move_type", "security_contract_id.security_is_mmr")
    def _compute_security_is_mmr(self):
        for move in self:
            move.security_is_mmr = move.move_type in (
                "out_invoice",
                "out_refund",
            ) and bool(move.security_contract_id.security_is_mmr)

    @api.depends("security_is_mmr", "security_is_payment")
    def _compute_security_in_balance(self):
        for move in self:
            move.security_in_balance = move.security_is_mmr or move.security_is_payment

    @api.depends("line_ids.security_period_start", "line_ids.security_period_end")
    def _compute_security_period(self):
        for move in self:
            starts = move.line_ids.filtered("security_period_start")
            move.security_period_start = min(
                starts.mapped("security_period_start"), default=False
            )
            move.security_period_end = max(
                starts.mapped("security_period_end"), default=False
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._security_check_balance_flags_create(vals_list)
        # context security_payment_move_vals: {payment id: values of its entry}
        # (integer keys: no XML-RPC or JSON-RPC caller can send them)
        by_payment = self.env.context.get("security_payment_move_vals")
        if by_payment:
            vals_list = [
                dict(by_payment.get(vals.get("origin_payment_id"), {}), **vals)
                for vals in vals_list
            ]
        return super().create(vals_list)

    # ------------------------------------------------ what makes a balance
    @api.model
    def _security_balance_flag_fields(self):
        """Fields deciding whether an entry counts in a subscriber's balance:
        computed (``security_is_mmr``, ``security_in_balance``) or set by the
        payment channels when they create the entry (``security_is_payment``).
        Nobody writes them, over RPC or in a form."""
        return {"security_is_mmr", "security_in_balance", "security_is_payment"}

    @api.model
    def _security_refuse_balance_flags(self, fnames):
        labels = ", ".join(
            sorted(
                self._fields[fname]._description_string(self.env) for fname in fnames
            )
        )
        raise UserError(
            self.env._(
                "%(fields)s: computed from the contract and the payment channel, "
                "these fields cannot be written.",
                fields=labels,
            )
        )

    @api.model
    def _security_check_balance_flags_create(self, vals_list):
        """Only code running as superuser creates an entry already marked as
        a subscriber payment (the transfer of funds); the payment channels
        mark theirs through ``account.payment._security_create_posted``."""
        if self.env.su:
            return
        flags = self._security_balance_flag_fields()
        given = {fname for vals in vals_list for fname in flags if vals.get(fname)}
        if given:
            self._security_refuse_balance_flags(given)

    def _security_check_balance_flags_write(self, vals):
        if self.env.su:
            return
        flags = self._security_balance_flag_fields() & vals.keys()
        changed = {
            fname
            for fname in flags
            for move in self
            if self._field_will_change(move, vals, fname)
        }
        if changed:
            self._security_refuse_balance_flags(changed)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        mmr = posted.filtered(lambda m: m.security_is_mmr and m.is_invoice())
        if mmr:
            mmr.commercial_partner_id._security_apply_open_credit()
        return posted

    def write(self, vals):
        if self._security_is_unchanged_write(vals):
            return True
        self._security_check_balance_flags_write(vals)
        self._security_check_payment_entry_write(vals)
        return super().write(vals)

    # ------------------------------------------------ batch posting (billing run)
    def _security_post_batch(self):
        """Post the invoices of a billing run together.

        Same result as ``_post(soft=False)`` on each invoice; what Odoo does
        move by move is done once for the batch: the customers are subscribed
        as followers at once, the invoices that share a sequence are numbered
        from the first one, and ``checked`` (set at creation to the journal's
        value, see ``_security_prepare_batch_invoice_vals``) is not written
        again, and the customers' ranks are raised at once
        (``res.partner._security_batched_ranks``). The context key
        ``security_billing_batch_post`` enables this.
        """
        moves = self.with_context(security_billing_batch_post=True)
        moves._security_subscribe_partners()
        with self.env["res.partner"]._security_batched_ranks():
            moves._post(soft=False)
        return self

    @api.model
    def _security_prepare_batch_invoice_vals(self, journal):
        """Extra values of an invoice created to be posted by ``_security_post_batch``.

        ``name``: no draft number (Odoo would look up the last one for every
        draft); the number is given at posting. ``checked``: the value posting
        sets (the journal's *Auto-Check on Post*), so posting writes nothing.
        """
        return {"name": "/", "checked": journal.autocheck_on_post}

    @api.model
    def _security_add_line_amounts(self, invoice_vals):
        """Give the product lines of a customer invoice in company currency
        their amounts at creation (billing run).

        Odoo creates invoice lines without amounts, then writes each line's
        amounts (from its price, then from the tax computation). Here they
        are Odoo's amounts for a line without taxes or with taxes excluded
        from the price: price x (1 - discount) x quantity rounded to the
        currency, negative on a customer invoice. Odoo still computes the
        amounts of every line of a new invoice and writes those that differ
        (e.g. prices including taxes): these values only spare the writes.
        Other invoices are left to Odoo.
        """
        company = self.env["res.company"].browse(invoice_vals.get("company_id"))
        currency = company.currency_id
        if (
            invoice_vals.get("move_type") != "out_invoice"
            or invoice_vals.get("currency_id") != currency.id
        ):
            return invoice_vals
        for command in invoice_vals.get("invoice_line_ids", []):
            line_vals = command[2] if command[0] == Command.CREATE else None
            if (
                not line_vals
                or line_vals.get("display_type", "product") != "product"
                or {"amount_currency", "balance"} & line_vals.keys()
            ):
                continue
            discount = (line_vals.get("discount") or 0.0) / 100.0
            amount = -currency.round(
                line_vals["price_unit"] * (1.0 - discount) * line_vals["quantity"]
            )
            line_vals.update(amount_currency=amount, balance=amount)
        return invoice_vals

    def _security_is_unchanged_write(self, vals):
        """True for the ``checked`` that ``_post`` writes move by move when the
        moves already have it (batch posting only): that write would change
        nothing but cost a full write of each move."""
        return bool(
            self.env.context.get("security_billing_batch_post")
            and vals.keys() == {"checked"}
            and all(move.checked == vals["checked"] for move in self)
        )

    def _security_subscribe_partners(self):
        """Subscribe the customer of each invoice, as ``_post`` would one by one.

        Same followers and subtypes as ``message_subscribe`` (default subtypes
        of the model; the external ones for customers, i.e. ``partner_share``);
        inactive customers and existing followers are skipped. Posting then
        finds the customer already following and subscribes nobody.
        """
        partners = self.partner_id.filtered("active")
        if not partners:
            return
        Followers = self.env["mail.followers"].sudo()
        existing = {
            (follower.res_id, follower.partner_id.id)
            for follower in Followers.search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("partner_id", "in", partners.ids),
                ]
            )
        }
        default, _internal, external = self.env[
            "mail.message.subtype"
        ].default_subtypes(self._name)
        customers = partners.filtered("partner_share")
        Followers.create(
            [
                {
                    "res_model": self._name,
                    "res_id": move.id,
                    "partner_id": move.partner_id.id,
                    "subtype_ids": [
                        Command.set(
                            (external if move.partner_id in customers else default).ids
                        )
                    ],
                }
                for move in self
                if move.partner_id in partners
                and (move.id, move.partner_id.id) not in existing
            ]
        )
        self.invalidate_recordset(["message_follower_ids", "message_partner_ids"])

    def _compute_name(self):
        if not self.env.context.get("security_billing_batch_post"):
            return super()._compute_name()
        following = self.browse()
        groups = self._security_sequence_groups()
        for moves in groups:
            following |= moves[1:]
        super(AccountMove, self - following)._compute_name()
        for moves in groups:
            moves[1:]._security_number_after(moves[0])

    def _security_sequence_groups(self):
        """The moves to number now that Odoo would number one after the other
        in the same sequence, in Odoo's order: per journal, if every move of
        the journal in ``self`` is posted, has no number yet and shares the
        date, type and payment flag of the others (one billing run)."""
        groups = []
        ordered = self.sorted(lambda m: (m.date, m.ref or "", m._origin.id))
        for moves in ordered.grouped("journal_id").values():
            keys = {(m.date, m.move_type, bool(m.origin_payment_id)) for m in moves}
            numbered = moves.filtered(lambda m: m.name and m.name != "/")
            if (
                len(moves) > 1
                and len(keys) == 1
                and moves[0].date
                and not numbered
                and all(m.state == "posted" for m in moves)
            ):
                groups.append(moves)
        return groups

    def _security_number_after(self, previous):
        """Give these moves the numbers that follow ``previous`` in its sequence.

        ``previous`` was just numbered by Odoo (``_set_next_sequence``); Odoo
        would give each of these moves the last number + 1 in turn. The numbers
        are written at once; if one is taken meanwhile (unique index on
        posted names), Odoo numbers these moves one by one instead.
        """
        if not self:
            return
        format_string, format_values = previous._get_sequence_format_param(
            previous.name
        )
        # like _set_next_sequence: what is pending is written before the
        # savepoint, which may be rolled back
        self.flush_recordset()
        for move in self:
            format_values["seq"] += 1
            move.name = format_string.format(**format_values)
        # sequence prefix/number and the lines' move name follow the name
        # (recomputed together at the flush, not written move by move)
        self.modified(["name"])
        try:
            with self.env.cr.savepoint(flush=False), mute_logger("odoo.sql_db"):
                self.flush_recordset(["name"])
        except (pgerrors.ExclusionViolation, pgerrors.UniqueViolation):
            self.name = "/"
            for move in self:
                move._set_next_sequence()
        self.flush_recordset(["sequence_prefix", "sequence_number"])
        self._inverse_name()

    @api.model
    def _security_balance_rows(self, group_field, ids, date_ref=None):
        """Sum the open receivable lines that make up security balances.

        ``group_field`` is ``partner_id`` or ``security_contract_id``
        of account.move.line; returns ``{id: {field: value}}``. Past due is
        what fell due before ``date_ref`` (default: today); besides the
        balance fields, ``security_credit`` is the open credit (gross).
        """
        if not ids:
            return {}
        assert group_field in ("partner_id", "security_contract_id")
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(
            f"""
            SELECT l.{group_field},
                   SUM(-l.amount_residual),
                   SUM(GREATEST(l.amount_residual, 0)),
                   SUM(CASE WHEN l.amount_residual > 0
                             AND l.date_maturity < %(today)s
                            THEN l.amount_residual ELSE 0 END),
                   MIN(CASE WHEN l.amount_residual > 0 THEN l.date_maturity END),
                   SUM(GREATEST(-l.amount_residual, 0))
              FROM account_move_line l
             WHERE l.{group_field} IN %(ids)s
               AND l.security_in_balance
               AND l.parent_state = 'posted'
               AND l.amount_residual != 0
             GROUP BY l.{group_field}
            """,
            {
                "ids": tuple(ids),
                "today": date_ref or fields.Date.context_today(self),
            },
        )
        return {
            row[0]: {
                "security_balance": row[1],
                "security_balance_due": row[2],
                "security_past_due": row[3],
                "security_oldest_due_date": row[4],
                "security_next_payment_date": row[4],
                "security_credit": row[5],
            }
            for row in self.env.cr.fetchall()
        }

    # ------------------------------------------- posted payments of subscribers
    @api.model
    def _security_locked_payment_entry_fields(self):
        """Fields of a posted payment entry that the lock protects: its state
        (reset, cancel), items, accounting values and what makes it count as
        a payment of the subscriber (also the stored computed
        ``security_in_balance``, writable over RPC)."""
        return {
            "state",
            "line_ids",
            "partner_id",
            "date",
            "journal_id",
            "currency_id",
            "company_id",
            "origin_payment_id",
            "security_is_payment",
            "security_in_balance",
            "security_contract_id",
        }

    def _security_posted_payment_entries(self):
        """The posted entries among these of payments received from
        subscribers: entries of our payment channels and transfers of funds
        (``security_is_payment``) and entries of any posted payment of a
        subscriber."""
        return self.filtered(
            lambda move: (
                move.state == "posted"
                and (
                    move.security_is_payment
                    or move.origin_payment_id.filtered(
                        lambda payment: payment._security_is_posted_subscriber_payment()
                    )
                )
            )
        )

    def _security_check_posted_payment_change(self):
        """Refuse undoing a posted payment entry of a subscriber unless the
        company allows editing posted payments and the user is a Security
        Billing Manager (``res.company._security_check_payment_edit``; code
        running as superuser is trusted).

        Called by every path that undoes such an entry:

        - ``account.move``: ``button_draft``, ``button_cancel``, ``unlink``,
          ``write`` of ``_security_locked_payment_entry_fields`` (e.g. its
          state), ``_reverse_moves`` (the reversal wizard
          ``account.move.reversal``: ``refund_moves``, ``modify_moves``,
          ``reverse_moves``);
        - ``account.move.line``: ``create`` on the entry, ``write`` of its
          items' accounting fields (partner, account, amounts, entry),
          ``unlink``, ``remove_move_reconcile``;
        - ``account.partial.reconcile`` on the entry's receivable items:
          ``unlink`` (unreconcile, also from the invoice's payment widget
          ``account.move.js_remove_outstanding_partial`` or from the
          invoice's side) and ``write`` of what it settles.

        The payment itself (``account.payment``: ``action_draft``,
        ``action_cancel``, ``unlink``, ``write`` of its locked fields, among
        them its entry ``move_id``) follows the same rule through
        ``account.payment._security_check_posted_change``.
        """
        for move in self._security_posted_payment_entries():
            move.company_id._security_check_payment_edit(
                self.env._("Payment entry %(move)s", move=move.display_name)
            )

    def _security_check_payment_entry_write(self, vals):
        """The lock on writing ``vals`` on these entries: the posted payment
        entries whose locked fields would change."""
        locked = self._security_locked_payment_entry_fields() & vals.keys()
        if locked:
            self._security_posted_payment_entries().filtered(
                lambda move: any(
                    self._field_will_change(move, vals, fname) for fname in locked
                )
            )._security_check_posted_payment_change()

    def unlink(self):
        self._security_check_posted_payment_change()
        return super().unlink()

    def button_draft(self):
        self._security_check_posted_payment_change()
        return super().button_draft()

    def button_cancel(self):
        self._security_check_posted_payment_change()
        return super().button_cancel()

    def _reverse_moves(self, default_values_list=None, cancel=False):
        self._security_check_posted_payment_change()
        return super()._reverse_moves(default_values_list, cancel=cancel)

    @api.model
    def _security_search_balance(self, group_field, fname, operator, value):
        """Domain on ``id`` for a search on a computed security balance.

        One grouped SQL query over the same lines as ``_security_balance_rows``;
        records without open lines count as 0.
        """
        assert group_field in ("partner_id", "security_contract_id")
        if operator not in SEARCH_OPERATORS or isinstance(value, bool | str):
            raise UserError(
                self.env._(
                    "Unsupported search on %(field)s: %(operator)s %(value)r.",
                    field=fname,
                    operator=operator,
                    value=value,
                )
            )
        value = value or 0.0
        aggregate = BALANCE_AGGREGATES[fname]
        holds_for_zero = SEARCH_OPERATORS[operator](0.0, value)
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(
            f"""
            SELECT l.{group_field}
              FROM account_move_line l
             WHERE l.{group_field} IS NOT NULL
               AND l.security_in_balance
               AND l.parent_state = 'posted'
               AND l.amount_residual != 0
             GROUP BY l.{group_field}
            HAVING {"NOT" if holds_for_zero else ""} ({aggregate} {operator} %(value)s)
            """,
            {"value": value, "today": fields.Date.context_today(self)},
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        return [("id", "not in" if holds_for_zero else "in", ids)]
