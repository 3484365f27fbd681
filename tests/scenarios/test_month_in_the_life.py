"""A month in the life of a subscriber whose autopay card stops working."""

from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.payment_demo.models.payment_transaction import (
    PaymentTransaction as DemoTransaction,
)

from .common import ScenarioCase


@tagged("post_install", "-at_install")
class TestMonthInTheLife(ScenarioCase):
    """Carol pays 30.00 a month by autopay for her Ajax-monitored home.

    Day 0 is 15 days ago; today is day 15.

    1. Day 0: the billing run invoices and posts her month.
    2. Day 0: autopay cannot reach the provider: soft failure, retry on day 1.
    3. Day 1: still unreachable: retry on day 3; dunning warns her.
    4. Day 3: the provider declines the card: no more retries; day 7 charges
       nothing. Each failure told her by email and SMS.
    5. Day 14: still a warning. Day 15 (today): suspended.
    6. The app export shows her hub blocked (the suspension asked for an
       export); the portal shows her past due and suspended.
    7. She pays 30.00 at a payment terminal: the terminal request itself
       restores the service and asks the app connector for an export.
    8. The export shows her hub unblocked with a zero balance.
    9. The portal is green: paid, nothing due.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.day0 = cls.today - timedelta(days=15)
        cls.carol = cls._create_subscriber(
            "Carol Client", email="carol@example.com", mobile="+32456009988"
        )
        cls.carol_user = cls._create_portal_user(cls.carol, "carol_sb")
        cls.contract = cls._create_billing_contract(
            cls.carol, date_start=cls.day0.isoformat(), name="Carol Home Monitoring"
        )
        cls.site = cls._create_site(
            cls.carol, cls.contract, device_id="0C0C0C01", name="Carol Home"
        )
        cls.token = cls._create_token(cls.carol, "done")
        cls.carol._security_set_autopay_token(cls.token)

    def _gateway_down(self):
        return patch.object(
            DemoTransaction,
            "_send_payment_request",
            autospec=True,
            side_effect=ValidationError("Demo: gateway timeout"),
        )

    def test_month_in_the_life(self):
        day0 = self.day0

        def day(n):
            return day0 + timedelta(days=n)

        # 1. the billing run of day 0
        run = self._run_billing_on(day0)
        invoice = run.invoice_ids.filtered(
            lambda m: m.security_contract_id == self.contract
        )
        self.assertEqual(len(invoice), 1, "one invoice for Carol's month")
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 30.0)
        self.assertEqual(invoice.invoice_date_due, day0)
        self.assertEqual(self.carol.security_balance_due, 30.0)

        # 2. day 0: the provider cannot be reached
        with self._gateway_down():
            first = self._run_autopay(day0)
        self.assertEqual(
            (first.state, first.next_retry_date), ("failed", day(1)), "retry day 1"
        )

        # 3. day 1: unreachable again; dunning warns
        with self._gateway_down():
            second = self._run_autopay(day(1))
        self.assertEqual(
            (second.attempt_no, second.state, second.next_retry_date),
            (2, "failed", day(3)),
        )
        self._run_dunning(day(1))
        self.assertEqual(self._state(self.contract), "warning", "1 day past due")

        # 4. day 3: the card is declined: no more retries
        self.token.demo_simulated_state = "error"
        third = self._run_autopay(day(3))
        self.assertEqual(
            (third.attempt_no, third.state, third.next_retry_date),
            (3, "stopped", False),
            "a declined card stops the retries",
        )
        self.assertFalse(self._run_autopay(day(7)), "nothing on day 7")
        self.assertEqual(invoice.payment_state, "not_paid")
        failed = self._notices("autopay_failed", self.carol)
        self.assertEqual(len(failed), 3, "one notice per failure")
        self.assertEqual(set(failed.mapped("channels")), {"email,sms"})

        # 5. day 14 still a warning, day 15 (today) suspended
        self._run_dunning(day(14))
        self.assertEqual(self._state(self.contract), "warning", "14 days past due")
        self._run_dunning(day(15))
        self.assertEqual(self._state(self.contract), "suspended", "15 days past due")
        self.assertTrue(self.contract.security_blocked)
        self.assertEqual(self._last_state_log(self.contract).origin, "cron")

        # 6. the app and the portal show it
        row = self._export_row(self.site)
        self.assertEqual(
            (row["blocked"], row["balance"], row["subscriptionFee"]),
            ("true", "-30.00", "30.00"),
            "the app blocks the hub",
        )
        card = self._portal_cards(self.carol_user)[self.contract.id]
        self.assertEqual(
            (card["status"], card["color"], card["past_due"]),
            ("past_due", "danger", "30.00"),
        )
        self.assertEqual(card["service"], "Service: Suspended")

        self.assertEqual(self._queue_exports(), "requested", "by the suspension")
        self.assertFalse(self.connector.export_requested)

        # 7. a terminal payment, today
        answer = self._terminal_pay(self.carol, "30.00", "7001", day(15))
        self.assertEqual((answer["result"], answer["comment"]), (0, "OK"), answer)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(self._state(self.contract), "active", "restored at once")
        self.assertFalse(self.contract.security_blocked)
        log = self._last_state_log(self.contract)
        self.assertEqual(
            (log.old_state, log.new_state, log.origin),
            ("suspended", "active", "payment"),
            "the terminal request restored it, not a cron",
        )
        self.assertTrue(self.connector.export_requested, "the payment asks for one")

        # 8. the export shows the hub unblocked
        row = self._export_row(self.site)
        self.assertEqual((row["blocked"], row["balance"]), ("false", "0.00"))

        # 9. the portal is green
        card = self._portal_cards(self.carol_user)[self.contract.id]
        self.assertEqual(
            (card["status"], card["color"], card["balance_due"], card["past_due"]),
            ("paid", "success", "0.00", "0.00"),
        )
        self.assertIsNone(card["service"], "no service badge when active")
        self.assertEqual(len(self._terminal_payments()), 1)

    def _terminal_payments(self):
        return self.env["security.terminal.payment"].search(
            [("provider_id", "=", self.terminal.id)]
        )
