# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""An index for big bank journals; the partner of imported statement lines'
entries at creation."""

from odoo import api, models
from odoo.tools.sql import create_index

from .account_bank_statement_line_import import IMPORT_CONTEXT_KEY


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

    @api.model_create_multi
    def create(self, vals_list):
        context = self.env.context
        if context.get(IMPORT_CONTEXT_KEY) and context.get("is_statement_line"):
            vals_list = [
                self._security_prepare_statement_move_vals(vals) for vals in vals_list
            ]
        return super().create(vals_list)

    @api.model
    def _security_prepare_statement_move_vals(self, vals):
        """The entry of an imported statement line created with its journal
        items (``line_ids``) gets the partner of its first (liquidity) item.

        The statement line's own partner field hides the entry's: Odoo puts
        the partner on the entry when it writes the items, by
        ``account.bank.statement.line._synchronize_from_moves`` (the entry's
        partner is its liquidity item's). Only in the statement import, whose
        lines get their items from ``_security_prepare_import_vals`` alone."""
        commands = vals.get("line_ids")
        if "partner_id" in vals or not commands or commands[0][0] != 0:
            return vals
        partner_id = commands[0][2].get("partner_id")
        if not partner_id:
            return vals
        return {**vals, "partner_id": partner_id}
