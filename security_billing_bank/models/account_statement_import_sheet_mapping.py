# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Payment-system registries: sheet mappings with a subscriber account column."""

from odoo import fields, models


class AccountStatementImportSheetMapping(models.Model):
    _inherit = "account.statement.import.sheet.mapping"

    security_is_registry = fields.Boolean(
        string="Payment Registry",
        help="Payment-system registry: every row must have a date, a numeric "
        "amount and a unique payment id (the import id of the line); a broken "
        "row rejects the whole file with its line number.",
    )
    security_account_ref_column = fields.Char(
        string="Subscriber account column",
        help="Column holding the subscriber account number; the payment is "
        "matched by it instead of by the payment purpose.",
    )
