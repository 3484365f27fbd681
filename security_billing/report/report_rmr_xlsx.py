from dateutil.relativedelta import relativedelta

from odoo import models
from odoo.tools import SQL

from ..tools.rmr import rmr_added_sql, rmr_ended_sql, rmr_lines_sql, rmr_running_sql


class ReportRmrXlsx(models.AbstractModel):
    """Recurring monthly revenue by product and by vendor, with the RMR
    added and cancelled in the month of the report date."""

    _name = "report.security_billing.report_rmr_xlsx"
    _inherit = "report.security_billing.abstract_xlsx"
    _description = "Security Billing RMR XLSX"

    def generate_xlsx_report(self, workbook, data, objs):
        company, date = self._get_report_params(data, objs)
        currency = company.currency_id
        formats = self._get_formats(workbook, currency)
        figures = [
            (self.env._("Contracts"), "int", 11),
            (self.env._("RMR"), "money", 14),
            (self.env._("Added This Month"), "money", 14),
            (self.env._("Cancelled This Month"), "money", 14),
            (self.env._("Net Change"), "money", 14),
        ]
        for key, title, header, label_of in (
            (
                "product",
                self.env._("By Product"),
                self.env._("Product"),
                self._get_product_labels,
            ),
            (
                "vendor",
                self.env._("By Vendor"),
                self.env._("Vendor"),
                self._get_vendor_labels,
            ),
        ):
            data_rows = self._get_rmr_rows(company, date, key)
            labels = label_of([row[0] for row in data_rows])
            rows = [
                (labels[row[0]], row[1], row[2], row[3], row[4], row[3] - row[4])
                for row in data_rows
            ]
            columns = [(header, "text", 30)] + figures
            self._write_table(workbook, title, columns, rows, formats, currency)

    def _get_month(self, date):
        start = date.replace(day=1)
        return start, start + relativedelta(months=1, days=-1)

    def _get_rmr_rows(self, company, date, key):
        """Rows ``(key, contracts, rmr, added, cancelled)`` grouped by
        ``product`` (product id) or ``vendor`` (site vendors of the contract)."""
        self.env["contract.line"].flush_model()
        self.env["contract.contract"].flush_model()
        self.env["security.site"].flush_model()
        month_start, month_end = self._get_month(date)
        group = SQL("l.product_id") if key == "product" else SQL("v.vendor")
        self.env.cr.execute(
            SQL(
                """
                WITH l AS (%(lines)s
                ), v AS (
                    SELECT s.contract_id,
                           STRING_AGG(DISTINCT s.vendor, ', ' ORDER BY s.vendor)
                               AS vendor
                      FROM security_site s
                     WHERE s.active AND s.contract_id IS NOT NULL
                     GROUP BY s.contract_id
                )
                SELECT %(group)s,
                       COUNT(DISTINCT CASE WHEN l.running THEN l.contract_id END),
                       SUM(CASE WHEN l.running THEN l.rmr ELSE 0 END),
                       SUM(CASE WHEN l.added THEN l.rmr ELSE 0 END),
                       SUM(CASE WHEN l.ended THEN l.rmr ELSE 0 END)
                  FROM (
                    SELECT l.*, %(running)s AS running, %(added)s AS added,
                           %(ended)s AS ended
                      FROM l
                     WHERE l.company_id = %(company)s
                  ) l
                  LEFT JOIN v ON v.contract_id = l.contract_id
                 GROUP BY %(group)s
                HAVING BOOL_OR(l.running OR l.added OR l.ended)
                 ORDER BY %(group)s
                """,
                lines=rmr_lines_sql(),
                running=rmr_running_sql("l", date),
                added=rmr_added_sql("l", month_start, month_end),
                ended=rmr_ended_sql("l", month_start, month_end),
                company=company.id,
                group=group,
            )
        )
        return self.env.cr.fetchall()

    def _get_product_labels(self, product_ids):
        products = self.env["product.product"].browse([p for p in product_ids if p])
        labels = {product.id: product.display_name for product in products}
        labels[None] = self.env._("No product")
        return labels

    def _get_vendor_labels(self, vendor_keys):
        selection = dict(
            self.env["security.site"]._fields["vendor"]._description_selection(self.env)
        )
        labels = {
            key: ", ".join(selection.get(code, code) for code in key.split(", "))
            for key in vendor_keys
            if key
        }
        labels[None] = self.env._("No site")
        return labels
