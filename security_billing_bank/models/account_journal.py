# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Advertise the 1C statement format on bank journals."""

from odoo import models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    def _get_bank_statements_available_import_formats(self):
        res = super()._get_bank_statements_available_import_formats()
        res.append(self.env._("1C"))
        return res
