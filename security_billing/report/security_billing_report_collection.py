from odoo import fields, models
from odoo.tools import SQL


class SecurityBillingReportCollection(models.Model):
    """Posted MMR invoices with what was invoiced, what is paid of it and what
    is still due: the collection rate of a period is paid / invoiced of the
    invoices dated in it."""

    _name = "security.billing.report.collection"
    _inherit = "security.billing.report.view.mixin"
    _description = "Security Billing Collection Analysis"
    _auto = False
    _rec_name = "move_id"
    _order = "invoice_date desc, id desc"
    _depends = {
        "account.move": [
            "partner_id",
            "security_contract_id",
            "company_id",
            "invoice_date",
            "amount_total_signed",
            "amount_residual_signed",
            "security_is_mmr",
            "move_type",
            "state",
        ],
        "res.company": ["currency_id"],
    }

    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    invoice_date = fields.Date(readonly=True)
    amount_invoiced = fields.Monetary(string="Invoiced", readonly=True)
    amount_paid = fields.Monetary(string="Paid", readonly=True)
    amount_due = fields.Monetary(string="Still Due", readonly=True)
    is_paid = fields.Boolean(string="Fully Paid", readonly=True)

    def _query(self):
        return SQL(
            """
            SELECT m.id, m.id AS move_id, m.partner_id,
                   m.security_contract_id AS contract_id, m.company_id,
                   rc.currency_id, m.invoice_date,
                   m.amount_total_signed AS amount_invoiced,
                   m.amount_total_signed - m.amount_residual_signed AS amount_paid,
                   m.amount_residual_signed AS amount_due,
                   m.amount_residual_signed = 0 AS is_paid
              FROM account_move m
              JOIN res_company rc ON rc.id = m.company_id
             WHERE m.security_is_mmr
               AND m.move_type = 'out_invoice'
               AND m.state = 'posted'
            """
        )

    def _rates(self, domain):
        """``{company_id: (invoiced, paid, rate in %)}`` of the rows of
        ``domain`` (rate None when nothing was invoiced)."""
        rates = {}
        for company, invoiced, paid in self._read_group(
            domain, ["company_id"], ["amount_invoiced:sum", "amount_paid:sum"]
        ):
            rate = paid / invoiced * 100 if invoiced else None
            rates[company.id] = (invoiced, paid, rate)
        return rates
