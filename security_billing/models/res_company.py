from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

RECOMMENDED_METHODS = [
    ("balance_due", "Balance due"),
    ("balance_due_next", "Balance due + next period's fee"),
    ("months", "N months of fee"),
]


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
                    "%(label)s is posted: editing or cancelling posted payments "
                    "is not allowed in company %(company)s (Security Billing "
                    "settings).",
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
                    "edit or cancel it.",
                    label=label,
                )
            )

