from odoo import _, models
from odoo.tools import float_compare


class AccountPayment(models.Model):
    _inherit = "account.payment"

    # Portal helpers: ``self`` is a payment of the portal user's commercial
    # partner, read in sudo by the controller.

    def _security_portal_method_label(self):
        """The payment method as the customer knows it: the card of a saved
        method (brand and last digits), the online method of the
        transaction, else the channel of the payment category (never the
        accounting method line, e.g. "Manual Payment" for a terminal)."""
        self.ensure_one()
        token = self.payment_token_id or self.payment_transaction_id.token_id
        if token:
            return _(
                "%(method)s ending in %(digits)s",
                method=token.payment_method_id.name,
                digits=token.payment_details or "",
            )
        if self.payment_transaction_id.payment_method_id:
            return self.payment_transaction_id.payment_method_id.name
        return (
            self._security_portal_channel_labels().get(self.security_category_id.code)
            or self.security_category_id.name
            or self.journal_id.name
        )

    def _security_portal_channel_labels(self):
        """What the customer calls each channel, by payment category code."""
        return {
            "terminal": _("Terminal"),
            "bank": _("Bank transfer"),
            "cash": _("Cash"),
            "online": _("Online payment"),
            "autopay": _("Automatic payment"),
            "correction": _("Account correction"),
        }

    def _security_portal_receipt_values(self):
        """What a receipt of this payment shows: amount, method, the bills it
        paid and what was left as credit."""
        self.ensure_one()
        allocations = self._security_get_allocations()
        invoices = self.env["account.move"].browse(
            [alloc["invoice_id"] for alloc in allocations]
        )
        paid = sum(alloc["amount"] for alloc in allocations)
        credit = self.currency_id.round(self.amount - paid)
        return {
            "payment": self,
            "method": self._security_portal_method_label(),
            "allocations": [
                dict(alloc, move=invoices.browse(alloc["invoice_id"]))
                for alloc in allocations
            ],
            "credit": credit
            if float_compare(credit, 0.0, precision_rounding=self.currency_id.rounding)
            > 0
            else 0.0,
            "contract": self.security_contract_id,
            "account_ref": self.partner_id.commercial_partner_id.security_account_ref,
        }
