from odoo import api, models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    @api.model
    def _prepare_security_payment_vals(
        self, partner, amount, date, journal, category, contract, memo, external_id
    ):
        """Bind a Billing page payment to the contract of the card it came from.

        ``security_portal_contract_id`` is set in the context by
        ``payment.transaction._security_register_payment`` for transactions
        created from a contract card of the portal Billing page.
        """
        contract_id = self.env.context.get("security_portal_contract_id")
        if contract_id and not contract:
            contract = self.env["contract.contract"].browse(contract_id)
        return super()._prepare_security_payment_vals(
            partner, amount, date, journal, category, contract, memo, external_id
        )
