from odoo import fields, models
from odoo.tools import SQL

from ..tools.rmr import rmr_added_sql, rmr_ended_sql, rmr_lines_sql, rmr_running_sql


class SecurityBillingReportRmr(models.Model):
    """Recurring monthly revenue (RMR) per MMR contract line and month, from
    the month the line starts to the current month.

    The same definition as the RMR XLSX report (``tools.rmr``): in each month
    a line counts in *RMR* when it runs on the month's last day (today for
    the current month), in *New* when it starts in the month, in *Lost* when
    it ends in it.
    """

    _name = "security.billing.report.rmr"
    _inherit = "security.billing.report.view.mixin"
    _description = "Security Billing RMR Analysis"
    _auto = False
    _rec_name = "contract_id"
    _order = "month desc, contract_id, id"
    _depends = {
        "contract.line": [
            "contract_id",
            "product_id",
            "monthly_recurring",
            "date_start",
            "date_end",
            "is_canceled",
            "display_type",
        ],
        "contract.contract": ["security_is_mmr", "active", "company_id", "partner_id"],
        "res.company": ["currency_id"],
    }

    month = fields.Date(readonly=True)
    contract_line_id = fields.Many2one("contract.line", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    is_running = fields.Boolean(string="Running", readonly=True)
    is_new = fields.Boolean(string="New", readonly=True)
    is_lost = fields.Boolean(string="Lost", readonly=True)
    rmr = fields.Monetary(string="RMR", readonly=True)
    new_rmr = fields.Monetary(string="New RMR", readonly=True)
    lost_rmr = fields.Monetary(string="Lost RMR", readonly=True)
    net_rmr = fields.Monetary(
        string="Net Change", readonly=True, help="New RMR minus lost RMR."
    )

    def _query(self):
        return SQL(
            """
            WITH l AS (%(lines)s),
            m AS (
                SELECT l.*, month::date AS month,
                       (month + INTERVAL '1 month - 1 day')::date AS month_end
                  FROM l,
                       generate_series(
                           date_trunc('month', l.date_start::timestamp),
                           date_trunc(
                               'month',
                               LEAST(
                                   COALESCE(l.date_end, CURRENT_DATE), CURRENT_DATE
                               )::timestamp
                           ),
                           INTERVAL '1 month'
                       ) AS month
            ),
            f AS (
                SELECT m.*,
                       %(running)s AS is_running,
                       %(added)s AS is_new,
                       %(ended)s AS is_lost
                  FROM m
            )
            SELECT ROW_NUMBER() OVER (ORDER BY f.month, f.line_id) AS id,
                   f.month, f.company_id, rc.currency_id, f.contract_id,
                   f.line_id AS contract_line_id, f.partner_id, f.product_id,
                   f.is_running, f.is_new, f.is_lost,
                   CASE WHEN f.is_running THEN f.rmr ELSE 0 END AS rmr,
                   CASE WHEN f.is_new THEN f.rmr ELSE 0 END AS new_rmr,
                   CASE WHEN f.is_lost THEN f.rmr ELSE 0 END AS lost_rmr,
                   CASE WHEN f.is_new THEN f.rmr ELSE 0 END
                   - CASE WHEN f.is_lost THEN f.rmr ELSE 0 END AS net_rmr
              FROM f
              JOIN res_company rc ON rc.id = f.company_id
             WHERE f.is_running OR f.is_new OR f.is_lost
            """,
            lines=rmr_lines_sql(),
            running=rmr_running_sql("m", SQL("LEAST(m.month_end, CURRENT_DATE)")),
            added=rmr_added_sql("m", SQL("m.month"), SQL("m.month_end")),
            ended=rmr_ended_sql("m", SQL("m.month"), SQL("m.month_end")),
        )
