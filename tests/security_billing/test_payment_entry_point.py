"""The payment entry point: what it writes besides the allocation."""

from odoo.tests import tagged

from ..common import SecurityBillingCase


@tagged("post_install", "-at_install")
class TestPaymentEntryPoint(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls._create_subscriber("Entry Point")
        cls.contract = cls._create_mmr_contract(cls.partner, price=30.0)
        cls.invoice = cls._invoice_contract(cls.contract)

    def _tracked_env(self):
        """The environment of a user: chatter and tracking on."""
        mail_keys = (
            "tracking_disable",
            "mail_create_nolog",
            "mail_create_nosubscribe",
            "mail_notrack",
        )
        context = dict(self.env.context, **dict.fromkeys(mail_keys, False))
        return self.env(context=context)

    def _register(self, env, amount, external_id):
        result = env["account.payment"]._security_register_payment(
            self.partner, amount, external_id=external_id
        )
        return env["account.payment"].browse(result["payment_id"])

    def test_entry_counts_in_the_balance_from_its_creation(self):
        payment = self._register(self.env, 10.0, "test:flags")
        move = payment.move_id
        self.assertEqual(move.state, "posted")
        self.assertTrue(move.security_is_payment)
        self.assertTrue(move.security_in_balance)
        self.assertEqual(move.security_contract_id, self.contract)
        # set at creation, not by a later write of the entry
        self.assertFalse(move.is_manually_modified)
        receivable = move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertTrue(receivable.security_in_balance)
        self.assertEqual(receivable.security_contract_id, self.contract)
        self.assertEqual(self.invoice.amount_residual, 20.0)
        self.assertEqual(self.partner.security_balance, -20.0)

    def test_no_chatter_on_system_payments_unless_audit_trail(self):
        env = self._tracked_env()
        payment = self._register(env, 10.0, "test:quiet")
        env.flush_all()
        env.cr.precommit.run()  # tracking messages are written at commit
        self.assertFalse(payment.message_ids)
        self.assertFalse(payment.message_follower_ids)
        self.assertFalse(payment.move_id.message_ids)

        self.env.company.check_account_audit_trail = True
        payment = self._register(env, 5.0, "test:audit")
        env.flush_all()
        env.cr.precommit.run()
        self.assertTrue(payment.message_ids)
        self.assertTrue(payment.move_id.message_ids)
        self.assertTrue(payment.move_id.security_is_payment)
        self.assertEqual(self.invoice.amount_residual, 15.0)

    def test_posted_lines_still_accept_cache_only_values(self):
        """The dirty flags reset on reconciliation go through without a log."""
        env = self._tracked_env()
        lines = self.invoice.with_env(env).line_ids
        before = len(self.invoice.message_ids)
        lines.write({"epd_dirty": False})
        self.assertFalse(any(lines.mapped("epd_dirty")))
        self.assertEqual(len(self.invoice.message_ids), before)

    def test_memo_is_the_callers_only(self):
        """The external id has its own field: it is never the memo, nor in
        the entry's reference or labels."""
        payments = self.env["account.payment"]
        result = payments._security_register_payment(
            self.partner, 10.0, external_id="test:no-memo"
        )
        payment = payments.browse(result["payment_id"])
        self.assertEqual(payment.security_external_id, "test:no-memo")
        self.assertFalse(payment.memo)
        self.assertFalse(payment.move_id.ref)
        for label in payment.move_id.line_ids.mapped("name"):
            self.assertNotIn("test:no-memo", label or "")

        result = payments._security_register_payment(
            self.partner, 5.0, external_id="test:memo", memo="Desk 3"
        )
        payment = payments.browse(result["payment_id"])
        self.assertEqual(payment.memo, "Desk 3")
        self.assertEqual(payment.move_id.ref, "Desk 3")
        self.assertEqual(payment.security_external_id, "test:memo")
