from odoo import fields, models
from odoo.exceptions import UserError

from ..tools.access import check_billing_company_access
from ..tools.spreadsheet import XLSX_TEXT_OPTIONS


class ReportSecurityXlsxAbstract(models.AbstractModel):
    """Shared layout of the Security Billing XLSX reports.

    Tables start with one bold header row, frozen and filtered; money columns
    use the company currency format; a totals row follows the data. Text is
    written as text: a name starting with ``=`` is no formula.

    Only billing users get a report, and only of one of their companies
    (``_security_check_report_access``): the reports read the ledger in SQL,
    past record rules, and the menu's groups do not guard the
    ``/report/xlsx/...`` route.
    """

    _name = "report.security_billing.abstract_xlsx"
    _inherit = "report.report_xlsx.abstract"
    _description = "Security Billing XLSX Report Layout"

    def get_workbook_options(self):
        """report_xlsx leaves xlsxwriter turning strings that start with
        ``=`` into formulas: keep every string a string."""
        return dict(super().get_workbook_options(), **XLSX_TEXT_OPTIONS)

    def _get_report_params(self, data, objs):
        """``(company, date)`` from the report wizard, else the data dict;
        checked with ``_security_check_report_access``."""
        wizard = objs[:1] if objs._name == "security.billing.report.wizard" else None
        data = data or {}
        if wizard:
            wizard.check_access("read")
            company, date = wizard.company_id, wizard.date
        else:
            company = self._get_report_company(data.get("company_id"))
            date = data.get("date")
            date = fields.Date.to_date(date) if date else None
        self._security_check_report_access(company)
        return company, date or fields.Date.context_today(self)

    def _get_report_company(self, company_id):
        """The company asked for in the data dict (an id, possibly as text
        from a URL), else the current company."""
        if not company_id:
            return self.env.company
        try:
            return self.env["res.company"].browse(int(company_id))
        except (TypeError, ValueError) as exc:
            raise UserError(
                self.env._(
                    "Invalid company_id %(value)r: expected a company id.",
                    value=company_id,
                )
            ) from exc

    def _security_check_report_access(self, company):
        """Billing users only, and only for one of their companies."""
        check_billing_company_access(
            self.env, company, self.env._("the report %(name)s", name=self._description)
        )

    def _get_formats(self, workbook, currency):
        return {
            "header": workbook.add_format(
                {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True}
            ),
            "money": workbook.add_format(
                {"num_format": self._report_xlsx_currency_format(currency)}
            ),
            "money_total": workbook.add_format(
                {
                    "bold": True,
                    "num_format": self._report_xlsx_currency_format(currency),
                }
            ),
            "int": workbook.add_format({"num_format": "0"}),
            "int_total": workbook.add_format({"bold": True, "num_format": "0"}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "text": workbook.add_format({}),
            "total": workbook.add_format({"bold": True}),
        }

    def _write_table(self, workbook, name, columns, rows, formats, currency):
        """Write one sheet: ``columns`` are ``(title, kind, width)`` with kind
        text/money/int/date; ``rows`` are tuples. Returns the sheet."""
        sheet = workbook.add_worksheet(name)
        for col, (title, _kind, width) in enumerate(columns):
            sheet.write_string(0, col, title, formats["header"])
            sheet.set_column(col, col, width)
        for row_index, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                kind = columns[col][1]
                if value is None or value is False:
                    sheet.write_blank(row_index, col, None, formats[kind])
                elif kind == "date":
                    sheet.write_datetime(
                        row_index,
                        col,
                        fields.Datetime.to_datetime(value),
                        formats[kind],
                    )
                elif kind == "text":
                    sheet.write_string(row_index, col, str(value), formats[kind])
                else:
                    sheet.write_number(row_index, col, value, formats[kind])
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
        self._write_totals(sheet, columns, rows, formats, currency)
        return sheet

    def _write_totals(self, sheet, columns, rows, formats, currency):
        """Totals of the money and integer columns, below the data."""
        total_row = len(rows) + 2
        sheet.write_string(total_row, 0, self.env._("Total"), formats["total"])
        for col, (_title, kind, _width) in enumerate(columns):
            if col and kind in ("money", "int"):
                total = sum(row[col] or 0 for row in rows)
                if kind == "money":
                    total = currency.round(total)
                sheet.write_number(total_row, col, total, formats[f"{kind}_total"])
