# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A slice of a big statement import: its lines, created by one job, then
matched and paid by another."""

import logging

from odoo import api, fields, models

from odoo.addons.queue_job.job import identity_exact
from odoo.addons.security_billing.models.security_billing_run import BILLING_CONTEXT

from .account_bank_statement_line_import import IMPORT_CONTEXT_KEY

_logger = logging.getLogger(__name__)

# Chunk whose jobs refresh PostgreSQL's statistics of the journal entries
# (once the first chunk's entries are committed, see _analyze).
ANALYZE_CHUNK = 2

CHUNK_STATES = [
    ("pending", "Pending"),
    ("created", "Lines Created"),
    ("done", "Done"),
]


class SecurityBankImportChunk(models.Model):
    """Lines ``first_line`` to ``first_line + line_count - 1`` of a file
    imported in the background (``security.bank.import``).

    The chunk keeps the checked values of its lines (``line_vals``, as the
    OCA import would create them). Its first job creates them in its
    statement (state *Lines Created*), its second matches and pays them
    (*Done*). Each job is one transaction and checks the state first: run
    again, a job finds its work done and does nothing; a job that died left
    nothing, and its rerun does the work once. The lines know their chunk
    (``security_import_chunk_id``); the payments use the core entry point's
    idempotency keys (the lines' import ids).
    """

    _name = "security.bank.import.chunk"
    _inherit = ["security.job.chunk.mixin"]
    _description = "Bank Statement Import Chunk"
    _order = "import_id, sequence"
    _chunk_work_field = "import_id"
    _chunk_job_uuid_fields = ("create_job_uuid", "pay_job_uuid")
    # a failed step fails its job: "Run failed jobs again" reruns it
    _chunk_failure_fails_job = True

    import_id = fields.Many2one(
        "security.bank.import",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(related="import_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="import_id.currency_id")
    statement_id = fields.Many2one(
        "account.bank.statement", readonly=True, ondelete="set null"
    )
    first_line = fields.Integer(
        readonly=True,
        help="Rank of the chunk's first line among the lines of the import, "
        "in the order they are created (date, then the file's order).",
    )
    line_count = fields.Integer(string="Lines", readonly=True)
    line_vals = fields.Json(
        readonly=True,
        groups="base.group_system",
        help="Values of the lines to create, checked by the import.",
    )
    complete_statement = fields.Boolean(
        readonly=True,
        help="Last chunk of a statement whose file gave no balances: it "
        "computes them as Odoo does when it creates a statement with its lines.",
    )
    line_ids = fields.One2many(
        "account.bank.statement.line",
        "security_import_chunk_id",
        string="Statement Lines",
        readonly=True,
    )
    state = fields.Selection(
        CHUNK_STATES,
        string="Chunk Status",
        required=True,
        readonly=True,
        default="pending",
    )
    matched_count = fields.Integer(string="Paid", readonly=True)
    matched_amount = fields.Monetary(string="Amount Paid", readonly=True)
    to_match_count = fields.Integer(string="To Match", readonly=True)
    ignored_count = fields.Integer(string="Outgoing Ignored", readonly=True)
    skipped_count = fields.Integer(string="Already Processed", readonly=True)
    error_message = fields.Text(string="Error", readonly=True)
    create_job_uuid = fields.Char(
        string="Creation Job", readonly=True, groups="base.group_system", copy=False
    )
    pay_job_uuid = fields.Char(
        string="Payment Job", readonly=True, groups="base.group_system", copy=False
    )

    @api.model
    def _queued_import_ids(self, import_ids):
        """The import ids among ``import_ids`` of lines that chunks still
        have to create.

        :param list import_ids: ``unique_import_id`` of statement lines
        :return: the ones waiting in a chunk
        :rtype: set
        """
        if not import_ids:
            return set()
        self.flush_model(["state", "line_vals"])
        self.env.cr.execute(
            """
            SELECT DISTINCT vals->>'unique_import_id'
              FROM security_bank_import_chunk chunk,
                   jsonb_array_elements(chunk.line_vals) vals
             WHERE chunk.state = 'pending'
               AND vals->>'unique_import_id' = ANY(%s)
            """,
            [list(import_ids)],
        )
        return {row[0] for row in self.env.cr.fetchall()}

    # -------------------------------------------------------------- enqueuing
    def _delayable(self, method):
        """The job of ``method`` of this chunk (a queue_job Delayable),
        keyed by the chunk and the method: enqueued once."""
        self.ensure_one()
        descriptions = {
            "_create_job": self.env._(
                "%(file)s: create lines %(first)s to %(last)s",
                file=self.import_id.name,
                first=self.first_line,
                last=self.first_line + self.line_count - 1,
            ),
            "_pay_job": self.env._(
                "%(file)s: match and pay lines %(first)s to %(last)s",
                file=self.import_id.name,
                first=self.first_line,
                last=self.first_line + self.line_count - 1,
            ),
        }
        delayable = self.delayable(
            description=descriptions[method], identity_key=identity_exact
        )
        return getattr(delayable, method)()

    # -------------------------------------------------------------------- jobs
    def _create_job(self):
        """Job: create the statement lines of this chunk.

        :return: what was done, for the job's result
        :rtype: str
        """
        self.ensure_one()
        chunk = self._job_env()
        chunk._run_step(chunk._create_lines)
        return self.env._("%(lines)s lines created", lines=len(self.line_ids))

    def _pay_job(self):
        """Job: match and pay the lines of this chunk (creating them first
        if their job has not run).

        :return: what was done, for the job's result
        :rtype: str
        """
        self.ensure_one()
        chunk = self._job_env()
        chunk._run_step(chunk._match_lines)
        return self.env._(
            "%(paid)s paid, %(to_match)s to match, %(ignored)s ignored",
            paid=self.matched_count,
            to_match=self.to_match_count,
            ignored=self.ignored_count,
        )

    def _job_env(self):
        """The chunk with the context of its jobs: as for the invoices of a
        billing run, no chatter message, follower or tracking per entry,
        payment or statement line (an import makes thousands)."""
        return self.with_context(**BILLING_CONTEXT)

    def _analyze(self):
        """Refresh PostgreSQL's statistics of the journal entries once the
        first chunk's are committed: Odoo names each new entry with queries
        on its journal, planned on statistics that do not know the import's
        entries until autovacuum sees them (as the inline import does, see
        ``_security_refresh_move_statistics``)."""
        if self.sequence == ANALYZE_CHUNK:
            self.env["account.bank.statement.line"]._security_refresh_move_statistics()

    def _record_failure(self, exc):
        """The chunk and its import keep the error (see
        ``security.bank.import._record_failure``)."""
        self.import_id._record_failure(self, str(exc))

    # ------------------------------------------------------------------- steps
    def _create_lines(self):
        """Create the chunk's lines in its statement, once."""
        self.ensure_one()
        chunk = self._security_lock()
        if chunk.state != "pending" or chunk.line_ids:
            return chunk.line_ids
        vals_list = chunk._prepare_line_vals_list()
        chunk._analyze()
        lines = (
            self.env["account.bank.statement.line"]
            .with_company(chunk.company_id)
            .with_context(**{IMPORT_CONTEXT_KEY: True})
            .create(vals_list)
        )
        if chunk.complete_statement:
            chunk._complete_statement()
        chunk.sudo().write({"state": "created", "error_message": False})
        return lines

    def _complete_statement(self):
        """The balances Odoo gives a statement created with its lines: the
        opening balance from the statements before it, the closing one of
        its lines."""
        statement = self.statement_id
        statement._compute_balance_start()
        statement.balance_end_real = statement.balance_end

    def _prepare_line_vals_list(self):
        """The values of the chunk's lines: the import's, in this chunk's
        statement and linked to the chunk (builder).

        :return: the values of the statement lines, in the file's order
        :rtype: list
        """
        self.ensure_one()
        return [
            {
                **vals,
                "statement_id": self.statement_id.id,
                "security_import_chunk_id": self.id,
            }
            for vals in self.sudo().line_vals or []
        ]

    def _match_lines(self):
        """Match and pay the chunk's lines (created first if need be), once:
        ``_security_match_and_pay`` skips the lines already matched and pays
        through the core entry point's idempotency keys."""
        self.ensure_one()
        chunk = self._security_lock()
        if chunk.state == "done":
            return
        if chunk.state == "pending":
            chunk._create_lines()
        lines = chunk.line_ids
        chunk._analyze()
        # the import is allowed: its payments are made as superuser (the
        # idempotency keys are not writable by accountants), as inline
        summary = lines.sudo()._security_match_and_pay()
        matched = lines.filtered(lambda line: line.security_match_state == "matched")
        chunk.sudo().write(
            {
                "state": "done",
                "date_done": fields.Datetime.now(),
                "matched_count": summary["matched"],
                "matched_amount": sum(matched.mapped("amount")),
                "to_match_count": summary["to_match"],
                "ignored_count": summary["ignored"],
                "skipped_count": summary["skipped"],
                "error_message": False,
            }
        )

    def _security_lock(self):
        """Row-lock the chunk (a job run twice at once waits for the first)
        and re-read it."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT id FROM security_bank_import_chunk WHERE id = %s FOR UPDATE",
            [self.id],
        )
        self.invalidate_recordset()
        return self
