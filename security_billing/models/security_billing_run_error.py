from odoo import fields, models


class SecurityBillingRunError(models.Model):
    """A contract a billing run could not bill, with the reason."""

    _name = "security.billing.run.error"
    _description = "Security Billing Run Error"
    _order = "id"

    run_id = fields.Many2one(
        "security.billing.run", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    contract_id = fields.Many2one(
        "contract.contract", ondelete="set null", index=True, readonly=True
    )
    partner_id = fields.Many2one(related="contract_id.partner_id", string="Subscriber")
    message = fields.Text(required=True, readonly=True)
