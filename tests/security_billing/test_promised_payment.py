"""Promised payments: company rules, refusals with reasons, effect on dunning."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .dunning_common import DunningCase


@tagged("post_install", "-at_install")
class TestPromisedPayment(DunningCase):
    def _request(self, days=0, amount=None, channel="portal"):
        return self.partner._security_request_promised_payment(
            amount=amount, channel=channel, date_ref=self._days(days)
        )

    def _promises(self):
        return self.env["security.promised.payment"].search(
            [("partner_id", "=", self.partner.id)], order="id"
        )

    def _suspend(self, amount=30.0, days_ago=20):
        invoice = self._mmr_invoice(self.contract, amount, days_ago=days_ago)
        self._run_dunning(0)
        self.assertEqual(self.contract.security_state, "suspended")
        return invoice

    def test_grant_lifts_suspension_in_the_same_transaction(self):
        self._suspend(45.0)
        rules = self.partner._security_promise_rules(date_ref=self.today)
        self.assertTrue(rules["allowed"])
        self.assertEqual(rules["max_amount"], 30.0, "one month's fee")
        self.assertEqual(rules["amount_due"], 45.0)
        self.assertEqual(rules["due_date"], str(self._days(5)))
        result = self._request()
        self.assertEqual(
            {k: result[k] for k in ("ok", "amount", "due_date", "reason")},
            {"ok": True, "amount": 30.0, "due_date": str(self._days(5)), "reason": ""},
        )
        self.assertEqual(self.contract.security_state, "warning")
        log = self.contract.security_state_log_ids.sorted("id")[-1]
        self.assertEqual(log.origin, "promise")
        promise = self._promises()
        self.assertEqual((promise.state, promise.channel), ("open", "portal"))
        self.assertEqual(len(self._notices("promise_granted")), 1)
        # the daily run keeps the service until the promise's due date
        self._run_dunning(5)
        self.assertEqual(self.contract.security_state, "warning")

    def test_amount_smaller_than_maximum_and_due(self):
        self._suspend(20.0)
        self.assertEqual(self._request()["amount"], 20.0, "no more than owed")

    def test_refusals_give_their_reason(self):
        result = self._request()
        self.assertFalse(result["ok"])
        self.assertEqual(result["reason"], "Nothing is due on this account.")
        self._suspend()
        result = self._request(amount=31.0)
        self.assertFalse(result["ok"])
        self.assertIn("more than the maximum", result["reason"])
        self.assertTrue(self._request(amount=10.0)["ok"])
        result = self._request(1)
        self.assertFalse(result["ok"])
        self.assertIn("already open until", result["reason"])
        result = self._request(6)
        self.assertIn("is overdue", result["reason"])
        # refused requests are kept with their reason
        refused = self._promises().filtered(lambda p: p.state == "refused")
        self.assertEqual(len(refused), 4)
        self.assertTrue(all(refused.mapped("reason")))

    def test_fixed_maximum(self):
        self.company.write(
            {"security_promise_amount_type": "fixed", "security_promise_max_amount": 12}
        )
        self._suspend()
        self.assertEqual(self._request()["amount"], 12.0)

    def test_kept_when_payments_cover_it_and_frequency_limit(self):
        self._suspend(60.0)
        self.assertTrue(self._request(amount=30.0)["ok"])
        self._pay(self.partner, 30.0)
        promise = self._promises()
        self.assertEqual(promise.state, "kept")
        self.assertEqual(promise.paid_amount, 30.0)
        result = self._request(10)
        self.assertFalse(result["ok"])
        self.assertIn("At most 1 promised payment(s) per 30 days", result["reason"])
        self.assertIn("possible from", result["reason"])
        self.company.security_promise_max_count = 2
        self.assertTrue(self._request(10)["ok"])

    def test_expired_unpaid_suspends_at_once_and_cooldown(self):
        self.company.security_promise_days = 3
        self._mmr_invoice(self.contract, 30.0, days_ago=5)
        self._run_dunning(0)
        self.assertEqual(self.contract.security_state, "warning")
        self.assertTrue(self._request()["ok"])
        self._run_dunning(3)
        self.assertEqual(self._promises().state, "open")
        self._run_dunning(4)
        promise = self._promises()
        self.assertEqual(promise.state, "broken")
        # 9 days past due only, yet suspended: the promise was not kept
        self.assertEqual(self.contract.security_state, "suspended")
        self.assertIn("expired unpaid", self.contract.security_state_log_ids[:1].reason)
        result = self._request(10)
        self.assertFalse(result["ok"])
        self.assertIn("new promises are possible from", result["reason"])
        self.assertFalse(self._request(33)["ok"])
        # paying the debt restores the service and ends the forced suspension
        self._pay(self.partner, 30.0)
        self.assertEqual(self.contract.security_state, "active")
        self.assertFalse(promise.enforce_suspension)

    def test_refused_when_suspended_too_long(self):
        self.company.security_promise_max_suspended_days = 10
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self._run_dunning(15)
        self.assertEqual(self.contract.security_state_since, self._days(15))
        self.assertTrue(
            self.partner._security_promise_rules(date_ref=self._days(25))["allowed"]
        )
        result = self._request(26)
        self.assertFalse(result["ok"])
        self.assertIn("more than 10 days", result["reason"])

    def test_bad_amount_writes_nothing(self):
        self._suspend()
        for bad in (-5, 0, "ten", True):
            with self.assertRaises(UserError):
                self._request(amount=bad)
        self.assertFalse(self._promises())

    def test_accountant_wizard(self):
        self._suspend()
        wizard = (
            self.env["security.promise.wizard"]
            .with_context(active_model="res.partner", active_id=self.partner.id)
            .create({})
        )
        self.assertIn("Up to", wizard.rules_text)
        action = wizard.action_request()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self._promises().channel, "backend")
        action = wizard.action_request()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("already open", action["params"]["message"])

    def test_integrator_api(self):
        api = self.env["security.billing.api"]
        ref = self.partner.security_account_ref
        result = api.request_promised_payment(ref)
        self.assertEqual(
            result,
            {
                "ok": False,
                "amount": 0.0,
                "due_date": False,
                "reason": "Nothing is due on this account.",
            },
        )
        self._suspend()
        result = api.request_promised_payment(int(ref), amount="15.00")
        self.assertEqual(
            result,
            {"ok": True, "amount": 15.0, "due_date": str(self._days(5)), "reason": ""},
        )
        self.assertEqual(self._promises().filtered("due_date").channel, "api")
        with self.assertRaises(UserError):
            api.request_promised_payment("1000018")  # bad check digit
        with self.assertRaises(UserError):
            api.request_promised_payment(ref, amount="-3")
        outsider = self.env["res.users"].create(
            {
                "name": "Nobody",
                "login": "promise-nobody",
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
            }
        )
        with self.assertRaises(AccessError):
            api.with_user(outsider).request_promised_payment(ref)
