from odoo import fields, models
from odoo.tools import SQL


class SecurityBillingReportPayment(models.Model):
    """Posted payments received from subscribers through the billing channels,
    by payment category (bank, terminal, portal, cash desk...) and journal."""

    _name = "security.billing.report.payment"
    _inherit = "security.billing.report.view.mixin"
    _description = "Security Billing Payments Analysis"
    _auto = False
    _rec_name = "payment_id"
    _order = "date desc, id desc"
    _depends = {
        "account.payment": [
            "move_id",
            "partner_id",
            "security_contract_id",
            "security_category_id",
            "journal_id",
            "amount_company_currency_signed",
            "payment_type",
        ],
        "account.move": ["date", "security_is_payment", "state", "company_id"],
        "res.company": ["currency_id"],
    }

    payment_id = fields.Many2one("account.payment", readonly=True)
    date = fields.Date(readonly=True)
    category_id = fields.Many2one(
        "security.payment.category", string="Payment Category", readonly=True
    )
    journal_id = fields.Many2one("account.journal", readonly=True)
    amount = fields.Monetary(readonly=True)
    payment_count = fields.Integer(string="Payments", readonly=True)

    def _query(self):
        return SQL(
            """
            SELECT p.id, p.id AS payment_id, m.date, p.partner_id,
                   p.security_contract_id AS contract_id,
                   p.security_category_id AS category_id, p.journal_id,
                   m.company_id, rc.currency_id,
                   p.amount_company_currency_signed AS amount,
                   1 AS payment_count
              FROM account_payment p
              JOIN account_move m ON m.id = p.move_id
              JOIN res_company rc ON rc.id = m.company_id
             WHERE m.security_is_payment
               AND m.state = 'posted'
               AND p.payment_type = 'inbound'
            """
        )
