import logging

from psycopg2 import errors as pgerrors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount, split_every

from odoo.addons.queue_job.job import Job

from ..tools.jobs import delay_once
from ..tools.notify import notify_owner

_logger = logging.getLogger(__name__)

# Invoices of a run: no chatter message, follower or tracking per invoice.
BILLING_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "mail_auto_subscribe_no_notify": True,
}

# queue.job states of a job that will still run
LIVE_JOB_STATES = ("wait_dependencies", "pending", "enqueued", "started")


class SecurityBillingRun(models.Model):
    """One execution of the billing of due MMR contracts of a company.

    Starting a run only creates it and enqueues its chunks: the due
    contracts at start, by id ranges of ``billing_run_batch_size``, each a
    job of the channel ``root.security_billing.billing`` (OCA
    ``queue_job``), run in parallel by the jobrunner. A chunk is one
    transaction: a crash loses at most the chunk in progress, and its rerun
    bills only what is still due (OCA ``contract`` advances the next invoice
    date in the transaction that creates the invoice). A contract that fails
    is logged and skipped; the other contracts of its chunk are billed. The
    chunk that finishes last closes the run. One run per company at a time.
    """

    _name = "security.billing.run"
    _inherit = ["security.job.chunked.mixin", "mail.thread"]
    _description = "Security Billing Run"
    _order = "id desc"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name", store=True)
    user_id = fields.Many2one(
        "res.users", string="Started By", readonly=True, default=lambda s: s.env.user
    )
    trigger = fields.Selection(
        [("cron", "Scheduled"), ("manual", "Manual")],
        required=True,
        readonly=True,
        default="manual",
    )
    date_ref = fields.Date(
        string="Billing Date",
        required=True,
        readonly=True,
        default=fields.Date.context_today,
        help="Contracts whose next invoice date is on or before this date "
        "are billed; it is the date of the invoices.",
    )
    date_started = fields.Datetime(string="Started", readonly=True)
    state = fields.Selection(
        string="Run Status",
        selection=[
            ("running", "Running"),
            ("done", "Done"),
            ("interrupted", "Interrupted"),
        ],
        required=True,
        readonly=True,
        default="running",
        index=True,
    )
    contract_total = fields.Integer(
        string="Contracts Due",
        readonly=True,
        help="Due MMR contracts when the run started.",
    )
    chunk_ids = fields.One2many(
        "security.billing.run.chunk", "run_id", string="Chunks Log", readonly=True
    )
    progress = fields.Float(
        compute="_compute_progress",
        help="Share of the contracts due at start whose chunk is done.",
    )
    contract_count = fields.Integer(string="Contracts Processed", readonly=True)
    invoice_count = fields.Integer(string="Invoices Created", readonly=True)
    invoice_amount = fields.Monetary(string="Amount Invoiced", readonly=True)
    error_ids = fields.One2many(
        "security.billing.run.error", "run_id", string="Errors Log", readonly=True
    )
    invoice_ids = fields.One2many(
        "account.move", "security_billing_run_id", string="Invoices", readonly=True
    )

    def _auto_init(self):
        res = super()._auto_init()
        # One run per company at a time, also for two starts at once. Runs
        # left "running" without chunks by the former synchronous billing
        # died with their worker.
        self.env.cr.execute(
            "UPDATE security_billing_run SET state = 'interrupted' "
            "WHERE state = 'running' AND COALESCE(chunk_count, 0) = 0"
        )
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS security_billing_run_one_running
                ON security_billing_run (company_id) WHERE state = 'running'
            """
        )
        return res

    @api.depends("date_ref", "trigger")
    def _compute_name(self):
        triggers = dict(self._fields["trigger"]._description_selection(self.env))
        for run in self:
            run.name = self.env._(
                "Billing %(date)s (%(trigger)s)",
                date=run.date_ref,
                trigger=triggers.get(run.trigger, ""),
            )

    @api.depends("state", "contract_total", "chunk_ids.state")
    def _compute_progress(self):
        for run in self:
            if run.state == "done" or not run.contract_total:
                run.progress = 100.0 if run.state == "done" else 0.0
                continue
            done = sum(
                run.chunk_ids.filtered(lambda c: c.state == "done").mapped(
                    "contract_total"
                )
            )
            run.progress = 100.0 * done / run.contract_total

    # ------------------------------------------------------------ entry points
    @api.model
    def _cron_security_billing_run(self):
        return self._run_all_companies()

    @api.model
    def _run_all_companies(self, date_ref=None):
        """Start the billing of every company's due MMR contracts (the daily
        cron); a company whose run is still going is skipped."""
        runs = self.browse()
        for company in self.env["res.company"].sudo().search([]):
            runs |= (
                self.sudo()
                .with_company(company)
                ._start(trigger="cron", date_ref=date_ref, raise_if_busy=False)
            )
        return runs

    @api.model
    def action_security_run_billing_now(self):
        """Button: start the billing of the current company's due MMR
        contracts and open the run (its chunks run in the background)."""
        self.check_access("read")
        if not self.env.user.has_group("security_billing.group_security_billing_user"):
            raise UserError(self.env._("Only Security Billing users may run billing."))
        run = self._start(trigger="manual")
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": run.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    @api.model
    def _start(self, trigger="manual", date_ref=None, raise_if_busy=True):
        """Create the run of the current company and enqueue its chunks.

        :param str trigger: what started it (``manual``, ``cron``).
        :param date_ref: the billing date (default: today).
        :param bool raise_if_busy: raise while a run of the company is
            running; else return an empty recordset.
        :return: the new run (empty when busy and not ``raise_if_busy``).
        :rtype: security.billing.run
        :raises UserError: a run of the company is running and
            ``raise_if_busy``.
        """
        run = self.sudo()._create_run(trigger, date_ref, raise_if_busy)
        if run:
            run._enqueue_chunks()
        return run.with_env(self.env)

    @api.model
    def _create_run(self, trigger, date_ref, raise_if_busy=True):
        company = self.env.company
        if self._close_dead_runs(company):
            return self._busy(company, raise_if_busy)
        try:
            with self.env.cr.savepoint():
                return self.with_context(
                    mail_create_nolog=True, mail_create_nosubscribe=True
                ).create(
                    {
                        "company_id": company.id,
                        "trigger": trigger,
                        "date_ref": date_ref or fields.Date.context_today(self),
                        "date_started": fields.Datetime.now(),
                        "user_id": self.env.uid,
                    }
                )
        except pgerrors.UniqueViolation:
            # another transaction started a run of the company meanwhile
            return self._busy(company, raise_if_busy)

    @api.model
    def _busy(self, company, raise_if_busy):
        if raise_if_busy:
            raise UserError(
                self.env._(
                    "A billing run of %(company)s is already in progress: wait "
                    "for it to finish (see Billing Runs).",
                    company=company.name,
                )
            )
        return self.browse()

    @api.model
    def _close_dead_runs(self, company):
        """Mark *Interrupted* the running runs of ``company`` that no job
        will finish (a job failed or was cancelled, or a worker died);
        returns the runs still going."""
        running = self.search(
            [("company_id", "=", company.id), ("state", "=", "running")]
        )
        going = running.filtered(lambda run: run._has_live_jobs())
        (running - going).write(
            {"state": "interrupted", "date_finished": fields.Datetime.now()}
        )
        return going

    def _has_live_jobs(self):
        """Whether a job of a chunk of this run not done will still run."""
        self.ensure_one()
        pending = self.chunk_ids.filtered(lambda c: c.state != "done")
        return bool(self._chunk_jobs(LIVE_JOB_STATES, chunks=pending, limit=1))

    # --------------------------------------------------------------- execution
    @api.model
    def _batch_size(self):
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("security_billing.billing_run_batch_size", 200)
        )

    @api.model
    def _billing_context(self):
        return dict(BILLING_CONTEXT)

    @api.model
    def _billing_contracts(self, contracts):
        """The contracts as a chunk bills them: as superuser, whoever started
        the run.

        The cron's runs bill as OdooBot already; a manual run was started by
        a billing user for their current company (*Run billing now* checks
        it) and bills the same contracts, without Odoo's access checks and
        record rules on every invoice, item and follower it creates (about
        a sixth of a chunk's CPU). The invoices keep that user as creator.
        """
        return contracts.sudo()

    def _contracts_domain(self):
        self.ensure_one()
        contracts = self.env["contract.contract"]
        return contracts._security_billing_run_domain(self.date_ref) + [
            ("company_id", "=", self.company_id.id)
        ]

    def _enqueue_chunks(self):
        """Split the due contracts in chunks by id ranges, one job each."""
        self.ensure_one()
        contract_ids = (
            self.env["contract.contract"]
            .with_company(self.company_id)
            .search(self._contracts_domain(), order="id")
            .ids
        )
        chunks = self.env["security.billing.run.chunk"].create(
            [
                {
                    "run_id": self.id,
                    "sequence": sequence,
                    "first_contract_id": batch[0],
                    "last_contract_id": batch[-1],
                    "contract_total": len(batch),
                }
                for sequence, batch in enumerate(
                    split_every(self._batch_size(), contract_ids), 1
                )
            ]
        )
        self.write({"contract_total": len(contract_ids), "chunk_count": len(chunks)})
        if not chunks:
            self._add_up_chunks()
            return chunks
        for chunk in chunks:
            job = delay_once(
                chunk,
                self.env._(
                    "%(run)s: contracts %(first)s to %(last)s",
                    run=self.name,
                    first=chunk.first_contract_id,
                    last=chunk.last_contract_id,
                ),
            )._run_chunk()
            if isinstance(job, Job):  # not run at once (queue_job__no_delay)
                chunk.job_uuid = job.uuid
        return chunks

    def _chunk_sums(self):
        return {
            **super()._chunk_sums(),
            "contract_count": SQL("COALESCE(sum(contract_count), 0)"),
            "invoice_count": SQL("COALESCE(sum(invoice_count), 0)"),
            "invoice_amount": SQL("COALESCE(sum(invoice_amount), 0)"),
            "error_count": SQL("COALESCE(sum(error_count), 0)"),
        }

    def _is_closing(self, state, vals):
        """Only a running run closes (an interrupted one stays so)."""
        return state == "running" and super()._is_closing(state, vals)

    def _close(self):
        _logger.info(
            "%s: %s contracts, %s invoices, %s errors",
            self.name,
            self.contract_count,
            self.invoice_count,
            self.error_count,
        )
        self._notify_done()

    def _notify_done(self):
        """Tell the user who started the run that it is done: a message on
        the run (in their inbox) and a notification in their browser."""
        self.ensure_one()
        user = self.user_id
        message = self._done_message(user.lang or self.env.lang)
        notify_owner(
            self,
            user,
            message,
            warning=bool(self.error_count),
            sticky=bool(self.error_count),
        )

    def _done_message(self, lang):
        """The "billing run done" sentence in ``lang``, its amount formatted
        with the company's currency as that language writes numbers.

        :param str lang: a language code such as ``ru_RU``.
        :return: the translated message.
        :rtype: str
        """
        self.ensure_one()
        env = self.with_context(lang=lang).env
        return env._(
            "Billing run done: %(contracts)s contracts billed, %(invoices)s "
            "invoices (%(amount)s), %(errors)s errors.",
            contracts=self.contract_count,
            invoices=self.invoice_count,
            amount=format_amount(
                env, self.invoice_amount, self.currency_id, lang_code=lang
            ),
            errors=self.error_count,
        )

    # ----------------------------------------------------------------- actions
    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("security_billing_run_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
