from odoo import fields, models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    # Inverse of security.terminal.payment.payment_id, for the ORM only: the
    # terminal payment's state depends on the payment's state, and a change of
    # state finds it through this field (cached for a new payment) instead of
    # a search per change.
    security_terminal_payment_ids = fields.One2many(
        "security.terminal.payment", "payment_id"
    )
