from odoo import fields, models
from odoo.tools import SQL

from ..tools.aging import (
    AGING_BUCKETS,
    aging_bucket_sql,
    aging_days_sql,
    aging_open_items_sql,
)


class SecurityBillingReportAging(models.Model):
    """Open MMR invoice items aged by days past due today, in the buckets of
    the MMR aging XLSX report (``tools.aging``)."""

    _name = "security.billing.report.aging"
    _inherit = "security.billing.report.view.mixin"
    _description = "Security Billing Aging Analysis"
    _auto = False
    _rec_name = "move_id"
    _order = "days_past_due desc, id"
    _depends = {
        "account.move.line": [
            "move_id",
            "partner_id",
            "company_id",
            "company_currency_id",
            "date_maturity",
            "date",
            "security_in_balance",
            "parent_state",
            "amount_residual",
        ],
        "account.move": ["security_is_mmr", "security_contract_id", "invoice_date"],
    }

    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    invoice_date = fields.Date(readonly=True)
    date_due = fields.Date(string="Due Date", readonly=True)
    days_past_due = fields.Integer(readonly=True)
    bucket = fields.Selection(
        selection="_selection_bucket", string="Age", readonly=True
    )
    is_past_due = fields.Boolean(string="Past Due", readonly=True)
    amount_residual = fields.Monetary(string="Amount Due", readonly=True)

    def _selection_bucket(self):
        return [(key, self.env._(label)) for key, label, _low, _high in AGING_BUCKETS]

    def _query(self):
        return SQL(
            """
            SELECT l.id, l.move_id, l.partner_id, m.security_contract_id AS contract_id,
                   l.company_id, l.company_currency_id AS currency_id,
                   m.invoice_date, COALESCE(l.date_maturity, l.date) AS date_due,
                   %(days)s AS days_past_due,
                   %(bucket)s AS bucket,
                   %(days)s > 0 AS is_past_due,
                   l.amount_residual
              FROM account_move_line l
              JOIN account_move m ON m.id = l.move_id
              JOIN res_partner p ON p.id = l.partner_id
             WHERE %(open_items)s
            """,
            days=aging_days_sql(SQL("CURRENT_DATE")),
            bucket=aging_bucket_sql(SQL("CURRENT_DATE")),
            open_items=aging_open_items_sql(),
        )
