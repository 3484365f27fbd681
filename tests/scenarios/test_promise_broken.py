"""A promised payment that expires unpaid and suspends the service again."""

from datetime import timedelta

from odoo.tests import tagged

from .common import ScenarioCase


@tagged("post_install", "-at_install")
class TestPromiseBroken(ScenarioCase):
    """Dave's 30.00 bill fell due 20 days ago; today he is suspended.

    1. Today's dunning run suspends him; the app export blocks his hub.
    2. On the portal he sees he is past due and suspended, and that he may
       promise to pay 30.00 within 5 days.
    3. He promises (portal form): the promise is open until today + 5 and the
       request itself lifts the suspension to a warning; the export shows
       the hub unblocked.
    4. Day + 5: the promise is still open, the service continues.
    5. Day + 6: unpaid, the promise is broken and the contract suspended
       again at once by the expiry of the promise; the export blocks the hub
       again.
    6. The portal shows him suspended, no promise button, and why; posting
       the form anyway is refused with that reason and changes nothing.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dave = cls._create_subscriber("Dave Debtor", email="dave@example.com")
        cls.dave_user = cls._create_portal_user(cls.dave, "dave_sb")
        cls.start = cls.today - timedelta(days=20)
        cls.contract = cls._create_billing_contract(
            cls.dave, date_start=cls.start.isoformat(), name="Dave Shop Monitoring"
        )
        cls.site = cls._create_site(
            cls.dave, cls.contract, device_id="0D0D0D01", name="Dave Shop"
        )

    def _promises(self):
        return self.env["security.promised.payment"].search(
            [("partner_id", "=", self.dave.id)], order="id"
        )

    def test_promise_broken(self):
        today = self.today
        run = self._run_billing_on(self.start)
        self.assertEqual(
            run.invoice_ids.filtered(
                lambda m: m.security_contract_id == self.contract
            ).amount_total,
            30.0,
        )

        # 1. suspended today, hub blocked
        self._run_dunning(today)
        self.assertEqual(self._state(self.contract), "suspended")
        self.assertEqual(self._export_row(self.site)["blocked"], "true")

        # 2. the portal: past due, suspended, a promise is possible
        card = self._portal_cards(self.dave_user)[self.contract.id]
        self.assertEqual((card["status"], card["past_due"]), ("past_due", "30.00"))
        self.assertEqual(card["service"], "Service: Suspended")
        self.assertIn("Promise to pay", self._portal_promise_text())

        # 3. he promises through the portal form
        self._post("/my/billing/promise", {"csrf_token": self._csrf()})
        promise = self._promises()
        self.assertEqual(
            (promise.state, promise.channel, promise.amount, promise.due_date),
            ("open", "portal", 30.0, today + timedelta(days=5)),
        )
        self.assertEqual(self._state(self.contract), "warning", "lifted at once")
        log = self._last_state_log(self.contract)
        self.assertEqual((log.new_state, log.origin), ("warning", "promise"))
        self.assertEqual(self._export_row(self.site)["blocked"], "false")
        self.assertEqual(len(self._notices("promise_granted", self.dave)), 1)

        # 4. on the due date the promise still holds
        self._run_dunning(today + timedelta(days=5))
        self.assertEqual(promise.state, "open")
        self.assertEqual(self._state(self.contract), "warning")

        # 5. the day after, unpaid: broken and suspended again
        self._run_dunning(today + timedelta(days=6))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(self._state(self.contract), "suspended")
        log = self._last_state_log(self.contract)
        self.assertEqual(
            (log.old_state, log.new_state, log.origin),
            ("warning", "suspended", "promise"),
        )
        self.assertEqual(promise.reason, "Expired unpaid: service suspended.")
        self.assertTrue(promise.enforce_suspension)
        self.assertEqual(self._export_row(self.site)["blocked"], "true")

        # 6. the portal says so, and refuses a new promise with the reason
        card = self._portal_cards(self.dave_user)[self.contract.id]
        self.assertEqual(card["service"], "Service: Suspended")
        self.assertEqual(card["status"], "past_due")
        text = self._portal_promise_text()
        self.assertNotIn("Promise to pay", text)
        self.assertIn("expired unpaid", text)
        self.assertIn("new promises are possible from", text)
        self._post("/my/billing/promise", {"csrf_token": self._csrf()})
        refused = self._promises() - promise
        self.assertEqual(refused.state, "refused", "asking anyway is refused")
        self.assertIn("new promises are possible from", refused.reason)
        self.assertEqual(self._state(self.contract), "suspended")
