from odoo import models
from odoo.exceptions import UserError


class PaymentToken(models.Model):
    _inherit = "payment.token"

    def _handle_archiving(self):
        """A customer cannot remove the method autopay charges when the
        company makes autopay mandatory: only replace it."""
        res = super()._handle_archiving()
        if self.env.user.has_group("security_billing.group_security_billing_manager"):
            return res
        partners = (
            self.env["res.partner"]
            .sudo()
            .search([("security_autopay_token_id", "in", self.ids)])
        )
        contracts = (
            self.env["contract.contract"]
            .sudo()
            .search([("security_autopay_token_id", "in", self.ids)])
        )
        companies = (partners.company_id | contracts.company_id) or (
            self.env.company if partners else self.env["res.company"]
        )
        if any(companies.mapped("security_autopay_mandatory")):
            raise UserError(
                self.env._(
                    "This method pays your monitoring subscription automatically: "
                    "save a new method first, then remove this one."
                )
            )
        return res
