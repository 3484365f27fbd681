# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Create the statement lines of a bank statement import fast: in chunks, with
their journal items given at creation, and PostgreSQL's statistics refreshed
for big imports."""

from odoo import Command, api, fields, models
from odoo.tools import ormcache, split_every

# Statement lines created together: Odoo names each new entry by looking for
# the journal's last name among the newest entries, past the unnamed ones of
# the same batch (quadratic in the batch size).
CREATE_CHUNK_SIZE = 100
# From this many lines created or paid at once, the planner statistics of the
# journal entries are refreshed inside the transaction (see
# _security_refresh_move_statistics).
ANALYZE_THRESHOLD = 1000
# Context key of the statement import: its lines get their journal items at
# creation (see _security_prepare_import_vals).
IMPORT_CONTEXT_KEY = "security_bank_import"
# Fields of the entry computed from its partner that an imported line with a
# partner may give: Odoo recomputes the bank account from the partner (it is
# dropped, see _security_prepare_import_vals) and keeps the notes.
PARTNER_MOVE_FIELDS_KEPT = {"partner_bank_id", "narration"}


# Kept apart from account_bank_statement_line.py (matching and paying) on
# purpose: one concern per file.
class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"  # pylint: disable=consider-merging-classes-inherited

    security_import_chunk_id = fields.Many2one(
        "security.bank.import.chunk",
        string="Import Chunk",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="Slice of the background import that created this line.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        """Create big imports in chunks of ``CREATE_CHUNK_SIZE`` lines: the
        same lines, named in the same order, without each new entry's name
        lookup walking past all the unnamed entries of the import.

        Imported lines (``IMPORT_CONTEXT_KEY`` in the context, set by the
        statement import's ``_create_bank_statements``) get their two journal
        items at creation, in batch (see ``_security_prepare_import_vals``).

        :param list vals_list: the values of the lines
        :return: the created lines, in the order of ``vals_list``
        """
        if self.env.context.get(IMPORT_CONTEXT_KEY):
            vals_list = self._security_prepare_subscriber_vals_list(vals_list)
            vals_list = [self._security_prepare_import_vals(vals) for vals in vals_list]
        if len(vals_list) <= CREATE_CHUNK_SIZE:
            return super().create(vals_list)
        lines = self.browse()
        for index, chunk in enumerate(split_every(CREATE_CHUNK_SIZE, vals_list, list)):
            if index == 1 and len(vals_list) >= ANALYZE_THRESHOLD:
                self._security_refresh_move_statistics()
            lines |= super().create(chunk)
        return lines

    @api.model
    def _security_prepare_import_vals(self, vals):
        """The values of an imported line with its journal items.

        Odoo creates the lines and their entries in batch, then adds the two
        journal items of each entry by one write per line, unless the values
        give them (``line_ids``). Lines without counterpart account get here
        the very items Odoo would write: ``_prepare_move_line_default_vals``
        of the line to be. After that write, Odoo's synchronisation
        (``_synchronize_from_moves``) puts the items' partner and the line's
        currency on the entry; here the entry gets the partner at creation
        (``account.move._security_prepare_statement_move_vals``) and its
        currency is computed when Odoo links it to its line. With a partner,
        the entry's bank account is left to be computed from the partner, as
        that synchronisation recomputes it (the partner's first bank account,
        not the one the import found).

        :param dict vals: the values of one line
        :return: ``vals`` with ``line_ids``, or ``vals`` itself when the line
            keeps Odoo's own creation (``_security_is_fast_import``)
        :rtype: dict
        """
        if not self._security_is_fast_import(vals):
            return vals
        line = self.new(vals)
        items = line._prepare_move_line_default_vals()
        for item in items:
            item.pop("move_id", None)
        vals = {**vals, "line_ids": [Command.create(item) for item in items]}
        if vals.get("partner_id"):
            vals.pop("partner_bank_id", None)
        return vals

    @api.model
    def _security_is_fast_import(self, vals):
        """Whether the journal items of this line may be given at creation:
        not with a counterpart account, nor with a partner and a field of the
        entry that Odoo's synchronisation recomputes from the partner."""
        return (
            "line_ids" not in vals
            and vals.get("journal_id")
            and vals.get("date")
            and not vals.get("counterpart_account_id")
            and not (
                vals.get("partner_id")
                and self._security_partner_move_fields().intersection(vals)
            )
        )

    @api.model
    @ormcache()
    def _security_partner_move_fields(self):
        """The stored fields of an entry computed from its partner, but the
        ones an imported line may give with a partner."""
        partner = self.env["account.move"]._fields["partner_id"]
        return (
            frozenset(
                field.name
                for field in self.pool.get_dependent_fields(partner)
                if field.model_name == "account.move" and field.store
            )
            - PARTNER_MOVE_FIELDS_KEPT
        )

    @api.model
    def _security_refresh_move_statistics(self):
        """Refresh PostgreSQL's statistics of the journal entries inside this
        transaction (ANALYZE counts the rows it inserted).

        Odoo names each new entry with queries on the journal's entries;
        planned on statistics that do not know the entries this import has
        just added (uncommitted, so never analyzed), they read every entry of
        the journal for each new one: an import of n lines costs n^2. The
        ANALYZE holds a lock that only conflicts with VACUUM, ANALYZE and
        schema changes of account_move until the end of the import.
        """
        self.env.flush_all()
        self.env.cr.execute("ANALYZE account_move")
