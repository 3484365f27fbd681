# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""A big statement or registry import run by background jobs (OCA
``queue_job``): its progress, its figures and the summary at the end."""

import logging

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import formatLang

from odoo.addons.security_billing.tools.notify import notify_owner

_logger = logging.getLogger(__name__)

# From this many lines in a file, the import creates, matches and pays its
# lines in background jobs (system parameter IMPORT_JOB_THRESHOLD_PARAM).
IMPORT_JOB_THRESHOLD = 500
IMPORT_JOB_THRESHOLD_PARAM = "security_billing_bank.import_job_threshold"
# Lines of a file created, then matched and paid, by one job: a job takes
# about 10 s of CPU, well under the workers' limits (60 s CPU, 120 s real)
# on a loaded machine.
IMPORT_CHUNK_SIZE = 200
IMPORT_CHUNK_SIZE_PARAM = "security_billing_bank.import_chunk_size"
STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Done"),
    ("failed", "Failed"),
]


class SecurityBankImport(models.Model):
    """A statement or registry file imported by background jobs.

    The wizard parses and checks the file at once, creates its statement(s)
    empty and this record with its chunks (``security.bank.import.chunk``),
    then enqueues two jobs per chunk in the channel
    ``root.security_billing.bank``: one creates the chunk's statement lines,
    one matches and pays them. The creations run one after the other (in the
    order of the file: the statement's balance and order are OCA's), as do
    the payments; a chunk's payments run while the next chunk's lines are
    created. Each job is one transaction: a job that dies leaves nothing of
    its work, and its rerun does it again once. The job finishing last
    closes the import and tells the user who started it.
    """

    _name = "security.bank.import"
    _inherit = ["security.job.chunked.mixin", "mail.thread"]
    _description = "Bank Statement Import"
    _order = "id desc"

    name = fields.Char(string="File", required=True, readonly=True)
    journal_id = fields.Many2one("account.journal", readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Imported By", readonly=True, default=lambda s: s.env.user
    )
    state = fields.Selection(
        STATES,
        string="Import Status",
        required=True,
        readonly=True,
        default="queued",
        index=True,
    )
    date_started = fields.Datetime(
        string="Started", readonly=True, default=fields.Datetime.now
    )
    statement_ids = fields.Many2many(
        "account.bank.statement",
        "security_bank_import_statement_rel",
        "import_id",
        "statement_id",
        string="Statements",
        readonly=True,
    )
    chunk_ids = fields.One2many(
        "security.bank.import.chunk", "import_id", string="Chunks Log", readonly=True
    )
    line_total = fields.Integer(
        string="Lines", readonly=True, help="Lines of the file to import."
    )
    line_created_count = fields.Integer(string="Lines Created", readonly=True)
    line_done_count = fields.Integer(
        string="Lines Processed",
        readonly=True,
        help="Lines created and matched (paid, to match or ignored).",
    )
    progress = fields.Float(
        compute="_compute_progress", help="Share of the lines processed."
    )
    payment_count = fields.Integer(string="Paid", readonly=True)
    payment_amount = fields.Monetary(string="Amount Paid", readonly=True)
    to_match_count = fields.Integer(string="To Match", readonly=True)
    ignored_count = fields.Integer(string="Outgoing Ignored", readonly=True)
    skipped_count = fields.Integer(string="Already Processed", readonly=True)
    import_notes = fields.Text(
        readonly=True, help="Notes of the import of the file (transactions skipped)."
    )
    error_message = fields.Text(string="Last Error", readonly=True)
    summary = fields.Text(readonly=True)

    @api.depends("state", "line_total", "line_done_count")
    def _compute_progress(self):
        for record in self:
            if record.state == "done":
                record.progress = 100.0
            elif record.line_total:
                record.progress = 100.0 * record.line_done_count / record.line_total
            else:
                record.progress = 0.0

    # ---------------------------------------------------------------- settings
    @api.model
    def _int_param(self, key, default):
        value = self.env["ir.config_parameter"].sudo().get_param(key)
        try:
            return max(int(value), 1) if value else default
        except ValueError:
            return default

    @api.model
    def _job_threshold(self):
        """Lines from which an import runs in jobs: system parameter
        ``security_billing_bank.import_job_threshold`` (default 500)."""
        return self._int_param(IMPORT_JOB_THRESHOLD_PARAM, IMPORT_JOB_THRESHOLD)

    @api.model
    def _chunk_size(self):
        """Lines per job: system parameter
        ``security_billing_bank.import_chunk_size`` (default 200)."""
        return self._int_param(IMPORT_CHUNK_SIZE_PARAM, IMPORT_CHUNK_SIZE)

    # ------------------------------------------------------------------- start
    @api.model
    def _prepare_vals(self, filename, statements, line_total, notes):
        """Values of a new import (builder).

        :param str filename: name of the imported file
        :param statements: the statements created for the file (their
            journal set, their lines to come)
        :param int line_total: lines to import
        :param list notes: OCA's notifications of the import (lines skipped)
        :return: the values of ``security.bank.import``
        :rtype: dict
        """
        return {
            "name": filename or self.env._("Statement file"),
            "company_id": statements[:1].company_id.id or self.env.company.id,
            "journal_id": statements[:1].journal_id.id,
            "user_id": self.env.uid,
            "statement_ids": [fields.Command.set(statements.ids)],
            "line_total": line_total,
            "import_notes": "\n".join(notes) or False,
        }

    def _enqueue(self):
        """Enqueue the jobs of the chunks: the line creations one after the
        other, each chunk's payment after its creation and the payment of
        the chunk before it."""
        self.ensure_one()
        chunks = self.chunk_ids.sorted("sequence")
        self.chunk_count = len(chunks)
        if not chunks:
            return
        creates = [chunk._delayable("_create_job") for chunk in chunks]
        pays = [chunk._delayable("_pay_job") for chunk in chunks]
        for index, (create, pay) in enumerate(zip(creates, pays, strict=True)):
            following = [pay]
            if index + 1 < len(chunks):
                following.append(creates[index + 1])
                pay.on_done(pays[index + 1])
            create.on_done(*following)
        creates[0].delay()
        for chunk, create, pay in zip(chunks, creates, pays, strict=True):
            jobs = (create._generated_job, pay._generated_job)
            if all(hasattr(job, "uuid") for job in jobs):
                chunk.write(
                    {"create_job_uuid": jobs[0].uuid, "pay_job_uuid": jobs[1].uuid}
                )

    def _started_action(self):
        """The wizard's answer: a notification, then the import's form."""
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "sticky": False,
                "message": self.env._(
                    "Import started: %(lines)s lines; you will be notified.",
                    lines=formatLang(self.env, self.line_total, digits=0),
                ),
                "next": {
                    "type": "ir.actions.act_window",
                    "res_model": self._name,
                    "res_id": self.id,
                    "view_mode": "form",
                    "views": [(False, "form")],
                    "target": "current",
                },
            },
        }

    # ---------------------------------------------------------------- progress
    def _chunk_sums(self):
        return {
            **super()._chunk_sums(),
            "line_created_count": SQL(
                "COALESCE(sum(line_count) FILTER (WHERE state != 'pending'), 0)"
            ),
            "line_done_count": SQL(
                "COALESCE(sum(line_count) FILTER (WHERE state = 'done'), 0)"
            ),
            "payment_count": SQL("COALESCE(sum(matched_count), 0)"),
            "payment_amount": SQL("COALESCE(sum(matched_amount), 0)"),
            "to_match_count": SQL("COALESCE(sum(to_match_count), 0)"),
            "ignored_count": SQL("COALESCE(sum(ignored_count), 0)"),
            "skipped_count": SQL("COALESCE(sum(skipped_count), 0)"),
            "error_count": SQL("count(*) FILTER (WHERE error_message IS NOT NULL)"),
        }

    def _progress_state_vals(self, state, vals):
        """*Failed* while a chunk keeps an error, else *Running*."""
        if state == "done":
            return {}
        return {"state": "failed" if vals["error_count"] else "running"}

    def _record_failure(self, chunk, error):
        """A job of ``chunk`` failed: the chunk keeps the error, the import
        shows it (*Failed* until the job is run again and passes).

        :param chunk: the chunk (``security.bank.import.chunk``)
        :param str error: the error
        """
        self.ensure_one()
        self._in_own_transaction("_write_failure", chunk, error)

    def _write_failure(self, chunk, error):
        self._lock_state()
        chunk.sudo().error_message = error
        self.sudo().write(
            {
                "state": "failed",
                "error_message": error,
                "error_count": len(self.chunk_ids.filtered(lambda c: c.error_message)),
            }
        )

    # ------------------------------------------------------------------ ending
    def _summary_counts(self):
        """The counts of the matching, as ``_security_match_and_pay`` gives
        them for an inline import."""
        self.ensure_one()
        return {
            "matched": self.payment_count,
            "to_match": self.to_match_count,
            "ignored": self.ignored_count,
            "skipped": self.skipped_count,
        }

    def _security_summary_text(self):
        """The summary of the import: OCA's notes, then the matching's
        summary, as the inline import gives them, and the figures."""
        self.ensure_one()
        lines = self.env["account.bank.statement.line"]
        parts = [
            self.env._(
                "Import of %(file)s done: %(lines)s lines, %(paid)s paid to "
                "subscribers for %(amount)s, %(to_match)s to match by hand, "
                "%(errors)s errors.",
                file=self.name,
                lines=self.line_done_count,
                paid=self.payment_count,
                amount=formatLang(
                    self.env, self.payment_amount, currency_obj=self.currency_id
                ),
                to_match=self.to_match_count,
                errors=self.error_count,
            )
        ]
        if self.import_notes:
            parts.append(self.import_notes)
        parts.append(lines._security_summary_text(self._summary_counts()))
        return "\n\n".join(parts)

    def _close(self):
        """Keep the summary and tell the user who imported the file: a
        message on the import (in their inbox) and a notification in their
        browser."""
        self.ensure_one()
        summary = self._security_summary_text()
        self.sudo().summary = summary
        _logger.info("Bank import %s: %s", self.id, summary.replace("\n\n", " "))
        notify_owner(self, self.user_id, summary, warning=bool(self.to_match_count))

    # ----------------------------------------------------------------- actions
    def action_security_retry(self):
        """Button: run the failed jobs of this import again (each does its
        chunk's step once; the jobs waiting on them follow)."""
        self.ensure_one()
        self.check_access("read")
        self._chunk_jobs(("failed",)).requeue()
        return True

    def action_view_lines(self):
        """Button: the imported lines."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "security_billing_bank.action_security_bank_lines_to_match"
        )
        action["domain"] = [("security_import_chunk_id.import_id", "=", self.id)]
        action["context"] = {"create": False}
        action["name"] = self.name
        return action
