from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

RECOMMENDED_METHODS = [
    ("balance_due", "Balance due"),
    ("balance_due_next", "Balance due + next period's fee"),
    ("months", "N months of fee"),
]
# settings of a company that may not be negative
NON_NEGATIVE_SETTINGS = (
    "security_promise_fee_share",
    "security_promise_max_amount",
    "security_promise_days",
    "security_promise_max_count",
    "security_promise_period_days",
    "security_promise_max_suspended_days",
    "security_promise_cooldown_days",
    "security_autopay_notice_days",
    "security_low_balance_threshold",
)


class ResCompany(models.Model):
    _inherit = "res.company"

    security_allow_payment_edit = fields.Boolean(
        string="Allow Editing Posted Payments",
        help="Security Billing Managers may edit, reset to draft or cancel "
        "posted payments of subscribers. Off: nobody may.",
    )
    security_allow_cash_date = fields.Boolean(
        string="Allow Choosing the Cash Payment Date",
        help="Accountants may enter the date of a manual cash payment; "
        "otherwise it is always today.",
    )
    security_mmr_tax_id = fields.Many2one(
        "account.tax",
        string="Default Tax of MMR Products",
        domain="[('type_tax_use', '=', 'sale')]",
        help="Set as customer tax on new MMR products.",
    )
    security_recommended_method = fields.Selection(
        RECOMMENDED_METHODS,
        string="Recommended Amount",
        default="balance_due",
        required=True,
        help="Amount suggested to subscribers at terminals, in the portal and "
        "in registries.",
    )
    security_recommended_months = fields.Integer(
        string="Months of Fee",
        default=1,
        help="N of the 'N months of fee' method.",
    )

    @api.constrains("security_recommended_months")
    def _check_security_recommended_months(self):
        for company in self:
            if company.security_recommended_months < 1:
                raise ValidationError(
                    _(
                        "The number of months of the recommended amount must be "
                        "at least 1, got %(months)s.",
                        months=company.security_recommended_months,
                    )
                )

    def _security_check_payment_edit(self, label):
        """Raise unless posted payments of subscribers may be changed here.

        ``label`` names the payment or entry in the message. Code running as
        superuser (sudo) is trusted.
        """
        self.ensure_one()
        if self.env.su:
            return
        if not self.security_allow_payment_edit:
            raise UserError(
                _(
                    "%(label)s is posted: changing, cancelling, reversing or "
                    "unreconciling posted payments is not allowed in company "
                    "%(company)s (Security Billing settings).",
                    label=label,
                    company=self.name,
                )
            )
        if not self.env.user.has_group(
            "security_billing.group_security_billing_manager"
        ):
            raise UserError(
                _(
                    "%(label)s is posted: only a Security Billing Manager may "
                    "change, cancel, reverse or unreconcile it.",
                    label=label,
                )
            )

    # ------------------------------ autopay, dunning, promised payments
    security_autopay_trigger = fields.Selection(
        [("post", "When the invoice is posted"), ("due", "On the due date")],
        string="Charge Autopay",
        default="post",
        required=True,
        help="When the saved billing method of a subscriber is charged.",
    )
    security_autopay_mandatory = fields.Boolean(
        string="Autopay Mandatory With a Saved Method",
        default=True,
        help="Alarm.com behaviour: once a billing method is on file autopay is "
        "on; the customer cannot switch it off or remove the method, only "
        "replace it.",
    )
    security_autopay_retry_days = fields.Char(
        string="Autopay Retry Schedule",
        default="1,3,7",
        required=True,
        help="Days after a failed charge when it is retried, comma separated. "
        "A declined (error) or cancelled charge, or a removed method, stops "
        "the retries.",
    )
    security_autopay_notice_days = fields.Integer(
        string="Upcoming Charge Notice (days)",
        default=3,
        help="Days before an autopay charge when the customer is told.",
    )
    security_low_balance_threshold = fields.Monetary(
        string="Low Balance Threshold",
        currency_field="currency_id",
        help="Prepaid subscribers without autopay whose credit falls below "
        "this amount are told to top up. 0 disables the notice.",
    )
    security_notify_email = fields.Boolean(string="Notify by Email", default=True)
    security_notify_sms = fields.Boolean(
        string="Notify by SMS",
        default=True,
        help="Also send an SMS when the subscriber's mobile number is known.",
    )
    security_promise_amount_type = fields.Selection(
        [("share", "Share of the monthly fee"), ("fixed", "Fixed amount")],
        string="Promised Payment Maximum",
        default="share",
        required=True,
    )
    security_promise_fee_share = fields.Float(
        string="Share of the Monthly Fee (%)",
        default=100.0,
        help="Maximum promised amount as a percentage of the monthly fee.",
    )
    security_promise_max_amount = fields.Monetary(
        string="Maximum Promised Amount",
        currency_field="currency_id",
        help="Maximum promised amount when it is a fixed amount.",
    )
    security_promise_days = fields.Integer(string="Promise Duration (days)", default=5)
    security_promise_max_count = fields.Integer(
        string="Promises Allowed", default=1, help="At most this many promises..."
    )
    security_promise_period_days = fields.Integer(
        string="Per Period (days)", default=30, help="...in this many days."
    )
    security_promise_max_suspended_days = fields.Integer(
        string="Refused When Suspended Longer Than (days)",
        default=30,
        help="No promised payment for accounts suspended longer than this.",
    )
    security_promise_cooldown_days = fields.Integer(
        string="Cooldown After a Broken Promise (days)",
        default=30,
        help="No new promise for this many days after one expired unpaid.",
    )

    @api.constrains("security_autopay_retry_days")
    def _check_security_autopay_retry_days(self):
        for company in self:
            company._security_autopay_retry_schedule()

    @api.constrains(*NON_NEGATIVE_SETTINGS)
    def _check_security_promise_rules(self):
        for company in self:
            for fname in NON_NEGATIVE_SETTINGS:
                if company[fname] < 0:
                    raise ValidationError(
                        _(
                            "%(setting)s cannot be negative, got %(value)s.",
                            setting=self._fields[fname].string,
                            value=company[fname],
                        )
                    )

    def _security_autopay_retry_schedule(self):
        """The retry schedule as a sorted list of day offsets, e.g. [1, 3, 7]."""
        self.ensure_one()
        text = (self.security_autopay_retry_days or "").replace(" ", "")
        try:
            days = [int(part) for part in text.split(",") if part]
        except ValueError as exc:
            raise ValidationError(
                _(
                    "Autopay retry schedule %(text)r: write day numbers separated "
                    "by commas, e.g. 1,3,7.",
                    text=self.security_autopay_retry_days,
                )
            ) from exc
        if any(day <= 0 for day in days) or days != sorted(set(days)):
            raise ValidationError(
                _(
                    "Autopay retry schedule %(text)r: days must be positive and "
                    "increasing, e.g. 1,3,7.",
                    text=self.security_autopay_retry_days,
                )
            )
        return days
