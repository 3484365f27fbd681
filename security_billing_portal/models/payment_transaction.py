from odoo import fields, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    security_billing = fields.Boolean(
        string="Security Billing Payment",
        readonly=True,
        copy=False,
        help="Paid from the portal Billing page.",
    )
    security_contract_id = fields.Many2one(
        "contract.contract",
        string="Billing Page Contract",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Contract card the customer paid from: the payment pays this "
        "contract's oldest open invoices.",
    )
    security_use_for_autopay = fields.Boolean(
        string="Use for Automatic Payments",
        readonly=True,
        copy=False,
        help="The customer asked to charge this payment method automatically "
        "from now on.",
    )

    def _security_payment_contract(self):
        """A Billing page payment pays the contract of the card it came from
        (set on the transaction by the portal controller at its creation)."""
        return super()._security_payment_contract() or self.security_contract_id

    def _post_process(self):
        res = super()._post_process()
        self.filtered(
            lambda tx: (
                tx.state == "done"
                and tx.security_billing
                and tx.security_use_for_autopay
                and tx.token_id
            )
        )._security_set_autopay_method()
        return res

    def _security_set_autopay_method(self):
        """The customer ticked "use for automatic payments": switch the method."""
        for tx in self:
            tx.partner_id.commercial_partner_id._security_set_autopay_token(tx.token_id)
