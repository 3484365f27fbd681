from odoo import models
from odoo.tools import SQL

from ..tools.aging import (
    AGING_BUCKETS,
    aging_bucket_condition,
    aging_days_sql,
    aging_open_items_sql,
)


class ReportMmrAgingXlsx(models.AbstractModel):
    """MMR aging per subscriber: open MMR invoice residuals by days past due."""

    _name = "report.security_billing.report_mmr_aging_xlsx"
    _inherit = "report.security_billing.abstract_xlsx"
    _description = "Security Billing MMR Aging XLSX"

    def generate_xlsx_report(self, workbook, data, objs):
        company, date = self._get_report_params(data, objs)
        currency = company.currency_id
        columns = [
            (self.env._("Account"), "text", 12),
            (self.env._("Subscriber"), "text", 30),
        ]
        columns += [
            (self.env._(label), "money", 14)
            for _key, label, _low, _high in AGING_BUCKETS
        ]
        columns.append((self.env._("Total"), "money", 14))
        self._write_table(
            workbook,
            self.env._("MMR Aging"),
            columns,
            self._get_aging_rows(company, date),
            self._get_formats(workbook, currency),
            currency,
        )

    def _get_aging_rows(self, company, date):
        """One row per subscriber, in SQL: (ref, name, buckets..., total)."""
        self.env["account.move.line"].flush_model()
        self.env["account.move"].flush_model(["security_is_mmr"])
        buckets = SQL(", ").join(
            self._get_bucket_sql(date, low, high)
            for _key, _label, low, high in AGING_BUCKETS
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT p.security_account_ref, p.name, %s, SUM(l.amount_residual)
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN res_partner p ON p.id = l.partner_id
                 WHERE %s
                   AND l.company_id = %s
                 GROUP BY p.id, p.security_account_ref, p.name
                 ORDER BY p.security_account_ref, p.name, p.id
                """,
                buckets,
                aging_open_items_sql(),
                company.id,
            )
        )
        return self.env.cr.fetchall()

    def _get_bucket_sql(self, date, low, high):
        """SUM of the residuals whose days past due fall in [low, high]."""
        return SQL(
            "SUM(CASE WHEN %s THEN l.amount_residual ELSE 0 END)",
            aging_bucket_condition(aging_days_sql(date), low, high),
        )
