# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Debt registry for banks and payment terminals: who owes how much.

Rows are built set-based (one query for the subscribers, one for their
balances, a few for the recommended amounts); CSV and XLSX renderers.
"""

import base64
import csv
import io

import xlsxwriter

from odoo import api, fields, models

from odoo.addons.security_billing.tools.access import check_billing_company_access
from odoo.addons.security_billing.tools.spreadsheet import XLSX_TEXT_OPTIONS, csv_text

COLUMNS = ("account_ref", "name", "address", "amount_owed", "recommended_amount")
AMOUNT_COLUMNS = ("amount_owed", "recommended_amount")
CSV_DELIMITER = ";"
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class SecurityDebtRegistry(models.AbstractModel):
    _name = "security.debt.registry"
    _description = "Security Billing Debt Registry builder"

    @api.model
    def _get_rows(self, debtors_only=False, include_address=False):
        """One dict per subscriber of the current company, by account number:
        ``account_ref``, ``name`` (masked), ``address`` (when asked),
        ``amount_owed`` and ``recommended_amount``. Billing users only
        (``_check_registry_access``)."""
        self._check_registry_access()
        partners = self.env["res.partner"].search(
            self._get_subscriber_domain(), order="security_account_ref, id"
        )
        owed = self._get_amounts_owed(partners)
        recommended = self._get_recommended_amounts(partners, owed)
        currency = self.env.company.currency_id
        rows = []
        for partner in partners:
            amount_owed = currency.round(owed.get(partner.id, 0.0))
            if debtors_only and currency.compare_amounts(amount_owed, 0.0) <= 0:
                continue
            rows.append(
                self._prepare_row(
                    partner,
                    amount_owed,
                    currency.round(recommended.get(partner.id, amount_owed)),
                    include_address,
                )
            )
        return rows

    @api.model
    def _check_registry_access(self):
        """The registry lists every debtor of the current company with the
        amounts (summed in SQL) and addresses: billing users of that company
        only, whoever calls it (the wizard, the API)."""
        check_billing_company_access(
            self.env, self.env.company, self.env._("the debt registry")
        )

    @api.model
    def _get_subscriber_domain(self):
        return [
            ("security_is_subscriber", "=", True),
            ("security_account_ref", "!=", False),
            ("company_id", "in", [False, self.env.company.id]),
        ]

    @api.model
    def _get_amounts_owed(self, partners):
        """``{partner_id: debt net of open credit}`` in one query."""
        balances = self.env["account.move"]._security_balance_rows(
            "partner_id", partners.ids
        )
        return {
            partner_id: max(-values["security_balance"], 0.0)
            for partner_id, values in balances.items()
        }

    @api.model
    def _get_recommended_amounts(self, partners, owed):
        """The core recommended payment (the company's recommended-payment
        method) when available, else the amount owed."""
        if hasattr(partners, "_security_recommended_amount"):
            return partners._security_recommended_amount()
        return owed

    @api.model
    def _prepare_row(self, partner, amount_owed, recommended, include_address):
        row = {
            "account_ref": partner.security_account_ref,
            "name": partner._security_masked_name(),
            "amount_owed": amount_owed,
            "recommended_amount": recommended,
        }
        if include_address:
            row["address"] = self._format_address(partner)
        return row

    @api.model
    def _format_address(self, partner):
        parts = (partner.street, partner.street2, partner.zip, partner.city)
        return ", ".join(part.strip() for part in parts if part and part.strip())

    # ----------------------------------------------------------------- files
    @api.model
    def _get_columns(self, include_address):
        return [c for c in COLUMNS if include_address or c != "address"]

    @api.model
    def _render(self, rows, file_format, include_address=False):
        """``{"filename", "mimetype", "content"}`` (content base64)."""
        columns = self._get_columns(include_address)
        if file_format == "xlsx":
            data = self._render_xlsx(rows, columns)
        else:
            data = self._render_csv(rows, columns)
        return {
            "filename": self._get_filename(file_format),
            "mimetype": MIMETYPES[file_format],
            "content": base64.b64encode(data).decode("ascii"),
        }

    @api.model
    def _get_filename(self, file_format):
        today = fields.Date.context_today(self)
        return f"debt_registry_{today:%Y%m%d}.{file_format}"

    @api.model
    def _render_csv(self, rows, columns):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                [
                    f"{row[c]:.2f}" if c in AMOUNT_COLUMNS else csv_text(row.get(c))
                    for c in columns
                ]
            )
        return buffer.getvalue().encode("utf-8")

    @api.model
    def _render_xlsx(self, rows, columns):
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, dict(XLSX_TEXT_OPTIONS, in_memory=True))
        sheet = workbook.add_worksheet(self.env._("Debt registry")[:31])
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "0.00"})
        sheet.write_row(0, 0, columns, bold)
        for number, row in enumerate(rows, start=1):
            for col, column in enumerate(columns):
                if column in AMOUNT_COLUMNS:
                    sheet.write_number(number, col, row[column], money)
                else:
                    sheet.write_string(number, col, row.get(column) or "")
        sheet.set_column(0, len(columns) - 1, 20)
        workbook.close()
        return buffer.getvalue()
