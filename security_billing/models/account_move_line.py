from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    security_period_start = fields.Date(copy=False)
    security_period_end = fields.Date(copy=False)
    security_contract_id = fields.Many2one(
        related="move_id.security_contract_id", store=True, index=True
    )
    security_in_balance = fields.Boolean(
        compute="_compute_security_in_balance", store=True, index=True
    )

    @api.depends("move_id.security_in_balance", "account_id.account_type")
    def _compute_security_in_balance(self):
        for line in self:
            line.security_in_balance = (
                line.move_id.security_in_balance
                and line.account_id.account_type == "asset_receivable"
            )

    def write(self, vals):
        self._security_check_balance_fields_write(vals)
        self._security_check_payment_entry_write(vals)
        # Odoo tracks the changed fields of posted entries' lines; with no
        # tracked field in vals it still describes every field of the model
        # (fields_get([])): e.g. twice per reconciliation, which resets the
        # invoice lines' dirty flags (kept in cache only, never tracked).
        if vals and all(self._security_is_cache_only(fname) for fname in vals):
            return super(
                AccountMoveLine, self.with_context(tracking_disable=True)
            ).write(vals)
        return super().write(vals)

    @api.model
    def _security_is_cache_only(self, fname):
        """A field written to the cache only: not stored, no inverse."""
        field = self._fields.get(fname)
        return bool(field) and not field.store and not field.inverse

    # ------------------------------------------------ what makes a balance
    @api.model
    def _security_balance_fields(self):
        """Stored computed fields of the items the balances are summed from:
        reconciliation computes them, nobody writes them."""
        return {
            "security_in_balance",
            "amount_residual",
            "amount_residual_currency",
            "reconciled",
        }

    def _security_check_balance_fields_write(self, vals):
        """Refuse writing the balance fields of items that count in a
        subscriber's balance (code running as superuser is trusted)."""
        fnames = self._security_balance_fields() & vals.keys()
        if not fnames or self.env.su:
            return
        Move = self.env["account.move"]
        changed = {
            fname
            for line in self.filtered("security_in_balance")
            for fname in fnames
            if Move._field_will_change(line, vals, fname)
        }
        if changed:
            self.browse()._security_refuse_balance_fields(changed)

    @api.model
    def _security_refuse_balance_fields(self, fnames):
        labels = ", ".join(
            sorted(
                self._fields[fname]._description_string(self.env) for fname in fnames
            )
        )
        raise UserError(
            self.env._(
                "%(fields)s: computed from the reconciliations of the subscriber's "
                "items, these fields cannot be written.",
                fields=labels,
            )
        )

    # ------------------------------------------- posted payments of subscribers
    @api.model
    def _security_locked_payment_line_fields(self):
        """Fields of the items of a posted payment entry that the lock
        protects: Odoo's lock-date and reconciliation fields (partner,
        account, amounts, date...), the entry they belong to and the stored
        computed fields the balances are summed from (writable over RPC)."""
        protected = self._get_lock_date_protected_fields()
        return (
            set(protected["fiscal"])
            | set(protected["reconciliation"])
            | {
                "move_id",
                "debit",
                "credit",
                "amount_residual",
                "amount_residual_currency",
                "reconciled",
                "parent_state",
                "security_in_balance",
                "security_contract_id",
            }
        )

    def _security_check_payment_entry_write(self, vals):
        """The lock on writing ``vals`` on these items: the posted payment
        entries whose items' locked fields would change, or that would get
        an item (``move_id``)."""
        locked = self._security_locked_payment_line_fields() & vals.keys()
        if not locked:
            return
        Move = self.env["account.move"]
        entries = self.move_id._security_posted_payment_entries()
        changed = self.filtered(
            lambda line: (
                line.move_id in entries
                and any(Move._field_will_change(line, vals, fname) for fname in locked)
            )
        )
        target = Move.browse(vals.get("move_id") or [])
        (changed.move_id | target)._security_check_posted_payment_change()

    @api.model_create_multi
    def create(self, vals_list):
        move_ids = {vals["move_id"] for vals in vals_list if vals.get("move_id")}
        if move_ids:
            self.env["account.move"].browse(
                move_ids
            )._security_check_posted_payment_change()
        return super().create(vals_list)

    def unlink(self):
        self.move_id._security_check_posted_payment_change()
        return super().unlink()

    def remove_move_reconcile(self):
        (
            self.matched_debit_ids | self.matched_credit_ids
        )._security_check_posted_payment_change()
        return super().remove_move_reconcile()

    @api.model
    def _security_get_open_mmr_debits_many(self, keys):
        """Open receivable lines of MMR invoices per ``(partner_id,
        contract_id or False)`` key, oldest first, all row-locked by one query
        (in id order, so concurrent allocations lock in the same order).

        Returns ``{key: lines}``; a key without a contract takes every open
        MMR debit of the partner, a key with one that contract's only.
        """
        keys = set(keys)
        result = {key: self.browse() for key in keys}
        if not keys:
            return result
        domain = [
            ("partner_id", "in", list({partner_id for partner_id, _c in keys})),
            ("security_in_balance", "=", True),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
            ("amount_residual", ">", 0),
            ("company_id", "=", self.env.company.id),
        ]
        lines = self.search(domain, order="date_maturity, date, id")
        if not lines:
            return result
        self.env.cr.execute(
            "SELECT id FROM account_move_line WHERE id IN %s ORDER BY id FOR UPDATE",
            [tuple(lines.ids)],
        )
        lines.invalidate_recordset(["amount_residual", "reconciled"])
        by_partner = {}
        for line in lines:
            by_partner.setdefault(line.partner_id.id, []).append(line.id)
        for partner_id, contract_id in keys:
            ids = by_partner.get(partner_id, [])
            found = self.browse(ids)
            if contract_id:
                found = found.filtered(
                    lambda line, c=contract_id: line.security_contract_id.id == c
                )
            result[(partner_id, contract_id)] = found
        return result

    def _security_allocate_oldest_first(self, contract=None):
        """Reconcile these open receivable credit lines oldest invoice first.

        The one allocation function of every channel (manual, bank, terminal,
        portal, autopay, credit carried to a new invoice). A credit line bound
        to a contract pays that contract's invoices only. What is left stays
        open as customer credit. Credits are served in the order of ``self``,
        each from the oldest invoice its predecessors left open: the open
        debits of all of them are found and row-locked by one query and the
        whole plan is reconciled at once (the same partials as reconciling
        each credit with each debit in turn).

        :param contract: ``contract.contract`` whose invoices all these
            credits pay (default: each credit line's own contract; none: any
            MMR invoice of its subscriber).
        :return: ``[{"invoice": move, "amount": x, "line": credit line}]``,
            in reconciliation order; empty when no credit of ``self`` is open
            or nothing is due.
        :rtype: list
        """
        credits = self.filtered(lambda line: line.amount_residual < 0)
        if not credits:
            return []
        keys = {
            credit: (
                credit.partner_id.commercial_partner_id.id,
                (contract or credit.security_contract_id).id or False,
            )
            for credit in credits
        }
        debits_by_key = self._security_get_open_mmr_debits_many(keys.values())
        plan = credits._security_plan_allocation(keys, debits_by_key)
        if not plan:
            return []
        partials = self._security_reconcile_allocation(plan)
        amounts = {
            (partial.credit_move_id.id, partial.debit_move_id.id): partial.amount
            for partial in partials
        }
        return [
            {
                "invoice": debit.move_id,
                "amount": amounts.get((credit.id, debit.id), 0.0),
                "line": credit,
            }
            for credit, debit in plan
        ]

    @api.model
    def _security_reconcile_allocation(self, plan):
        """Reconcile the ``[(credit, debit)]`` of ``plan``; return the
        partials it made.

        Odoo's ``_reconcile_plan`` does not return them: they are the
        partials between the planned credits and debits that were not there
        before (one query before, one after). A partial made meanwhile on
        other lines (another subscriber's, or a planned credit's with a line
        outside the plan) is not among them, whatever its id.
        """
        known = self._security_get_plan_partial_ids(plan)
        self._reconcile_plan([credit | debit for credit, debit in plan])
        return self._security_get_new_plan_partials(plan, known)

    @api.model
    def _security_get_plan_partial_ids(self, plan):
        """Ids of the partials between the credits and the debits of
        ``plan``, by one query."""
        self.env["account.partial.reconcile"].flush_model(
            ["credit_move_id", "debit_move_id"]
        )
        self.env.cr.execute(
            """
            SELECT id FROM account_partial_reconcile
             WHERE credit_move_id IN %s AND debit_move_id IN %s
            """,
            [
                tuple({credit.id for credit, _debit in plan}),
                tuple({debit.id for _credit, debit in plan}),
            ],
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _security_get_new_plan_partials(self, plan, known_ids):
        """The partials between the credits and the debits of ``plan`` that
        are not among ``known_ids`` (read before reconciling it)."""
        new_ids = self._security_get_plan_partial_ids(plan) - set(known_ids)
        return self.env["account.partial.reconcile"].browse(sorted(new_ids))

    def _security_plan_allocation(self, keys, debits_by_key):
        """``[(credit, debit)]`` in reconciliation order: each credit line of
        ``self`` takes the oldest debits of its key until it is used up, on
        residual amounts that follow the plan (several credits of one
        subscriber share its debits)."""
        residuals = {}
        plan = []
        for credit in self:
            rounding = credit.company_currency_id.rounding
            left = -credit.amount_residual
            for debit in debits_by_key[keys[credit]]:
                if float_is_zero(left, precision_rounding=rounding):
                    break
                open_amount = residuals.get(debit.id, debit.amount_residual)
                if float_compare(open_amount, 0.0, precision_rounding=rounding) <= 0:
                    continue
                paid = min(left, open_amount)
                residuals[debit.id] = open_amount - paid
                left -= paid
                plan.append((credit, debit))
        return plan
