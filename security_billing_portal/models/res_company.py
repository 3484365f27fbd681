from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    security_portal_max_amount = fields.Monetary(
        string="Maximum Online Payment",
        currency_field="currency_id",
        default=10000.0,
        help="Largest amount a subscriber may pay at once on the portal "
        "Billing page. 0 means no limit.",
    )

    @api.constrains("security_portal_max_amount")
    def _check_security_portal_max_amount(self):
        for company in self:
            if company.security_portal_max_amount < 0:
                raise ValidationError(
                    _(
                        "The maximum online payment cannot be negative, got "
                        "%(amount)s.",
                        amount=company.security_portal_max_amount,
                    )
                )
