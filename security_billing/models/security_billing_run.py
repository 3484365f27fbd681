import logging
import threading
import zlib

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.modules import module as odoo_module
from odoo.tools import split_every

_logger = logging.getLogger(__name__)

# Invoices of a run: no chatter message, follower or tracking per invoice.
BILLING_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "mail_auto_subscribe_no_notify": True,
}


class SecurityBillingRun(models.Model):
    """One execution of the billing of due MMR contracts of a company.

    Contracts are billed in batches, each committed on its own: a crash
    loses at most the batch in progress, and a rerun bills only what is
    still due (OCA ``contract`` advances the next invoice date in the
    transaction that creates the invoice). A contract that fails is logged
    and skipped; the other contracts of its batch are billed.
    """

    _name = "security.billing.run"
    _description = "Security Billing Run"
    _order = "id desc"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
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
    date_finished = fields.Datetime(string="Finished", readonly=True)
    state = fields.Selection(
        [
            ("running", "Running"),
            ("done", "Done"),
            ("interrupted", "Interrupted"),
        ],
        required=True,
        readonly=True,
        default="running",
        index=True,
    )
    contract_count = fields.Integer(string="Contracts Processed", readonly=True)
    invoice_count = fields.Integer(string="Invoices Created", readonly=True)
    invoice_amount = fields.Monetary(string="Amount Invoiced", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    error_ids = fields.One2many(
        "security.billing.run.error", "run_id", string="Errors Log", readonly=True
    )
    invoice_ids = fields.One2many(
        "account.move", "security_billing_run_id", string="Invoices", readonly=True
    )

    @api.depends("date_ref", "trigger")
    def _compute_name(self):
        triggers = dict(self._fields["trigger"]._description_selection(self.env))
        for run in self:
            run.name = self.env._(
                "Billing %(date)s (%(trigger)s)",
                date=run.date_ref,
                trigger=triggers.get(run.trigger, ""),
            )

    # ------------------------------------------------------------ entry points
    @api.model
    def _cron_security_billing_run(self):
        return self._security_run_all_companies()

    @api.model
    def _security_run_all_companies(self, date_ref=None):
        """Bill every company's due MMR contracts (the daily cron)."""
        runs = self.browse()
        for company in self.env["res.company"].sudo().search([]):
            runs |= (
                self.sudo()
                .with_company(company)
                ._security_start(trigger="cron", date_ref=date_ref, raise_if_busy=False)
            )
        return runs

    @api.model
    def action_security_run_billing_now(self):
        """Button: bill the current company's due MMR contracts now."""
        self.check_access("read")
        if not self.env.user.has_group("security_billing.group_security_billing_user"):
            raise UserError(self.env._("Only Security Billing users may run billing."))
        run = self._security_start(trigger="manual")
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": run.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    @api.model
    def _security_start(self, trigger="manual", date_ref=None, raise_if_busy=True):
        """Create the run of the current company and execute it."""
        company = self.env.company
        lock_key = zlib.crc32(f"security.billing.run:{company.id}".encode())
        self.env.cr.execute("SELECT pg_try_advisory_lock(%s)", [lock_key])
        if not self.env.cr.fetchone()[0]:
            if raise_if_busy:
                raise UserError(
                    self.env._(
                        "A billing run of %(company)s is already in progress.",
                        company=company.name,
                    )
                )
            return self.browse()
        try:
            run = self.sudo()._security_create_run(trigger, date_ref)
            run._security_execute()
        finally:
            self.env.cr.execute("SELECT pg_advisory_unlock(%s)", [lock_key])
        return run.with_env(self.env)

    @api.model
    def _security_create_run(self, trigger, date_ref):
        company = self.env.company
        # Holding the company's lock: a run still "running" died with its worker.
        self.search([("company_id", "=", company.id), ("state", "=", "running")]).write(
            {"state": "interrupted", "date_finished": fields.Datetime.now()}
        )
        run = self.create(
            {
                "company_id": company.id,
                "trigger": trigger,
                "date_ref": date_ref or fields.Date.context_today(self),
                "date_started": fields.Datetime.now(),
                "user_id": self.env.uid,
            }
        )
        self._security_commit()
        return run

    # --------------------------------------------------------------- execution
    @api.model
    def _security_batch_size(self):
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("security_billing.billing_run_batch_size", 200)
        )

    @api.model
    def _security_in_test_mode(self):
        return bool(
            odoo_module.current_test
            or self.env.registry.in_test_mode()
            or getattr(threading.current_thread(), "testing", False)
        )

    def _security_commit(self):
        """Commit the work done so far, except in tests (savepoints there) and
        inside a larger transaction (context ``security_billing_no_commit``,
        e.g. demo data loaded by the module installation)."""
        if not (
            self._security_in_test_mode()
            or self.env.context.get("security_billing_no_commit")
        ):
            # Each batch is committed on its own: a crash loses at most the
            # batch in progress (the purpose of the billing run).
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _security_contracts_domain(self):
        self.ensure_one()
        contracts = self.env["contract.contract"]
        return contracts._security_billing_run_domain(self.date_ref) + [
            ("company_id", "=", self.company_id.id)
        ]

    def _security_execute(self):
        """Bill the due contracts batch by batch, then close the run."""
        self.ensure_one()
        contracts = self.env["contract.contract"].with_company(self.company_id)
        contract_ids = contracts.search(
            self._security_contracts_domain(), order="id"
        ).ids
        for batch_ids in split_every(self._security_batch_size(), contract_ids):
            self._security_process_batch(list(batch_ids))
            self._security_commit()
            self.env.invalidate_all()
        self.write({"state": "done", "date_finished": fields.Datetime.now()})
        self._security_commit()
        _logger.info(
            "%s: %s contracts, %s invoices, %s errors",
            self.name,
            self.contract_count,
            self.invoice_count,
            self.error_count,
        )
        return True

    def _security_process_batch(self, contract_ids):
        """Bill one batch; a failure of the batch itself is logged, not raised."""
        self.ensure_one()
        contracts = (
            self.env["contract.contract"]
            .with_company(self.company_id)
            .with_context(
                security_billing_run=True,
                security_billing_run_id=self.id,
                **BILLING_CONTEXT,
            )
            .browse(contract_ids)
        )
        try:
            with self.env.cr.savepoint():
                moves, errors = contracts._security_bill_due(self.date_ref)
                self._security_record(contracts, moves, errors)
        except Exception as exc:  # any failure must not stop the run
            _logger.exception("%s: batch failed", self.name)
            self._security_record(
                contracts.browse(),
                self.env["account.move"],
                [
                    (
                        contracts.browse(),
                        self.env._(
                            "A batch of %(count)s contracts (ids %(first)s to "
                            "%(last)s) failed and was not billed: %(error)s",
                            count=len(contract_ids),
                            first=contract_ids[0],
                            last=contract_ids[-1],
                            error=exc,
                        ),
                    )
                ],
            )

    def _security_record(self, contracts, moves, errors):
        """Add a batch's figures and errors to the run."""
        self.ensure_one()
        self.env["security.billing.run.error"].create(
            [
                {
                    "run_id": self.id,
                    "contract_id": contract.id or False,
                    "message": str(message),
                }
                for contract, message in errors
            ]
        )
        self.write(
            {
                "contract_count": self.contract_count + len(contracts),
                "invoice_count": self.invoice_count + len(moves),
                "invoice_amount": self.invoice_amount
                + sum(moves.mapped("amount_total_signed")),
                "error_count": self.error_count + len(errors),
            }
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
