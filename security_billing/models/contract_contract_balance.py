"""Balances of an MMR contract, its dates (paid until, next payment) and
the hook run in the transaction that moved its money."""

from odoo import fields, models

from .account_move import PAID_STATES


class ContractContract(models.Model):
    _name = "contract.contract"
    _inherit = ["contract.contract", "security.balance.mixin"]  # pylint: disable=consider-merging-classes-inherited

    _security_balance_move_field = "security_contract_id"

    security_recommended_amount = fields.Monetary(
        string="Recommended Payment",
        compute="_compute_security_recommended_amount",
        help="Amount suggested to the subscriber, by the company's method: "
        "balance due, plus the next period's fee, or N months of fee; "
        "open credit is deducted.",
    )

    def _security_balance_data(self):
        data = super()._security_balance_data()
        for contract_id, dates in self._security_date_data().items():
            data.setdefault(contract_id, {}).update(dates)
        return data

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

        Called by the payment entry point after the allocation, by credit
        notes and by a posted invoice that used open credit. A promise the
        money covers is kept, the service status may only improve here
        (dunning worsens it, daily), and the app export schedules an upload.
        Keep overrides cheap: this runs inside payment requests, under the
        locks of the allocation.

        :param str origin: what moved the money, logged on a status change
            (``payment``, ``credit_note``); an argument, never a context key.
        :return: True
        """
        self.env["security.promised.payment"]._close_covered(self)
        self._security_update_state(origin=origin, only_improve=True)
        # app status export: one debounced UPDATE, no lock waits
        self.env["security.app.connector"]._request_export(self)
        return True

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
