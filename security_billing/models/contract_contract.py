from odoo import api, fields, models

from .account_move import PAID_STATES

SECURITY_STATES = [
    ("active", "Active"),
    ("warning", "Warning"),
    ("suspended", "Suspended"),
    ("terminated", "Terminated"),
]


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
        help="The vendor app and convenience services are locked.",
    )
    security_monthly_fee = fields.Monetary(
        string="Monthly Fee",
        compute="_compute_security_monthly_fee",
        currency_field="currency_id",
        help="MMR per month, whatever the billing frequency.",
    )
    security_balance = fields.Monetary(
        string="Balance", compute="_compute_security_balances"
    )
    security_balance_due = fields.Monetary(
        string="Balance Due", compute="_compute_security_balances"
    )
    security_past_due = fields.Monetary(
        string="Past Due", compute="_compute_security_balances"
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
            )
            SELECT c.id,
                   (SELECT MAX(inv.p_end) FROM inv
                     WHERE inv.contract_id = c.id AND inv.paid
                       AND (fu.p_start IS NULL OR inv.p_start < fu.p_start)),
                   COALESCE(fu.due, c.recurring_next_date)
              FROM contract_contract c
              LEFT JOIN first_unpaid fu ON fu.contract_id = c.id
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

    def _security_on_balance_changed(self):
        """Hook: money moved for these contracts in the current transaction.

        Dunning recomputes the service status here; the app export schedules
        an upload. Keep overrides cheap: this runs inside payment requests.
        """
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
