import logging

from psycopg2 import OperationalError

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY

from .account_move import PAID_STATES

_logger = logging.getLogger(__name__)

# A billing run bills at most this many overdue periods per contract.
MAX_CATCH_UP = 36

SECURITY_STATES = [
    ("active", "Active"),
    ("warning", "Warning"),
    ("suspended", "Suspended"),
    ("terminated", "Terminated"),
]
# The service status: written by dunning (as the system) and by managers.
SECURITY_STATUS_FIELDS = (
    "security_state",
    "security_state_since",
    "security_override_state",
    "security_override_until",
    "security_override_reason",
)


class ContractContract(models.Model):
    _inherit = "contract.contract"

    security_is_mmr = fields.Boolean(
        string="MMR Contract",
        compute="_compute_security_is_mmr",
        store=True,
        index=True,
    )
    security_site_ids = fields.One2many(
        "security.site", "contract_id", string="Protected Sites"
    )
    security_state = fields.Selection(
        SECURITY_STATES,
        string="Service Status",
        default="active",
        required=True,
        tracking=True,
        index=True,
        copy=False,
    )
    security_blocked = fields.Boolean(
        string="Blocked",
        compute="_compute_security_blocked",
        store=True,
        help="The vendor app and convenience services are locked.",
    )
    security_monthly_fee = fields.Monetary(
        string="Monthly Fee",
        compute="_compute_security_monthly_fee",
        currency_field="currency_id",
        help="MMR per month, whatever the billing frequency.",
    )
    security_balance = fields.Monetary(
        string="Balance",
        compute="_compute_security_balances",
        search="_search_security_balance",
    )
    security_balance_due = fields.Monetary(
        string="Balance Due",
        compute="_compute_security_balances",
        search="_search_security_balance_due",
    )
    security_past_due = fields.Monetary(
        string="Past Due",
        compute="_compute_security_balances",
        search="_search_security_past_due",
    )
    security_paid_until = fields.Date(
        string="Paid Until", compute="_compute_security_balances"
    )
    security_next_payment_date = fields.Date(
        string="Next Payment Date", compute="_compute_security_balances"
    )

    @api.depends("contract_line_ids.product_id.security_is_mmr")
    def _compute_security_is_mmr(self):
        for contract in self:
            contract.security_is_mmr = any(
                contract.contract_line_ids.product_id.mapped("security_is_mmr")
            )

    @api.depends("security_state")
    def _compute_security_blocked(self):
        """Blocked while the service status is suspended or terminated.

        Stored (the app status export reads the column). The status is the
        only input: overrides, promised payments, paid-until dates and the
        days past due act through dunning and the override wizard, which
        write ``security_state`` (``_security_set_state``), so the stored
        value follows them without a daily recompute.
        """
        for contract in self:
            contract.security_blocked = contract.security_state in (
                "suspended",
                "terminated",
            )

    @api.depends("contract_line_ids.monthly_recurring")
    def _compute_security_monthly_fee(self):
        for contract in self:
            contract.security_monthly_fee = sum(
                contract.contract_line_ids.mapped("monthly_recurring")
            )

    def _search_security_balance(self, operator, value):
        return self.env["account.move"]._security_search_balance(
            "security_contract_id", "security_balance", operator, value
        )

    def _search_security_balance_due(self, operator, value):
        return self.env["account.move"]._security_search_balance(
            "security_contract_id", "security_balance_due", operator, value
        )

    def _search_security_past_due(self, operator, value):
        return self.env["account.move"]._security_search_balance(
            "security_contract_id", "security_past_due", operator, value
        )

    def _compute_security_balances(self):
        rows = self.env["account.move"]._security_balance_rows(
            "security_contract_id", self.ids
        )
        dates = self._security_date_data()
        for contract in self:
            values = dict(rows.get(contract.id, {}), **dates.get(contract.id, {}))
            contract.security_balance = values.get("security_balance", 0.0)
            contract.security_balance_due = values.get("security_balance_due", 0.0)
            contract.security_past_due = values.get("security_past_due", 0.0)
            contract.security_paid_until = values.get("security_paid_until", False)
            contract.security_next_payment_date = values.get(
                "security_next_payment_date", False
            )

    def _security_date_data(self):
        """Paid-until and next payment date per contract, set-based.

        Paid until: end of the service period of the latest MMR invoice that
        is paid with all earlier ones paid. Next payment date: due date of the
        oldest unpaid MMR invoice, else the next invoice date.
        """
        if not self.ids:
            return {}
        self.env["account.move"].flush_model()
        self.env.cr.execute(
            """
            WITH inv AS (
                SELECT security_contract_id AS contract_id,
                       COALESCE(security_period_start, invoice_date) AS p_start,
                       COALESCE(security_period_end, invoice_date) AS p_end,
                       invoice_date_due AS due,
                       payment_state IN %(paid)s AS paid
                  FROM account_move
                 WHERE security_contract_id IN %(ids)s
                   AND security_is_mmr AND move_type = 'out_invoice'
                   AND state = 'posted'
            ), first_unpaid AS (
                SELECT contract_id, MIN(p_start) AS p_start, MIN(due) AS due
                  FROM inv WHERE NOT paid GROUP BY contract_id
            ), paid_until AS (
                -- grouped join, not a subquery per contract: linear in size
                SELECT inv.contract_id, MAX(inv.p_end) AS p_end
                  FROM inv
                  LEFT JOIN first_unpaid fu ON fu.contract_id = inv.contract_id
                 WHERE inv.paid
                   AND (fu.p_start IS NULL OR inv.p_start < fu.p_start)
                 GROUP BY inv.contract_id
            )
            SELECT c.id, pu.p_end, COALESCE(fu.due, c.recurring_next_date)
              FROM contract_contract c
              LEFT JOIN first_unpaid fu ON fu.contract_id = c.id
              LEFT JOIN paid_until pu ON pu.contract_id = c.id
             WHERE c.id IN %(ids)s
            """,
            {"ids": tuple(self.ids), "paid": PAID_STATES},
        )
        return {
            row[0]: {
                "security_paid_until": row[1],
                "security_next_payment_date": row[2],
            }
            for row in self.env.cr.fetchall()
        }

    def _security_on_balance_changed(self, origin="payment"):
        """Hook: money moved for these contracts in the current transaction.

        Dunning recomputes the service status here; the app export schedules
        an upload. ``origin``: what moved the money, as logged on a status
        change (``payment``, ``credit_note``). Keep overrides cheap: this runs
        inside payment requests.
        """
        self.env["security.promised.payment"]._security_close_covered(self)
        self._security_update_state(origin=origin, only_improve=True)
        # app status export (issue 6): one debounced UPDATE, no lock waits
        self.env["security.app.connector"]._security_request_export(self)
        return True

    # ------------------------------------------------------ recommended amount
    security_recommended_amount = fields.Monetary(
        string="Recommended Payment",
        compute="_compute_security_recommended_amount",
        help="Amount suggested to the subscriber, by the company's method: "
        "balance due, plus the next period's fee, or N months of fee; "
        "open credit is deducted.",
    )

    def _compute_security_recommended_amount(self):
        amounts = self._security_recommended_amount()
        for contract in self:
            contract.security_recommended_amount = amounts.get(contract.id, 0.0)

    def _security_recommended_amount(self):
        """Recommended payment per contract: ``{contract_id: amount}``.

        ``max(target - balance, 0)`` where balance is credit minus debt and
        target is 0 (balance due), the next period's fee with taxes (balance
        due + next period), or N months of fee with taxes (N months).
        """
        contracts = self.filtered("id")
        if not contracts:
            return {}
        rows = self.env["account.move"]._security_balance_rows(
            "security_contract_id", contracts.ids
        )
        result = {}
        for contract in contracts:
            company = contract.company_id
            method = company.security_recommended_method
            if method == "balance_due_next":
                target = contract._security_fee_with_taxes("price_subtotal")
            elif method == "months":
                target = company.security_recommended_months * (
                    contract._security_fee_with_taxes("monthly_recurring")
                )
            else:
                target = 0.0
            balance = rows.get(contract.id, {}).get("security_balance", 0.0)
            result[contract.id] = contract.currency_id.round(max(target - balance, 0.0))
        return result

    def _security_fee_with_taxes(self, amount_field):
        """Sum of ``amount_field`` of the running lines, taxes included."""
        self.ensure_one()
        total = 0.0
        for line in self._security_running_lines():
            taxes = line.product_id.taxes_id._filter_taxes_by_company(self.company_id)
            taxes = self.fiscal_position_id.map_tax(taxes)
            total += taxes.compute_all(
                line[amount_field],
                currency=self.currency_id,
                product=line.product_id,
                partner=self.partner_id,
            )["total_included"]
        return total

    def _security_running_lines(self):
        """Lines still invoiced in the future (not cancelled nor finished)."""
        self.ensure_one()
        return self.contract_line_ids.filtered(
            lambda line: (
                not line.display_type
                and not line.is_canceled
                and line.recurring_next_date
            )
        )

    # ------------------------------------- dunning, overrides, autopay (issue 5)
    security_state_since = fields.Date(string="Status Since", copy=False, readonly=True)
    security_state_log_ids = fields.One2many(
        "security.state.log", "contract_id", string="Status History"
    )
    security_monitoring_active = fields.Boolean(
        string="Monitoring Active",
        compute="_compute_security_service_status",
        help="Alarm monitoring continues: always for life-safety sites unless "
        "terminated, otherwise while not suspended.",
    )
    security_status_note = fields.Char(
        string="Service Note", compute="_compute_security_service_status"
    )
    security_override_state = fields.Selection(
        SECURITY_STATES,
        string="Override Status",
        copy=False,
        readonly=True,
        help="Status set by a manager, kept until the override end date.",
    )
    security_override_until = fields.Date(
        string="Override Until", copy=False, readonly=True
    )
    security_override_reason = fields.Char(
        string="Override Reason", copy=False, readonly=True
    )
    security_promise_ids = fields.One2many(
        "security.promised.payment", "contract_id", string="Promised Payments"
    )
    security_autopay_token_id = fields.Many2one(
        "payment.token",
        string="Autopay Method (this contract)",
        copy=False,
        domain="[('partner_id', 'child_of', partner_id)]",
        help="Charged instead of the subscriber's saved billing method.",
    )
    security_autopay_active = fields.Boolean(
        string="Autopay", compute="_compute_security_autopay_active"
    )
    security_autopay_attempt_ids = fields.One2many(
        "security.autopay.attempt", "contract_id", string="Autopay Attempts"
    )

    @api.depends(
        "security_state", "security_site_ids.life_safety", "security_override_state"
    )
    def _compute_security_service_status(self):
        for contract in self:
            state = contract.security_state
            life_safety = any(contract.security_site_ids.mapped("life_safety"))
            contract.security_monitoring_active = state in ("active", "warning") or (
                state == "suspended" and life_safety
            )
            contract.security_status_note = contract._security_status_text(life_safety)

    def _security_status_text(self, life_safety):
        self.ensure_one()
        state = self.security_state
        if state == "warning":
            return self.env._(
                "Payment overdue: service continues, pay to avoid suspension."
            )
        if state == "suspended" and life_safety:
            return self.env._(
                "Suspended for non-payment: app and convenience services "
                "blocked; life-safety monitoring continues."
            )
        if state == "suspended":
            return self.env._(
                "Suspended for non-payment: app, convenience services and "
                "monitoring stopped."
            )
        if state == "terminated":
            return self.env._("Terminated: all services stopped.")
        return self.env._("Active: all services running.")

    @api.depends(
        "security_autopay_token_id.active",
        "partner_id.commercial_partner_id.security_autopay_token_id.active",
        "partner_id.commercial_partner_id.security_autopay_enabled",
    )
    def _compute_security_autopay_active(self):
        for contract in self:
            contract.security_autopay_active = bool(contract._security_autopay_token())

    def _security_autopay_token(self):
        """The token autopay charges for this contract, or an empty record."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        token = (
            self.sudo().security_autopay_token_id
            or partner.sudo().security_autopay_token_id
        )
        if not token.active or not partner._security_autopay_on():
            return token.browse()
        return token

    @api.constrains("security_autopay_token_id", "partner_id")
    def _check_security_autopay_token_owner(self):
        partners = self.env["res.partner"]
        for contract in self.sudo().filtered("security_autopay_token_id"):
            partners._security_check_owns_token(
                contract.partner_id, contract.security_autopay_token_id
            )

    @api.model_create_multi
    def create(self, vals_list):
        new_contract = {"security_state": "active"}  # and no override
        for vals in vals_list:
            self._security_check_state_change(
                {
                    fname: value
                    for fname, value in vals.items()
                    if value != new_contract.get(fname, False)
                }
            )
        return super().create(vals_list)

    def write(self, vals):
        self._security_check_state_change(vals)
        return super().write(vals)

    def _security_check_state_change(self, vals):
        """Only a Security Billing Manager (or the system: dunning, the
        override wizard) changes the service status and its overrides; a
        read-only field in a view is no permission."""
        fnames = [fname for fname in SECURITY_STATUS_FIELDS if fname in vals]
        if (
            not fnames
            or self.env.su
            or self.env.user.has_group(
                "security_billing.group_security_billing_manager"
            )
        ):
            return
        raise AccessError(
            self.env._(
                "Only a Security Billing Manager may change the service status "
                "of %(contracts)s (%(fields)s).",
                contracts=", ".join(self.mapped("display_name"))
                or self.env._("a new contract"),
                fields=", ".join(fnames),
            )
        )

    def _security_override_active(self, date_ref):
        self.ensure_one()
        return bool(self.security_override_state) and (
            not self.security_override_until or self.security_override_until >= date_ref
        )

    def _security_update_state(self, date_ref=None, origin="cron", only_improve=False):
        """Recompute the service status of these contracts (dunning rules)."""
        return self.env["security.dunning"]._security_recompute(
            self, date_ref=date_ref, origin=origin, only_improve=only_improve
        )

    def _security_set_state(self, state, reason, origin, date_ref, amount=0.0):
        """Write the new status, log it and tell the customer."""
        self.ensure_one()
        old = self.security_state
        self.sudo().write({"security_state": state, "security_state_since": date_ref})
        # app status export (issue 6): the app shows the new lock state soon
        self.env["security.app.connector"]._security_request_export(self)
        log = (
            self.env["security.state.log"]
            .sudo()
            .create(
                {
                    "contract_id": self.id,
                    "old_state": old,
                    "new_state": state,
                    "reason": reason,
                    "origin": origin,
                    "date_ref": date_ref,
                }
            )
        )
        self._security_notify_state_change(log, amount)
        return log

    def _security_notify_state_change(self, log, amount):
        self.ensure_one()
        event = False
        if log.new_state == "suspended":
            event = "suspended"
        elif log.old_state in ("suspended", "terminated"):
            event = "restored"
        elif log.new_state == "warning" and log.old_state == "active":
            event = "past_due"
        if event:
            self.env["security.notification.log"]._security_notify(
                event,
                log,
                self.partner_id.commercial_partner_id,
                amount=amount,
                date_value=log.date_ref,
                note=log.reason,
                contract_id=self,
                company_id=self.company_id,
            )

    def _security_set_override(self, state, date_until, reason):
        """Manager override of the service status until ``date_until``."""
        if not self.env.user.has_group(
            "security_billing.group_security_billing_manager"
        ):
            raise UserError(
                self.env._("Only a Security Billing Manager may override a status.")
            )
        if not reason or not date_until:
            raise UserError(self.env._("An override needs a reason and an end date."))
        self.sudo().write(
            {
                "security_override_state": state,
                "security_override_until": date_until,
                "security_override_reason": reason,
            }
        )
        return self._security_update_state(origin="override")

    def _security_end_overrides(self, date_ref):
        """Clear the overrides that ended before ``date_ref`` and recompute."""
        ended = self.filtered(
            lambda c: (
                c.security_override_state
                and c.security_override_until
                and c.security_override_until < date_ref
            )
        )
        ended.sudo().write(
            {
                "security_override_state": False,
                "security_override_until": False,
                "security_override_reason": False,
            }
        )
        return ended._security_update_state(date_ref=date_ref, origin="override")

    @api.model
    def _cron_security_dunning(self, date_ref=None):
        return self._security_run_dunning(date_ref=date_ref)

    @api.model
    def _security_run_dunning(self, date_ref=None):
        """Daily: end overrides, expire promises, recompute every MMR contract."""
        date_ref = date_ref or fields.Date.context_today(self)
        contracts = self.search(
            [
                ("security_is_mmr", "=", True),
                ("company_id", "in", self.env.companies.ids),
            ]
        )
        contracts._security_end_overrides(date_ref)
        self.env["security.promised.payment"]._security_expire(date_ref)
        return contracts._security_update_state(date_ref=date_ref, origin="cron")

    # ------------------------------------------- billing frequencies (issue 3)
    def _compute_recurring_next_date(self):
        """Prorated contracts align their periods: compute them one by one."""
        prorated, others = self._security_split_prorated()
        res = super(ContractContract, others)._compute_recurring_next_date()
        for contract in prorated:
            super(ContractContract, contract)._compute_recurring_next_date()
        return res

    # ------------------------------------------------------ billing run (issue 3)
    @api.model
    def _get_contracts_to_invoice_domain(self, date_ref=None):
        """MMR contracts are billed (and posted) by the security billing run
        only (``_security_billing_run_domain``): the stock OCA cron bills the
        other contracts, so it never leaves draft invoices of MMR contracts
        behind, whatever its caller's context."""
        domain = super()._get_contracts_to_invoice_domain(date_ref)
        return expression.AND([domain, [("security_is_mmr", "=", False)]])

    @api.model
    def _security_billing_run_domain(self, date_ref=None):
        """The contracts a billing run bills: OCA's due contracts that are MMR
        sale contracts generating invoices."""
        domain = super()._get_contracts_to_invoice_domain(date_ref)
        return expression.AND(
            [
                domain,
                [
                    ("security_is_mmr", "=", True),
                    ("contract_type", "=", "sale"),
                    ("generation_type", "=", "invoice"),
                ],
            ]
        )

    def _prepare_invoice(self, date_invoice, journal=None):
        vals = super()._prepare_invoice(date_invoice, journal=journal)
        if not (
            vals.get("invoice_payment_term_id")
            or self.partner_id.with_company(self.company_id).property_payment_term_id
        ):
            # Without payment terms Odoo makes the invoice due on the day it is
            # created: an invoice dated in the past would never be past due.
            vals["invoice_date_due"] = date_invoice
        if self.env.context.get("security_billing_run"):
            vals.update(self._security_prepare_billing_run_invoice_vals(vals))
        return vals

    def _prepare_recurring_invoices_values(self, date_ref=False):
        self._security_prefetch_invoicing_data()
        invoices_values = super()._prepare_recurring_invoices_values(date_ref=date_ref)
        if self.env.context.get("security_billing_run"):
            Move = self.env["account.move"]
            for invoice_vals in invoices_values:
                Move._security_add_line_amounts(invoice_vals)
        return invoices_values

    def _security_prefetch_invoicing_data(self):
        """Read at once what OCA reads contract by contract while preparing
        the invoices: the lines it invoices come from one search per contract
        (``_get_lines_to_invoice``), so their partners would be read one by
        one (the language of each line's markers, the invoice partner)."""
        self.mapped("partner_id.lang")
        self.mapped("invoice_partner_id.lang")

    def _security_prepare_billing_run_invoice_vals(self, vals):
        """Values of an invoice of a billing run (posted by batch, see
        ``_security_bill``).

        The contract is set at once instead of being computed from the lines
        (every line of the invoice comes from this contract).
        """
        self.ensure_one()
        journal = self.env["account.journal"].browse(vals["journal_id"])
        run_vals = self.env["account.move"]._security_prepare_batch_invoice_vals(
            journal
        )
        run_vals["security_contract_id"] = self.id
        run_id = self.env.context.get("security_billing_run_id")
        if run_id:
            run_vals["security_billing_run_id"] = run_id
        return run_vals

    @api.model
    def _add_contract_origin(self, invoices):
        # A billing run links its invoices to the run and the contract
        # (security_contract_id): no chatter message per invoice.
        if self.env.context.get("security_billing_run"):
            return
        return super()._add_contract_origin(invoices)

    def _security_bill_due(self, date_ref):
        """Create and post every due period of these contracts.

        Contracts behind by several periods are caught up (one invoice per
        period, up to ``MAX_CATCH_UP``). Returns ``(moves, errors)`` where
        errors are ``[(contract, message)]``; failing contracts are skipped.
        """
        moves = self.env["account.move"]
        errors = []
        todo = self.with_context(security_billing_run=True)
        for _round in range(MAX_CATCH_UP):
            todo = todo._security_filter_due(date_ref)
            todo, already = todo._security_split_already_invoiced(date_ref)
            errors += already
            if not todo:
                break
            new_moves, new_errors = todo._security_bill_isolating(date_ref)
            moves |= new_moves
            errors += new_errors
            todo -= self.browse([contract.id for contract, _msg in new_errors])
        return moves, errors

    def _security_filter_due(self, date_ref):
        domain = self._security_billing_run_domain(date_ref)
        return self.filtered_domain(domain).filtered(
            lambda c: not c.date_end or c.recurring_next_date <= c.date_end
        )

    def _security_split_already_invoiced(self, date_ref):
        """Guard: a period start already on a valid invoice is never billed again.

        Returns ``(contracts to bill, [(contract, message)])``.
        """
        pending = {}
        for contract in self:
            for line in contract.contract_line_ids:
                if not line.display_type and line._can_be_invoiced(date_ref):
                    pending[line.id] = (contract, line.next_period_date_start)
        if not pending:
            return self, []
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(
            """
            SELECT DISTINCT t.line_id, m.name
              FROM unnest(%s::int[], %s::date[]) AS t(line_id, period_start)
              JOIN account_move_line l
                ON l.contract_line_id = t.line_id
               AND l.security_period_start = t.period_start
              JOIN account_move m
                ON m.id = l.move_id
               AND m.state != 'cancel'
               AND m.move_type = 'out_invoice'
            """,
            [list(pending), [start for _c, start in pending.values()]],
        )
        errors, blocked = [], self.browse()
        for line_id, move_name in self.env.cr.fetchall():
            contract, start = pending[line_id]
            if contract in blocked:
                continue
            blocked |= contract
            errors.append(
                (
                    contract,
                    self.env._(
                        "The period from %(start)s is already invoiced by "
                        "%(invoice)s: not billed again. Check the contract's "
                        "next invoice date.",
                        start=start,
                        invoice=move_name,
                    ),
                )
            )
        return self - blocked, errors

    def _security_bill_isolating(self, date_ref):
        """Bill these contracts together; on failure, isolate the culprits.

        The set is billed in one savepoint; if it fails it is split in two
        and each half retried, down to single contracts, whose error is
        returned. Returns ``(moves, [(contract, message)])``.
        """
        try:
            with self.env.cr.savepoint():
                return self._security_bill(date_ref), []
        except OperationalError as exc:
            if exc.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY:
                raise  # a concurrent transaction: the whole chunk is retried
            error = exc
        except Exception as exc:  # logged and skipped
            error = exc
        if len(self) == 1:
            _logger.warning("Billing of contract %s failed: %s", self.id, error)
            return self.env["account.move"], [
                (self, self._security_error_message(error))
            ]
        half = len(self) // 2
        moves_a, errors_a = self[:half]._security_bill_isolating(date_ref)
        moves_b, errors_b = self[half:]._security_bill_isolating(date_ref)
        return moves_a | moves_b, errors_a + errors_b

    def _security_bill(self, date_ref):
        """Create the next invoices of these contracts and post them together."""
        moves = self._recurring_create_invoice(date_ref)
        moves._security_post_batch()
        return moves

    @api.model
    def _security_error_message(self, exc):
        if isinstance(exc, UserError | ValidationError):
            return exc.args[0]
        return f"{type(exc).__name__}: {exc}"

    # ------------------------------------------------------------ bundles
    @api.model
    def _security_create_from_template(self, template, partner, date_start, **vals):
        """Create the contract of ``partner`` from a bundle (contract template)."""
        return self.create(
            dict(
                self._security_prepare_template_vals(template, partner, date_start),
                **vals,
            )
        )

    @api.model
    def _security_prepare_template_vals(self, template, partner, date_start):
        recurrence = {
            fname: template[fname]
            for fname in (
                "line_recurrence",
                "recurring_rule_type",
                "recurring_interval",
                "recurring_invoicing_type",
                "security_prorate_first_period",
            )
        }
        return dict(
            recurrence,
            name=f"{template.name} - {partner.name}",
            partner_id=partner.id,
            company_id=template.company_id.id,
            contract_template_id=template.id,
            contract_type=template.contract_type,
            journal_id=template.journal_id.id,
            pricelist_id=template.pricelist_id.id,
            date_start=date_start,
            contract_line_ids=[
                Command.create(line._security_prepare_contract_line_vals(date_start))
                for line in template.contract_line_ids
            ],
        )
