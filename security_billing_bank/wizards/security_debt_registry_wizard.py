# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Download the debt registry for banks and payment terminals."""

from odoo import fields, models


class SecurityDebtRegistryWizard(models.TransientModel):
    _name = "security.debt.registry.wizard"
    _description = "Debt registry export"

    file_format = fields.Selection(
        [("xlsx", "Excel (XLSX)"), ("csv", "CSV (semicolon, UTF-8)")],
        string="Format",
        default="xlsx",
        required=True,
    )
    debtors_only = fields.Boolean(
        default=True, help="Only subscribers who owe money; else every subscriber."
    )
    include_address = fields.Boolean(
        help="Add the subscribers' address (street, zip, city)."
    )
    file = fields.Binary(readonly=True, attachment=False)
    filename = fields.Char(readonly=True)
    row_count = fields.Integer(string="Subscribers", readonly=True)

    def action_export(self):
        self.ensure_one()
        registry = self.env["security.debt.registry"]
        rows = registry._get_rows(
            debtors_only=self.debtors_only, include_address=self.include_address
        )
        rendered = registry._render(rows, self.file_format, self.include_address)
        self.write(
            {
                "file": rendered["content"],
                "filename": rendered["filename"],
                "row_count": len(rows),
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/file/{self.filename}"
            "?download=true",
            "target": "download",
        }
