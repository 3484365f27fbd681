# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Big statement imports: checked at once, created, matched and paid by
background jobs (``security.bank.import``)."""

import datetime
import decimal

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import split_every

# Key of OCA's import result: the statements of the file wait there, checked,
# until the whole file is parsed (then created inline, or by jobs).
PENDING_KEY = "security_pending_statements"
# Key of OCA's import result: the background import, when there is one.
IMPORT_KEY = "security_import_id"


def _jsonable(value):
    """``value`` as stored in JSON: dates as ISO strings (what Odoo's date
    fields accept), decimals as floats."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime.datetime):
        return fields.Datetime.to_string(value)
    if isinstance(value, datetime.date):
        return fields.Date.to_string(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


# Kept apart from account_statement_import.py (parsing, inline matching) on
# purpose: one concern per file.
class AccountStatementImport(models.TransientModel):
    _inherit = "account.statement.import"  # pylint: disable=consider-merging-classes-inherited

    security_import_id = fields.Many2one(
        "security.bank.import",
        string="Background Import",
        readonly=True,
        help="The import running in the background, for big files.",
    )

    def import_file_button(self):
        """A big file answers at once: a notification, then its import's
        progress; a small one as OCA does."""
        action = super().import_file_button()
        if self.security_import_id:
            return self.security_import_id._started_action()
        return action

    def import_single_file(self, file_data, result):
        """Check the whole file (every account of it) before writing
        anything; then create its statements inline, or, from
        ``security.bank.import._job_threshold`` lines, enqueue
        their creation, matching and payment.

        :param bytes file_data: the file
        :param dict result: OCA's import result; gets ``security_import_id``
            (the background import) when the file goes to jobs
        """
        result[PENDING_KEY] = []
        super().import_single_file(file_data, result)
        pending = result.pop(PENDING_KEY)
        self._security_drop_queued_transactions(pending, result)
        total = sum(
            len(st_vals.get("transactions") or [])
            for stmts_vals in pending
            for st_vals in stmts_vals
        )
        if total < self.env["security.bank.import"]._job_threshold():
            for stmts_vals in pending:
                super()._create_bank_statements(stmts_vals, result)
            return
        self._security_start_background_import(pending, result)

    def _create_bank_statements(self, stmts_vals, result):
        """While the file is checked, keep its statements for later (see
        ``import_single_file``)."""
        if PENDING_KEY in result:
            result[PENDING_KEY].append(stmts_vals)
            return False
        return super()._create_bank_statements(stmts_vals, result)

    def _security_pending_import_ids(self, pending):
        """The import ids of the transactions of the statements kept for
        later (``pending``), in the file's order."""
        return [
            lvals["unique_import_id"]
            for stmts_vals in pending
            for st_vals in stmts_vals
            for lvals in st_vals.get("transactions") or []
            if lvals.get("unique_import_id")
        ]

    def _security_drop_queued_transactions(self, pending, result):
        """Leave out the transactions that a background import still has
        to create (as OCA leaves out those already imported): a file
        imported again while its first import runs imports nothing twice."""
        ids = self._security_pending_import_ids(pending)
        queued = self.env["security.bank.import.chunk"]._queued_import_ids(ids)
        if not queued:
            return
        count = 0
        for stmts_vals in pending:
            for st_vals in stmts_vals:
                count += self._security_drop_transactions(st_vals, queued)
        result["notifications"].append(
            self.env._(
                "%(count)s transactions are being imported in the background "
                "and were ignored.",
                count=count,
            )
        )

    def _security_drop_transactions(self, st_vals, import_ids):
        """Leave out of the statement ``st_vals`` the transactions whose
        import id is in ``import_ids``, their amounts counted in its opening
        balance (when the file gives one), as OCA skips the transactions
        already imported.

        :param dict st_vals: a statement of the file (its ``transactions``
            are replaced)
        :param set import_ids: ``unique_import_id`` of the transactions to drop
        :return: how many were dropped
        :rtype: int
        """
        kept = []
        for lvals in st_vals.get("transactions") or []:
            if lvals.get("unique_import_id") in import_ids:
                if "balance_start" in st_vals:
                    st_vals["balance_start"] += float(lvals["amount"])
            else:
                kept.append(lvals)
        dropped = len(st_vals.get("transactions") or []) - len(kept)
        st_vals["transactions"] = kept
        return dropped

    # ------------------------------------------------------------ background
    def _security_start_background_import(self, pending, result):
        """Create the statements without their lines, the import and its
        chunks, and enqueue the chunks' jobs.

        As OCA's ``_create_bank_statements``: transactions already imported
        (same import id) are skipped, and counted in the statement's opening
        balance; the lines get OCA's sequence.
        """
        existing = self._security_existing_import_ids(pending)
        statements = self.env["account.bank.statement"]
        slices = []
        skipped = 0
        for stmts_vals in pending:
            for st_vals in stmts_vals:
                skipped += self._security_drop_transactions(st_vals, existing)
                new_lines = st_vals.get("transactions") or []
                if not new_lines:
                    continue
                if not new_lines[0].get("sequence"):
                    for seq, vals in enumerate(new_lines, start=1):
                        vals["sequence"] = seq
                # without balances in the file, Odoo computes them when it
                # creates the statement with its lines: the last chunk does
                completes = not {"balance_start", "balance_end_real"} & set(st_vals)
                statement = self._security_create_empty_statement(st_vals)
                statements |= statement
                slices.append((statement, new_lines, completes))
        if not statements:
            return
        notes = self._security_skipped_notes(skipped)
        result["notifications"].extend(notes)
        result["statement_ids"].extend(statements.ids)
        imp = (
            self.env["security.bank.import"]
            .sudo()
            .create(
                self.env["security.bank.import"]._prepare_vals(
                    self.statement_filename,
                    statements,
                    sum(len(new_lines) for _statement, new_lines, _end in slices),
                    notes,
                )
            )
        )
        self.env["security.bank.import.chunk"].sudo().create(
            self._security_prepare_chunk_vals_list(imp, slices)
        )
        imp._enqueue()
        self.security_import_id = imp
        result[IMPORT_KEY] = imp.id

    def _security_existing_import_ids(self, pending):
        """The import ids of the file already imported (one query), and
        refuse a file giving one twice (before anything is written)."""
        ids = self._security_pending_import_ids(pending)
        if len(ids) != len(set(ids)):
            seen, twice = set(), set()
            for uid in ids:
                (twice if uid in seen else seen).add(uid)
            raise UserError(
                self.env._(
                    "The file gives the same transaction twice: %(ids)s.",
                    ids=", ".join(sorted(twice)[:5]),
                )
            )
        if not ids:
            return set()
        lines = (
            self.env["account.bank.statement.line"]
            .sudo()
            .search_fetch([("unique_import_id", "in", ids)], ["unique_import_id"])
        )
        return set(lines.mapped("unique_import_id"))

    def _security_create_empty_statement(self, st_vals):
        """A statement of the file, without its lines (the jobs add them)."""
        vals = dict(st_vals)
        vals.pop("transactions", None)
        context = vals.pop("creation_context", {})
        statement = (
            self.env["account.bank.statement"].with_context(**context).create(vals)
        )
        # Odoo computes the journal (and company) from the lines
        statement.journal_id = vals.get("journal_id")
        return statement

    def _security_skipped_notes(self, skipped):
        """OCA's note on the transactions already imported."""
        if not skipped:
            return []
        if skipped == 1:
            return [
                self.env._("1 transaction had already been imported and was ignored.")
            ]
        return [
            self.env._(
                "%(count)s transactions had already been imported and were ignored.",
                count=skipped,
            )
        ]

    def _security_prepare_chunk_vals_list(self, imp, slices):
        """The chunks of the import: the lines of each statement by
        ``_chunk_size``, in the order Odoo names the entries of the
        lines it creates together (date, reference, then the file's order):
        created chunk after chunk, the entries get the numbers the inline
        import gives them (builder).

        :param imp: the import (``security.bank.import``)
        :param list slices: ``[(statement, [line values], completes)]``,
            ``completes``: whether the statement's balances are computed as
            Odoo does (the file gave none)
        :return: the values of the chunks
        :rtype: list
        """
        size = imp._chunk_size()
        vals_list = []
        first = 1
        for statement, new_lines, completes in slices:
            ordered = sorted(
                new_lines,
                key=lambda vals: (
                    fields.Date.to_date(vals["date"]),
                    vals.get("ref") or "",
                ),
            )
            batches = list(split_every(size, ordered, list))
            for index, batch in enumerate(batches, 1):
                vals_list.append(
                    {
                        "import_id": imp.id,
                        "sequence": len(vals_list) + 1,
                        "statement_id": statement.id,
                        "first_line": first,
                        "line_count": len(batch),
                        "line_vals": _jsonable(batch),
                        "complete_statement": completes and index == len(batches),
                    }
                )
                first += len(batch)
        return vals_list
