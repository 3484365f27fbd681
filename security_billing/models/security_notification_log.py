import logging

from odoo import api, fields, models

from odoo.addons.queue_job.exception import RetryableJobError

from ..tools.jobs import delay_once, is_transient_error

_logger = logging.getLogger(__name__)

# notices sent by one job: rendering an email and an SMS takes some
# milliseconds, a job has some overhead of its own
SEND_CHUNK_SIZE = 100
# MMR contracts whose daily notices one job claims (one balance query and one
# insert per notice: about a second per thousand contracts)
CLAIM_CHUNK_SIZE = 1000

EVENTS = [
    ("autopay_upcoming", "Upcoming autopay charge"),
    ("autopay_failed", "Autopay failed"),
    ("low_balance", "Low balance"),
    ("past_due", "Past due"),
    ("suspended", "Service suspended"),
    ("restored", "Service restored"),
    ("promise_granted", "Promised payment granted"),
    ("promise_expiring", "Promised payment expiring"),
]


class SecurityNotificationLog(models.Model):
    """One customer notice per event: the key (event, record, period) is unique.

    The row is inserted with ``INSERT ... ON CONFLICT DO NOTHING`` before the
    email and SMS are queued, so the same notice is never sent twice, even by
    two crons at once. The row also carries the values the email and SMS
    templates render (amount, date, note, link). The daily notices are
    claimed by the cron and sent by jobs (``channels`` is empty until then).
    """

    _name = "security.notification.log"
    _description = "Security Billing Customer Notice"
    _order = "id desc"
    _rec_name = "event"

    event = fields.Selection(EVENTS, required=True, readonly=True, index=True)
    res_model = fields.Char(string="Document Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(
        string="Document", model_field="res_model", required=True, readonly=True
    )
    period = fields.Char(
        required=True,
        readonly=True,
        default="-",
        help="What makes two notices about the same document different, e.g. "
        "the due date of an upcoming charge.",
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    partner_id = fields.Many2one(
        "res.partner", string="Subscriber", readonly=True, index=True
    )
    contract_id = fields.Many2one("contract.contract", readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    date_value = fields.Date(string="Date", readonly=True)
    note = fields.Char(readonly=True)
    mail_id = fields.Many2one("mail.mail", string="Email", readonly=True)
    sms_id = fields.Many2one("sms.sms", string="SMS", readonly=True)
    channels = fields.Char(
        readonly=True,
        help="Channels the notice was sent by; empty while its job has not sent "
        'it yet, "error" when it could not be sent.',
    )
    update_url = fields.Char(
        string="Billing Page", compute="_compute_update_url", compute_sudo=True
    )

    _sql_constraints = [
        (
            "event_document_period_uniq",
            "unique (event, res_model, res_id, period)",
            "This notice was already sent.",
        )
    ]

    def _compute_update_url(self):
        for log in self:
            base = log.company_id.get_base_url() if log.company_id else ""
            log.update_url = f"{base}/my/billing"

    @api.model
    def _notify(self, event, record, partner, period="-", **values):
        """Send notice ``event`` about ``record`` to ``partner`` once.

        ``values``: amount, date_value, note, contract_id, company_id.
        Returns the new log, or an empty recordset when the notice was
        already sent (or the partner has no email nor mobile).
        """
        log = self._claim_notice(event, record, partner, period, **values)
        if log:
            log._send()
        return log

    @api.model
    def _claim_notice(self, event, record, partner, period="-", **values):
        """Claim notice ``event`` about ``record`` without sending it yet.

        Returns the new log, or an empty recordset when it was claimed
        before.
        """
        return self._security_claim(event, record, partner, str(period), values)

    @api.model
    def _security_claim(self, event, record, partner, period, values):
        company = values.get("company_id") or record.company_id or self.env.company
        self.env.cr.execute(
            """
            INSERT INTO security_notification_log
                (event, res_model, res_id, period, company_id, partner_id,
                 create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now() at time zone 'UTC',
                    now() at time zone 'UTC')
            ON CONFLICT (event, res_model, res_id, period) DO NOTHING
            RETURNING id
            """,
            [
                event,
                record._name,
                record.id,
                period,
                company.id,
                partner.id,
                self.env.uid,
                self.env.uid,
            ],
        )
        row = self.env.cr.fetchone()
        if not row:
            return self.browse()
        log = self.browse(row[0])
        extra = {
            key: value.id if isinstance(value, models.BaseModel) else value
            for key, value in values.items()
            if key in ("amount", "date_value", "note", "contract_id")
        }
        if extra:
            log.sudo().write(extra)
        return log

    def _send(self):
        """Queue the email and the SMS of these notices (sent by Odoo's crons)."""
        for log in self.sudo():
            channels = []
            partner = log.partner_id
            company = log.company_id
            if company.security_notify_email and partner.email:
                log.mail_id = log._queue_email()
                channels.append("email")
            number = partner.mobile and partner._phone_format(fname="mobile")
            if company.security_notify_sms and partner.mobile:
                log.sms_id = log._queue_sms(number or partner.mobile)
                channels.append("sms")
            log.channels = ",".join(channels) or "none"

    def _queue_email(self):
        self.ensure_one()
        template = self.env.ref(
            f"security_billing.mail_template_security_{self.event}",
            raise_if_not_found=False,
        )
        if not template:
            return False
        return template.with_context(lang=self.partner_id.lang).send_mail(
            self.id, force_send=False
        )

    def _queue_sms(self, number):
        self.ensure_one()
        template = self.env.ref(
            f"security_billing.sms_template_security_{self.event}",
            raise_if_not_found=False,
        )
        if not template:
            return False
        body = template._render_field("body", self.ids, compute_lang=True)[self.id]
        return (
            self.env["sms.sms"]
            .create(
                {
                    "number": number,
                    "partner_id": self.partner_id.id,
                    "body": body,
                    "state": "outgoing",
                }
            )
            .id
        )

    # -------------------------------------------------------------------- cron
    @api.model
    def _cron_security_notifications(self):
        """The daily notices as jobs: claimed by jobs
        (``_enqueue_claims``), which enqueue their sending; the notices a
        failed job left unsent are enqueued again."""
        date_ref = fields.Date.context_today(self)
        return self._enqueue_claims(date_ref) + self._enqueue_sending()

    @api.model
    def _run_notifications(self, date_ref=None):
        """Claim the daily notices and send them at once, as their jobs
        would. Returns the notices sent."""
        date_ref = date_ref or fields.Date.context_today(self)
        notices = self._claim_daily_notices(date_ref)
        notices._send()
        return notices

    @api.model
    def _claim_daily_notices(self, date_ref):
        """Daily notices of the user's companies, at once: upcoming autopay
        charges, promises ending, low prepaid balances. Returns the notices
        claimed (not sent yet)."""
        return self.env["security.promised.payment"]._claim_expiring(
            date_ref
        ) | self._claim_contract_notices(date_ref, self.env.companies)

    @api.model
    def _claim_contract_notices(self, date_ref, companies, contract_domain=None):
        """Claim the daily notices about the MMR contracts of ``companies``
        (those of ``contract_domain`` if given): upcoming autopay charges and
        low prepaid balances.

        :return: the notices claimed (not sent yet)
        """
        return self.env["security.autopay.attempt"]._claim_upcoming(
            date_ref, companies, contract_domain
        ) | self._claim_low_balance(date_ref, companies, contract_domain)

    @api.model
    def _enqueue_claims(self, date_ref):
        """Enqueue the claiming of the daily notices of ``date_ref``: one job
        for the promises ending, one per id range of ``CLAIM_CHUNK_SIZE`` MMR
        contracts, keyed by day, companies and range (``identity_exact``:
        enqueuing again while it waits returns the waiting job). Rerun-safe:
        a notice is claimed once (``_claim_notice``).

        :return: the jobs (``queue.job`` delayables)
        :rtype: list
        """
        company_ids = sorted(self.env.companies.ids)
        jobs = [
            delay_once(
                self,
                self.env._(
                    "Customer notices of %(date)s: promised payments ending",
                    date=date_ref,
                ),
            )._claim_promises_job(date_ref)
        ]
        ranges = self.env["contract.contract"]._security_mmr_id_ranges(
            company_ids, CLAIM_CHUNK_SIZE
        )
        for first_id, last_id in ranges:
            jobs.append(
                delay_once(
                    self,
                    self.env._(
                        "Customer notices of %(date)s: contracts %(first)s to %(last)s",
                        date=date_ref,
                        first=first_id,
                        last=last_id,
                    ),
                )._claim_contracts_job(date_ref, company_ids, first_id, last_id)
            )
        return jobs

    @api.model
    def _claim_promises_job(self, date_ref):
        """Job: claim the notices of the promises ending on ``date_ref`` or
        the day after, and enqueue their sending.

        :return: a summary for the job's result
        :rtype: str
        """
        notices = self.env["security.promised.payment"]._claim_expiring(date_ref)
        notices._enqueue_sending_of()
        return self.env._("%(count)s notices claimed", count=len(notices))

    @api.model
    def _claim_contracts_job(self, date_ref, company_ids, first_id, last_id):
        """Job: claim the daily notices about the MMR contracts of
        ``company_ids`` whose ids are ``first_id`` to ``last_id``, and
        enqueue their sending.

        :return: a summary for the job's result
        :rtype: str
        """
        notices = self._claim_contract_notices(
            date_ref,
            self.env["res.company"].browse(company_ids),
            [("id", ">=", first_id), ("id", "<=", last_id)],
        )
        notices._enqueue_sending_of()
        return self.env._("%(count)s notices claimed", count=len(notices))

    @api.model
    def _enqueue_sending(self):
        """Enqueue the sending of every claimed notice not sent yet (see
        ``_enqueue_send_jobs``). Returns the jobs."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT DISTINCT id / %s FROM security_notification_log
             WHERE channels IS NULL ORDER BY 1
            """,
            [SEND_CHUNK_SIZE],
        )
        return self._enqueue_send_jobs([bucket for (bucket,) in self.env.cr.fetchall()])

    def _enqueue_sending_of(self):
        """Enqueue the sending of these notices (see ``_enqueue_send_jobs``).
        Returns the jobs."""
        return self._enqueue_send_jobs(
            sorted({notice_id // SEND_CHUNK_SIZE for notice_id in self.ids})
        )

    @api.model
    def _enqueue_send_jobs(self, buckets):
        """One job per id range of ``SEND_CHUNK_SIZE`` notices (``buckets``:
        the ranges' ids divided by that size), keyed by its range
        (``identity_exact``): enqueuing again while it waits returns the
        waiting job, which sends whatever of its range is still unsent when
        it runs. Notices left unsent by a failed job are enqueued again by
        the next cron. Returns the jobs."""
        jobs = []
        for bucket in buckets:
            first_id = bucket * SEND_CHUNK_SIZE
            last_id = first_id + SEND_CHUNK_SIZE - 1
            jobs.append(
                delay_once(
                    self,
                    self.env._(
                        "Customer notices %(first)s to %(last)s",
                        first=first_id,
                        last=last_id,
                    ),
                )._send_job(first_id, last_id)
            )
        return jobs

    @api.model
    def _send_job(self, first_id, last_id):
        """Job: send the claimed notices of ids ``first_id`` to ``last_id``
        not sent yet.

        Rerun-safe: a notice is sent once (``channels`` is set when sent),
        its row locked meanwhile (another job skips it). A transient error
        retries the job (nothing of it was sent); any other error marks the
        notice ``error`` and the others are sent.
        """
        self.env.cr.execute(
            """
            SELECT id FROM security_notification_log
             WHERE id BETWEEN %s AND %s AND channels IS NULL
             ORDER BY id
               FOR UPDATE SKIP LOCKED
            """,
            [first_id, last_id],
        )
        logs = self.browse([row[0] for row in self.env.cr.fetchall()])
        for log in logs:
            log._send_isolated()
        return self.env._("%(count)s notices sent", count=len(logs))

    def _send_isolated(self):
        """Send this notice in a savepoint; a broken one is marked
        ``error`` instead of stopping the others."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._send()
        except Exception as exc:  # one broken notice must not stop the job
            if is_transient_error(exc):
                raise RetryableJobError(str(exc)) from exc
            _logger.exception("Customer notice %s could not be sent", self.id)
            self.sudo().channels = "error"

    @api.model
    def _claim_low_balance(self, date_ref, companies, contract_domain=None):
        """Claim the notices of the prepaid subscribers of ``companies``
        (with an MMR contract of ``contract_domain`` if given) without
        autopay and without debt whose credit is below the company
        threshold: once per month."""
        notices = self.browse()
        for company in companies.filtered("security_low_balance_threshold"):
            contracts = self.env["contract.contract"].search(
                [
                    ("company_id", "=", company.id),
                    ("security_is_mmr", "=", True),
                    ("security_state", "!=", "terminated"),
                ]
                + (contract_domain or [])
            )
            partners = contracts.partner_id.commercial_partner_id.filtered(
                lambda p: not p.security_autopay_active
            )
            rows = self.env["account.move"]._security_balance_rows(
                "partner_id", partners.ids
            )
            currency = company.currency_id
            for partner in partners:
                row = rows.get(partner.id, {})
                balance = row.get("security_balance", 0.0)
                if not currency.is_zero(row.get("security_balance_due", 0.0)):
                    continue
                if (
                    currency.compare_amounts(
                        balance, company.security_low_balance_threshold
                    )
                    >= 0
                ):
                    continue
                notices |= self._claim_notice(
                    "low_balance",
                    partner,
                    partner,
                    period=date_ref.strftime("%Y-%m"),
                    amount=balance,
                    date_value=date_ref,
                    company_id=company,
                )
        return notices
