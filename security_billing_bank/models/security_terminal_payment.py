from odoo import _, api, fields, models

from odoo.addons.security_billing.tools import account_ref

from ..tools.osmp import (
    RESULT_NOT_FINISHED,
    RESULT_OK,
    RESULT_OTHER,
    RESULT_REFUSED,
    OsmpError,
)

PAYMENT_DONE_STATES = ("in_process", "paid")


class SecurityTerminalPayment(models.Model):
    """One row per (provider, txn_id): the terminal protocol's idempotency record.

    Only accepted payments are recorded; a refused pay writes nothing, so the
    network can retry it once the cause is fixed.
    """

    _name = "security.terminal.payment"
    _description = "Payment Terminal Transaction"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "txn_date desc, id desc"
    _rec_name = "txn_id"
    _mail_post_access = "read"

    provider_id = fields.Many2one(
        "security.terminal.provider",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    txn_id = fields.Char(
        string="Terminal Txn ID",
        required=True,
        readonly=True,
        size=20,
        help="The terminal network's payment id (osmp_txn_id).",
    )
    account = fields.Char(string="Account Number", readonly=True)
    amount = fields.Monetary(string="Sum", readonly=True, currency_field="currency_id")
    txn_date = fields.Datetime(
        string="Terminal Date", readonly=True, help="txn_date sent by the provider."
    )
    txn_day = fields.Date(
        string="Registry Day",
        readonly=True,
        index=True,
        help="Day of txn_date in the provider's time zone: the day of its "
        "registry and the payment date.",
    )
    state = fields.Selection(
        [("done", "Paid"), ("draft", "Not Finished"), ("cancel", "Cancelled")],
        string="Payment Status",
        compute="_compute_state",
        store=True,
        precompute=True,
        help="From the payment: reset to draft answers 90, cancelled answers 7.",
    )
    prv_txn = fields.Char(
        string="Our Payment ID",
        compute="_compute_prv_txn",
        store=True,
        precompute=True,
        help="prv_txn answered to the provider: the id of the payment.",
    )
    result = fields.Integer(string="Result Code", readonly=True, default=RESULT_OK)
    payment_id = fields.Many2one(
        "account.payment", readonly=True, index=True, ondelete="restrict"
    )
    partner_id = fields.Many2one("res.partner", readonly=True, index=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    alert = fields.Boolean(
        tracking=True,
        help="The txn_id was reused with another sum or account: check with "
        "the provider, then clear the flag.",
    )
    conflict_count = fields.Integer(
        readonly=True, help="Pay requests that reused this txn_id with other data."
    )

    _sql_constraints = [
        (
            "provider_txn_uniq",
            "unique (provider_id, txn_id)",
            "A terminal txn_id is recorded once per provider.",
        ),
    ]

    @api.depends("payment_id.state")
    def _compute_state(self):
        for record in self:
            state = record.payment_id.state
            if state in PAYMENT_DONE_STATES:
                record.state = "done"
            elif state == "draft":
                record.state = "draft"
            else:
                record.state = "cancel"

    @api.depends("payment_id")
    def _compute_prv_txn(self):
        for record in self:
            record.prv_txn = str(record.payment_id.id) if record.payment_id else False

    # ------------------------------------------------------------------ protocol
    def _osmp_get_answer(self):
        """The answer of the recorded pay: what a replay returns too."""
        self.ensure_one()
        if self.state == "draft":
            raise OsmpError(
                RESULT_NOT_FINISHED,
                _("Payment %(txn)s is being corrected, retry later.", txn=self.txn_id),
            )
        if self.state == "cancel":
            raise OsmpError(
                RESULT_REFUSED,
                _("Payment %(txn)s was cancelled.", txn=self.txn_id),
            )
        return {
            "prv_txn": self.prv_txn,
            "sum": "%.2f" % self.amount,
            "result": self.result,
            "comment": _("OK"),
        }

    def _osmp_replay(self, params, amount):
        """Answer a repeated pay; a reused txn_id with other data is refused."""
        self.ensure_one()
        if not self._osmp_same_request(params, amount):
            self._osmp_raise_conflict_alert(params)
            raise OsmpError(
                RESULT_OTHER,
                _(
                    "txn_id %(txn)s was already used with another sum or account.",
                    txn=self.txn_id,
                ),
            )
        return self._osmp_get_answer()

    def _osmp_same_request(self, params, amount):
        self.ensure_one()
        same_sum = self.currency_id.compare_amounts(amount, self.amount) == 0
        same_account = account_ref.normalize(params.get("account")) == self.account
        return same_sum and same_account

    def _osmp_raise_conflict_alert(self, params):
        """Tell the accountant: a message, the flag, one open activity."""
        self.ensure_one()
        body = _(
            "Pay request reusing txn_id %(txn)s with sum %(sum)s and account "
            "%(account)s; recorded: sum %(recorded_sum).2f, account "
            "%(recorded_account)s. Answered 300.",
            txn=self.txn_id,
            sum=(params.get("sum") or "")[:40],
            account=(params.get("account") or "")[:40],
            recorded_sum=self.amount,
            recorded_account=self.account,
        )
        self.message_post(body=body)
        self.write({"alert": True, "conflict_count": self.conflict_count + 1})
        activity_type = self.env.ref("mail.mail_activity_data_warning")
        if not self.activity_ids.filtered(
            lambda a: a.activity_type_id == activity_type
        ):
            self.activity_schedule(
                activity_type_id=activity_type.id,
                summary=_("Terminal txn_id reused with other data"),
                note=body,
                user_id=self.provider_id.alert_user_id.id or self.env.uid,
            )

    # ------------------------------------------------------------------ actions
    def action_clear_alert(self):
        """Accountants only read these records: the flag is cleared as sudo."""
        self.check_access("read")
        self.sudo().write({"alert": False})
        self.sudo().activity_ids.action_feedback(feedback=_("Checked"))
