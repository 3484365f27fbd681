from odoo import fields, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    security_attempt_ids = fields.One2many(
        "security.autopay.attempt", "transaction_id", string="Autopay Attempts"
    )

    def _post_process(self):
        """Keep autopay attempts in step with their transactions, whoever
        post-processes them (our cron, Odoo's cron, the portal)."""
        res = super()._post_process()
        self.security_attempt_ids._sync_state()
        return res

    def _security_is_subscriber_payment(self):
        self.ensure_one()
        return (
            self.operation
            in ("online_redirect", "online_direct", "online_token", "offline")
            and self.currency_id.compare_amounts(self.amount, 0.0) > 0
            and self.partner_id.commercial_partner_id.sudo().security_is_subscriber
        )

    def _create_payment(self, **extra_create_values):
        """Payments of subscribers go through THE entry point: registered once
        (external id of the transaction), allocated oldest first, dunning and
        promises updated in the same transaction."""
        self.ensure_one()
        if not self._security_is_subscriber_payment():
            return super()._create_payment(**extra_create_values)
        self.env.cr.execute(
            "SELECT id FROM payment_transaction WHERE id = %s FOR UPDATE", [self.id]
        )
        self.invalidate_recordset(["payment_id"])
        if self.payment_id:
            return self.payment_id
        return self._security_book_payment()

    def _security_book_payment(self):
        """Book this online transaction's payment through the payment entry
        point (``account.payment._security_register_payment``): external id
        of the provider and reference, the provider's journal and payment
        method, category *autopay* or *online*; link it to the transaction.

        :return: the subscriber's payment.
        :rtype: account.payment
        """
        self.ensure_one()
        provider = self.provider_id
        method_line = provider.journal_id.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == provider
        )[:1]
        category = self.env["security.payment.category"]._get_by_code(
            "autopay" if self.security_attempt_ids else "online"
        )
        result = self.env["account.payment"]._security_register_payment(
            self.partner_id.commercial_partner_id,
            self.amount,
            external_id=f"online:{provider.code}:{self.reference}",
            journal=provider.journal_id,
            category=category,
            contract=self._security_payment_contract(),
            memo=" - ".join(filter(None, (self.reference, self.provider_reference))),
            extra_vals={
                "payment_method_line_id": method_line.id,
                "payment_token_id": self.token_id.id,
                "payment_transaction_id": self.id,
                "currency_id": self.currency_id.id,
            },
        )
        payment = self.env["account.payment"].browse(result["payment_id"])
        self.payment_id = payment
        return payment

    def _security_payment_contract(self):
        """The MMR contract this transaction pays, read from its records: the
        contract of its autopay attempt, else of the invoice it pays (empty:
        the subscriber's only MMR contract, if any)."""
        self.ensure_one()
        return (
            self.security_attempt_ids.contract_id[:1]
            or self.invoice_ids.security_contract_id[:1]
        )
