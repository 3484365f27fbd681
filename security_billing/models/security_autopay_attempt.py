import logging
from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.queue_job.exception import RetryableJobError

from ..tools.jobs import is_transient_error

_logger = logging.getLogger(__name__)

STATES = [
    ("draft", "Sending"),
    ("pending", "Pending"),
    ("done", "Paid"),
    ("failed", "Failed, will retry"),
    ("stopped", "Failed"),
]
LIVE_STATES = ("draft", "pending")


class SecurityAutopayAttempt(models.Model):
    """One off-session charge of a saved billing method for one MMR invoice.

    Never charge twice: (invoice, attempt number) and the reference are
    unique, the invoice row is locked (SKIP LOCKED) while an attempt is
    created and sent, and no new attempt starts while one is live.
    """

    _name = "security.autopay.attempt"
    _description = "Security Billing Autopay Attempt"
    _order = "id desc"

    name = fields.Char(string="Reference", required=True, readonly=True)
    invoice_id = fields.Many2one(
        "account.move", required=True, readonly=True, index=True, ondelete="restrict"
    )
    partner_id = fields.Many2one(
        "res.partner", string="Subscriber", required=True, readonly=True, index=True
    )
    contract_id = fields.Many2one("contract.contract", readonly=True, index=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    attempt_no = fields.Integer(string="Attempt", required=True, readonly=True)
    token_id = fields.Many2one("payment.token", string="Method", readonly=True)
    transaction_id = fields.Many2one(
        "payment.transaction", readonly=True, index=True, ondelete="restrict"
    )
    payment_id = fields.Many2one(related="transaction_id.payment_id")
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    date = fields.Date(string="Charged On", required=True, readonly=True)
    state = fields.Selection(
        STATES,
        string="Charge Status",
        required=True,
        readonly=True,
        default="draft",
        index=True,
    )
    next_retry_date = fields.Date(readonly=True)
    error = fields.Text(readonly=True)

    _sql_constraints = [
        (
            "invoice_attempt_uniq",
            "unique (invoice_id, attempt_no)",
            "This autopay attempt of the invoice already exists.",
        ),
        ("name_uniq", "unique (name)", "Autopay references are unique."),
    ]

    # -------------------------------------------------------------------- cron
    @api.model
    def _cron_security_autopay(self):
        return self._enqueue_autopay()

    @api.model
    def _enqueue_autopay(self, date_ref=None):
        """Enqueue one job per due charge; charge nothing here.

        The job of charge N of an invoice has the identity key of its
        attempt reference: enqueuing it again while it waits (two crons,
        two servers, a rerun) returns the waiting job. Returns the jobs.
        """
        self = self.sudo()  # a system process: charges, payments, notices
        date_ref = date_ref or fields.Date.context_today(self)
        jobs = []
        for invoice_id, company_id, attempt_no in self._candidate_charges(date_ref):
            reference = self._attempt_reference(invoice_id, attempt_no)
            jobs.append(
                self.with_company(company_id)
                .with_delay(
                    description=self.env._(
                        "Autopay charge %(reference)s", reference=reference
                    ),
                    identity_key=self._charge_identity_key(reference),
                )
                ._charge_job(invoice_id, attempt_no, date_ref)
            )
        return jobs

    @api.model
    def _charge_identity_key(self, reference):
        return f"{self._name}:{reference}"

    @api.model
    def _charge_job(self, invoice_id, attempt_no, date_ref):
        """Job: make charge ``attempt_no`` of the invoice, or finish it.

        Rerun-safe: the charge is made only while it is the invoice's next
        one (or still live), under the invoice lock; a transient error
        rolls the charge back and retries the job later (back-off of the
        job function); a declined card is a failed attempt, not a retry.
        """
        self = self.sudo()
        commit = self.env["security.billing.run"]._can_commit()
        attempt = self._autopay_invoice(
            invoice_id, date_ref, attempt_no=attempt_no, commit=commit
        )
        if not attempt:
            return self.env._("Nothing to charge.")
        return self.env._(
            "%(reference)s: %(state)s",
            reference=attempt.name,
            state=dict(self._fields["state"]._description_selection(self.env))[
                attempt.state
            ],
        )

    @api.model
    def _run_autopay(self, date_ref=None, commit=False):
        """Charge the MMR invoices due for autopay at once, as their jobs
        would; finish open attempts.

        Each invoice is one unit of work (savepoint; committed when
        ``commit``): one failing invoice never blocks the others, one
        failing for a transient reason is left to the next run. Returns
        the attempts touched.
        """
        self = self.sudo()  # a system process: charges, payments, notices
        date_ref = date_ref or fields.Date.context_today(self)
        attempts = self.browse()
        for invoice_id in self._candidate_invoice_ids(date_ref):
            try:
                attempts |= self._autopay_invoice(invoice_id, date_ref, commit=commit)
            except RetryableJobError:
                continue  # logged by _step
        return attempts

    @api.model
    def _autopay_invoice(self, invoice_id, date_ref, attempt_no=None, commit=False):
        """Charge one invoice and finish its attempt: the work of one job."""
        attempt = self._step(
            commit, self._charge_invoice, invoice_id, date_ref, attempt_no
        )
        if attempt:
            self._step(commit, attempt._finish)
        return attempt

    @api.model
    def _step(self, commit, method, *args):
        """Run one step in a savepoint; commit it when ``commit``.

        A transient error rolls the step back and raises
        ``RetryableJobError`` (the job is retried later); any other error
        is logged and the step returns nothing.
        """
        name = getattr(method, "__name__", method)
        try:
            with self.env.cr.savepoint():
                result = method(*args)
        except Exception as exc:  # one broken invoice must not stop the run
            if is_transient_error(exc):
                _logger.warning(
                    "Autopay step %s%r will be retried: %s", name, args, exc
                )
                raise RetryableJobError(str(exc)) from exc
            _logger.exception("Autopay step %s%r failed", name, args)
            return self.browse()
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return result

    @api.model
    def _candidate_invoice_ids(self, date_ref):
        """Posted open MMR invoices with a saved method whose charge is due."""
        return [row[0] for row in self._candidate_charges(date_ref)]

    @api.model
    def _candidate_charges(self, date_ref):
        """``[(invoice id, company id, attempt number)]`` of the charges due:
        posted open MMR invoices with a saved method whose charge is due,
        with the number of their live attempt or of their next one."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT m.id, m.company_id,
                   CASE WHEN last.state IN %(live)s THEN last.attempt_no
                        ELSE COALESCE(last.attempt_no, 0) + 1 END
              FROM account_move m
              JOIN res_company c ON c.id = m.company_id
              JOIN res_partner p ON p.id = m.commercial_partner_id
              LEFT JOIN contract_contract k ON k.id = m.security_contract_id
              LEFT JOIN LATERAL (
                    SELECT a.state, a.next_retry_date, a.token_id, a.attempt_no
                      FROM security_autopay_attempt a
                     WHERE a.invoice_id = m.id
                     ORDER BY a.attempt_no DESC LIMIT 1
              ) last ON TRUE
              LEFT JOIN payment_token t
                ON t.id = COALESCE(k.security_autopay_token_id,
                                   p.security_autopay_token_id)
               AND t.active
             WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
               AND m.security_is_mmr
               AND m.payment_state IN ('not_paid', 'partial')
               AND m.amount_residual > 0
               AND m.company_id IN %(companies)s
               AND CASE WHEN c.security_autopay_trigger = 'due'
                        THEN m.invoice_date_due ELSE m.invoice_date END
                   <= %(date)s
               AND (last.state IN %(live)s
                    OR (t.id IS NOT NULL
                        AND (last.state IS NULL
                             OR (last.state = 'failed'
                                 AND last.next_retry_date <= %(date)s)
                             OR (last.state = 'stopped'
                                 AND last.token_id IS DISTINCT FROM t.id))))
             ORDER BY m.invoice_date_due, m.id
            """,
            {
                "companies": tuple(self.env.companies.ids),
                "date": date_ref,
                "live": LIVE_STATES,
            },
        )
        return self.env.cr.fetchall()

    # ----------------------------------------------------------------- charge
    @api.model
    def _charge_invoice(self, invoice_id, date_ref, attempt_no=None):
        """Charge one invoice by autopay: lock the invoice, then return its
        live attempt or start a new one (an off-session transaction sent to
        the provider).

        :param int invoice_id: an open posted MMR invoice.
        :param date_ref: the day of the run.
        :param attempt_no: a job's charge: only when that attempt is the live
            one or the next one, so a job run again after its charge was made
            charges nothing.
        :return: the live or new attempt; empty when another worker holds the
            invoice or no charge is due (no usable method, nothing left to
            pay, retry not due yet).
        :rtype: security.autopay.attempt
        """
        self.env.cr.execute(
            "SELECT id FROM account_move WHERE id = %s FOR UPDATE SKIP LOCKED",
            [invoice_id],
        )
        if not self.env.cr.fetchone():
            return self.browse()  # another worker is charging it right now
        invoice = self.env["account.move"].browse(invoice_id)
        invoice.invalidate_recordset()
        last = self.search(
            [("invoice_id", "=", invoice.id)], order="attempt_no desc", limit=1
        )
        if attempt_no and attempt_no != self._next_attempt_no(last):
            return self.browse()  # this charge was made (or superseded) meanwhile
        if last.state in LIVE_STATES:
            return last
        token = (
            invoice.security_contract_id._security_autopay_token()
            if (invoice.security_contract_id)
            else invoice.commercial_partner_id._security_partner_autopay_token()
        )
        if not self._may_charge(invoice, token, last, date_ref):
            return self.browse()
        attempt = self.create(
            self._prepare_attempt_vals(invoice, token, last, date_ref)
        )
        attempt._send()
        return attempt

    @api.model
    def _may_charge(self, invoice, token, last, date_ref):
        if not token or token.company_id != invoice.company_id:
            return False
        if invoice.payment_state not in ("not_paid", "partial"):
            return False
        if invoice.currency_id.compare_amounts(invoice.amount_residual, 0.0) <= 0:
            return False
        if not last:
            return True
        if last.state == "failed":
            return last.next_retry_date and last.next_retry_date <= date_ref
        return last.state == "stopped" and last.token_id != token

    @api.model
    def _next_attempt_no(self, last):
        """Number of the invoice's live attempt, or of its next one."""
        if last.state in LIVE_STATES:
            return last.attempt_no
        return (last.attempt_no or 0) + 1

    @api.model
    def _attempt_reference(self, invoice_id, attempt_no):
        return f"AUTOPAY-{invoice_id}-{attempt_no}"

    @api.model
    def _prepare_attempt_vals(self, invoice, token, last, date_ref):
        attempt_no = (last.attempt_no or 0) + 1
        return {
            "name": self._attempt_reference(invoice.id, attempt_no),
            "invoice_id": invoice.id,
            "partner_id": invoice.commercial_partner_id.id,
            "contract_id": invoice.security_contract_id.id,
            "company_id": invoice.company_id.id,
            "attempt_no": attempt_no,
            "token_id": token.id,
            "currency_id": invoice.currency_id.id,
            "amount": invoice.amount_residual,
            "date": date_ref,
        }

    def _prepare_transaction_vals(self):
        self.ensure_one()
        token = self.token_id
        return {
            "provider_id": token.provider_id.id,
            "payment_method_id": token.payment_method_id.id,
            "reference": self.name,
            "amount": self.amount,
            "currency_id": self.currency_id.id,
            "partner_id": self.invoice_id.partner_id.id,
            "token_id": token.id,
            "operation": "offline",
            "invoice_ids": [Command.set(self.invoice_id.ids)],
        }

    def _send(self):
        """Create the transaction and ask the provider to charge the token.

        A provider that refuses to even try (unavailable, misconfigured) is a
        soft failure: retried on schedule. A declined or cancelled charge is a
        hard failure (see ``_sync_state``).
        """
        self.ensure_one()
        if not self.env["res.partner"]._security_owns_token(
            self.partner_id, self.token_id
        ):
            # set behind the constraints' back (SQL, older data): never charge
            self._mark_failed(
                self.env._(
                    "The autopay method %(method)s does not belong to the billed "
                    "customer: not charged.",
                    method=self.token_id.sudo().display_name,
                ),
                retry=False,
                reason="method",
            )
            return
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(self._prepare_transaction_vals())
        )
        self.transaction_id = tx
        try:
            with self.env.cr.savepoint():
                tx._send_payment_request()
        except (UserError, ValidationError) as exc:
            tx._set_error(str(exc))
            self._mark_failed(str(exc), retry=True, reason="unavailable")
            return
        self._sync_state()

    def _finish(self):
        """Post-process a charge the provider confirmed (also after a crash)."""
        for attempt in self.filtered(lambda a: a.state in LIVE_STATES):
            tx = attempt.transaction_id.sudo()
            if tx.state == "done" and not tx.is_post_processed:
                tx._post_process()  # creates and allocates the payment
            attempt._sync_state()
        return self

    # ------------------------------------------------------------------ state
    def _sync_state(self):
        """Mirror the transaction state on the attempt."""
        for attempt in self.filtered(lambda a: a.state in LIVE_STATES):
            tx = attempt.transaction_id.sudo()
            if tx.state == "done" and tx.payment_id:
                attempt.write({"state": "done", "next_retry_date": False})
            elif tx.state in ("done", "pending", "authorized"):
                attempt.state = "pending"
            elif tx.state in ("error", "cancel"):
                cancelled = tx.state == "cancel"
                attempt._mark_failed(
                    tx.state_message
                    or (
                        _("The charge was cancelled.")
                        if cancelled
                        else _("The charge was declined.")
                    ),
                    retry=False,
                    reason="cancelled" if cancelled else "declined",
                )

    def _mark_failed(self, error, retry, reason):
        """Record a failure, schedule the next retry if any, tell the customer.

        :param str error: what failed, for the accountant (the provider's own
            message when it gave one)
        :param bool retry: whether the company's retry schedule applies
        :param str reason: the kind of failure the customer is told, see
            ``_customer_reason``
        """
        self.ensure_one()
        next_date = self._next_retry_date() if retry else False
        self.write(
            {
                "state": "failed" if next_date else "stopped",
                "next_retry_date": next_date,
                "error": error,
            }
        )
        self.env["security.notification.log"]._notify(
            "autopay_failed",
            self,
            self.partner_id,
            amount=self.amount,
            date_value=next_date,
            note=self._customer_reason(reason),
            contract_id=self.contract_id,
            company_id=self.company_id,
        )

    def _customer_reason(self, reason):
        """The failure as the customer's notice tells it, in the customer's
        language. The provider's message stays on the attempt (``error``):
        it is in the provider's language, and written for the accountant.

        :param str reason: ``declined``, ``cancelled``, ``unavailable`` (the
            provider could not take the charge; retried on schedule) or
            ``method`` (the saved method cannot be used)
        :return: the words the notice quotes
        :rtype: str
        """
        self.ensure_one()
        env = self.with_context(lang=self.partner_id.lang or self.env.lang).env
        reasons = {
            "declined": env._("the charge was declined"),
            "cancelled": env._("the charge was cancelled"),
            "unavailable": env._("the payment service could not take the charge"),
            "method": env._("the saved billing method cannot be used"),
        }
        return reasons[reason]

    def _next_retry_date(self):
        """Next date of the company's retry schedule; False when exhausted.

        The schedule restarts when the customer saves a new method.
        """
        self.ensure_one()
        schedule = self.company_id._security_autopay_retry_schedule()
        same_method = self.search_count(
            [
                ("invoice_id", "=", self.invoice_id.id),
                ("token_id", "=", self.token_id.id),
                ("attempt_no", "<", self.attempt_no),
            ]
        )
        if same_method >= len(schedule):
            return False
        first = self.search(
            [
                ("invoice_id", "=", self.invoice_id.id),
                ("token_id", "=", self.token_id.id),
            ],
            order="attempt_no",
            limit=1,
        )
        return first.date + timedelta(days=schedule[same_method])

    # ------------------------------------------------------- upcoming notices
    @api.model
    def _claim_upcoming(self, date_ref, companies, contract_domain=None):
        """Claim the notices of the autopay charges of ``companies`` (of the
        contracts of ``contract_domain`` if given) due within the notice days
        (sent by their job, see ``security.notification.log``)."""
        notices = self.env["security.notification.log"]
        for company in companies:
            horizon = date_ref + timedelta(days=company.security_autopay_notice_days)
            for contract, charge_date, amount in self._upcoming_rows(
                company, date_ref, horizon, contract_domain
            ):
                notices |= notices._claim_notice(
                    "autopay_upcoming",
                    contract,
                    contract.partner_id.commercial_partner_id,
                    period=charge_date.isoformat(),
                    amount=amount,
                    date_value=charge_date,
                    contract_id=contract,
                    company_id=company,
                )
        return notices

    @api.model
    def _upcoming_rows(self, company, date_ref, horizon, contract_domain=None):
        """``[(contract, charge date, amount)]`` of the coming autopay charges
        (of the contracts of ``contract_domain`` if given)."""
        contracts = (
            self.env["contract.contract"]
            .search(
                [
                    ("company_id", "=", company.id),
                    ("security_is_mmr", "=", True),
                    ("security_state", "!=", "terminated"),
                ]
                + (contract_domain or [])
            )
            .filtered("security_autopay_active")
        )
        rows = []
        if company.security_autopay_trigger == "due":
            invoices = self.env["account.move"].search(
                [
                    ("security_contract_id", "in", contracts.ids),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("invoice_date_due", ">", date_ref),
                    ("invoice_date_due", "<=", horizon),
                ]
            )
            for invoice in invoices:
                rows.append(
                    (
                        invoice.security_contract_id,
                        invoice.invoice_date_due,
                        invoice.amount_residual,
                    )
                )
            return rows
        for contract in contracts:
            next_date = contract.recurring_next_date
            if next_date and date_ref < next_date <= horizon:
                amount = contract._security_fee_with_taxes("price_subtotal")
                rows.append((contract, next_date, amount))
        return rows
