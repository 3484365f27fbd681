"""The payment lock of the subscribers: taken first by the entry point."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.security_billing.tools.locks import PAYMENT_LOCK_NAMESPACE

from ..common import SecurityBillingCase


@tagged("post_install", "-at_install")
class TestPaymentLock(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.first = cls._create_subscriber("Lock First")
        cls.second = cls._create_subscriber("Lock Second")
        cls.contact = cls.env["res.partner"].create(
            {"name": "Payer contact", "parent_id": cls.second.id}
        )

    def _held_keys(self):
        """Payment locks this transaction holds."""
        self.env.cr.execute(
            """
            SELECT objid::int FROM pg_locks
             WHERE locktype = 'advisory' AND classid = %s AND granted
               AND pid = pg_backend_pid()
             ORDER BY objid
            """,
            [PAYMENT_LOCK_NAMESPACE],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def test_batch_locks_the_commercial_partners(self):
        self.assertEqual(self._held_keys(), [])
        self.env["account.payment"]._security_register_payments(
            [
                {"partner": self.contact, "amount": 5.0, "external_id": "lock:1"},
                {"partner": self.first, "amount": 6.0, "external_id": "lock:2"},
            ]
        )
        self.assertEqual(self._held_keys(), sorted([self.first.id, self.second.id]))
        self.assertEqual(self.second.security_balance, 5.0)
        self.assertEqual(self.first.security_balance, 6.0)

    def test_refused_amount_locks_nothing(self):
        with self.assertRaises(UserError):
            self.env["account.payment"]._security_register_payment(self.first, -1.0)
        self.assertEqual(self._held_keys(), [])
