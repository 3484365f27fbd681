# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""An index for big bank journals."""

from odoo import models
from odoo.tools.sql import create_index


class AccountMove(models.Model):
    _inherit = "account.move"

    def init(self):
        """Odoo names each new entry after the journal's latest entry up to its
        date (``ORDER BY date DESC LIMIT 1`` in the journal): without an index
        on (journal, date) that reads every entry of the journal, so an import
        of n statement lines (and their payments) costs n times the journal."""
        res = super().init()
        create_index(
            self.env.cr,
            "security_account_move_journal_date_index",
            self._table,
            ["journal_id", "date"],
        )
        return res
