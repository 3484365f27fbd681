import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

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
    templates render (amount, date, note, link).
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
    channels = fields.Char(readonly=True, help="Channels the notice was sent by.")
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
    def _security_notify(self, event, record, partner, period="-", **values):
        """Send notice ``event`` about ``record`` to ``partner`` once.

        ``values``: amount, date_value, note, contract_id, company_id.
        Returns the new log, or an empty recordset when the notice was
        already sent (or the partner has no email nor mobile).
        """
        log = self._security_claim(event, record, partner, str(period), values)
        if log:
            log._security_send()
        return log

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

    def _security_send(self):
        """Queue the email and the SMS of these notices (sent by Odoo's crons)."""
        for log in self.sudo():
            channels = []
            partner = log.partner_id
            company = log.company_id
            if company.security_notify_email and partner.email:
                log.mail_id = log._security_queue_email()
                channels.append("email")
            number = partner.mobile and partner._phone_format(fname="mobile")
            if company.security_notify_sms and partner.mobile:
                log.sms_id = log._security_queue_sms(number or partner.mobile)
                channels.append("sms")
            log.channels = ",".join(channels) or "none"

    def _security_queue_email(self):
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

    def _security_queue_sms(self, number):
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
        return self._security_run_notifications()

    @api.model
    def _security_run_notifications(self, date_ref=None):
        """Daily notices: upcoming autopay charges, promises ending, low
        prepaid balances. Returns the notices sent."""
        date_ref = date_ref or fields.Date.context_today(self)
        return (
            self.env["security.autopay.attempt"]._security_notify_upcoming(date_ref)
            | self.env["security.promised.payment"]._security_notify_expiring(date_ref)
            | self._security_notify_low_balance(date_ref)
        )

    @api.model
    def _security_notify_low_balance(self, date_ref):
        """Prepaid subscribers without autopay and without debt whose credit
        is below the company threshold: once per month."""
        notices = self.browse()
        for company in self.env.companies.filtered("security_low_balance_threshold"):
            contracts = self.env["contract.contract"].search(
                [
                    ("company_id", "=", company.id),
                    ("security_is_mmr", "=", True),
                    ("security_state", "!=", "terminated"),
                ]
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
                notices |= self._security_notify(
                    "low_balance",
                    partner,
                    partner,
                    period=date_ref.strftime("%Y-%m"),
                    amount=balance,
                    date_value=date_ref,
                    company_id=company,
                )
        return notices
