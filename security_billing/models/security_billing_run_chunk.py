from psycopg2 import OperationalError

from odoo import fields, models
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY


class SecurityBillingRunChunk(models.Model):
    """A slice of a billing run, billed by one background job.

    At its start the run splits its due contracts by id ranges; each chunk
    is a job of the channel ``root.security_billing.billing``, and jobs run
    in parallel. A chunk writes only its own row and its errors (parallel
    chunks never update the same row); the run adds up its chunks.
    """

    _name = "security.billing.run.chunk"
    _inherit = ["security.job.chunk.mixin"]
    _description = "Security Billing Run Chunk"
    _order = "run_id, sequence"
    _chunk_work_field = "run_id"
    _chunk_job_uuid_fields = ("job_uuid",)

    run_id = fields.Many2one(
        "security.billing.run",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="run_id.currency_id")
    first_contract_id = fields.Integer(string="First Contract Id", readonly=True)
    last_contract_id = fields.Integer(string="Last Contract Id", readonly=True)
    contract_total = fields.Integer(
        string="Contracts Due",
        readonly=True,
        help="Due contracts of this id range when the run started.",
    )
    state = fields.Selection(
        [("pending", "Pending"), ("done", "Done")],
        string="Chunk Status",
        required=True,
        readonly=True,
        default="pending",
    )
    job_uuid = fields.Char(
        string="Job UUID", readonly=True, groups="base.group_system", copy=False
    )
    contract_count = fields.Integer(string="Contracts Processed", readonly=True)
    invoice_count = fields.Integer(string="Invoices Created", readonly=True)
    invoice_amount = fields.Monetary(string="Amount Invoiced", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)

    def _run_chunk(self):
        """Job: bill the due contracts of this chunk, then update the run.

        Rerun-safe: a chunk already done bills nothing; a chunk whose
        transaction died billed nothing (OCA moves the next invoice date in
        the transaction that creates the invoice), so it bills it all again.
        """
        self.ensure_one()
        if self.state != "done":
            self._run_step(self._bill_range)
        else:
            self.run_id._update_progress()
        return self.env._(
            "%(contracts)s contracts, %(invoices)s invoices, %(errors)s errors",
            contracts=self.contract_count,
            invoices=self.invoice_count,
            errors=self.error_count,
        )

    def _security_contracts(self):
        """The due contracts of the chunk's id range (``_security_bill_due``
        checks again what is due, contract by contract)."""
        self.ensure_one()
        run = self.run_id
        domain = run._contracts_domain() + [
            ("id", ">=", self.first_contract_id),
            ("id", "<=", self.last_contract_id),
        ]
        return (
            self.env["contract.contract"]
            .with_company(run.company_id)
            .search(domain, order="id")
        )

    def _bill_range(self):
        """Bill the chunk's contracts and record the figures (a step of
        ``_run_step``: a failure of the batch is recorded, not raised, except
        a concurrency error: then the job is retried)."""
        self.ensure_one()
        run = self.run_id
        contracts = run._billing_contracts(self._security_contracts()).with_context(
            security_billing_run=True,
            security_billing_run_id=run.id,
            **run._billing_context(),
        )
        moves, errors = contracts._security_bill_due(run.date_ref)
        self._record(contracts, moves, errors)

    def _is_transient(self, exc):
        """Only PostgreSQL's concurrency errors are retried: billing calls no
        network."""
        return (
            isinstance(exc, OperationalError)
            and exc.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY
        )

    def _record_failure(self, exc):
        """The whole batch failed: nothing billed, one error for the batch."""
        contracts = self._security_contracts()
        self._record(
            contracts.browse(),
            self.env["account.move"],
            [(contracts.browse(), self._batch_error(contracts, exc))],
        )

    def _batch_error(self, contracts, exc):
        return self.env._(
            "A batch of %(count)s contracts (ids %(first)s to %(last)s) failed "
            "and was not billed: %(error)s",
            count=len(contracts),
            first=self.first_contract_id,
            last=self.last_contract_id,
            error=exc,
        )

    def _record(self, contracts, moves, errors):
        """Store the chunk's figures and errors (its own rows only)."""
        self.ensure_one()
        self.env["security.billing.run.error"].create(
            [
                {
                    "run_id": self.run_id.id,
                    "contract_id": contract.id or False,
                    "message": str(message),
                }
                for contract, message in errors
            ]
        )
        self.write(
            {
                "state": "done",
                "date_done": fields.Datetime.now(),
                "contract_count": len(contracts),
                "invoice_count": len(moves),
                "invoice_amount": sum(moves.mapped("amount_total_signed")),
                "error_count": len(errors),
            }
        )
