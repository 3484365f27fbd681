"""Automatic payment method and promised payments from the portal."""

from datetime import timedelta

from odoo.tests import tagged
from odoo.tools import format_date

from .common import SecurityPortalCase


@tagged("post_install", "-at_install")
class TestPortalAutopay(SecurityPortalCase):
    def _token(self, partner, details="4242"):
        return self.env["payment.token"].create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.demo_method.id,
                "payment_details": details,
                "partner_id": partner.id,
                "provider_ref": f"ref-{details}",
            }
        )

    # ----------------------------------------------------------- the method
    def test_choose_autopay_method(self):
        first, second = self._token(self.alice, "1111"), self._token(self.alice, "2222")
        self._login(self.alice_user)
        html = self._get("/my/billing/payment-method").text
        self.assertIn(f'data-token-id="{first.id}"', html)
        self.assertIn(f'data-token-id="{second.id}"', html)
        csrf = self._csrf()
        response = self._post(
            "/my/billing/payment-method", {"csrf_token": csrf, "token_id": second.id}
        )
        self.assertTrue(response.headers["Location"].endswith("/my/billing"))
        self.assertEqual(self.alice.security_autopay_token_id, second)
        html = self._get("/my/billing").text
        self.assertIn("will be used for your automatic payments", html)
        self.assertIn(second.display_name, html)
        # Replacing it is always allowed.
        self._post(
            "/my/billing/payment-method", {"csrf_token": csrf, "token_id": first.id}
        )
        self.assertEqual(self.alice.security_autopay_token_id, first)

    def test_no_remove_button_while_company_forbids_it(self):
        self.company.security_autopay_mandatory = True
        token = self._token(self.alice)
        self.alice.security_autopay_token_id = token
        self._login(self.alice_user)
        html = self._get("/my/billing/payment-method").text
        self.assertNotIn("o_security_remove_autopay", html)
        self.assertIn("can be replaced but not removed", html)
        self._post(
            "/my/billing/payment-method/remove", {"csrf_token": self._csrf()}, 403
        )
        self.assertEqual(self.alice.security_autopay_token_id, token)
        # Nor through Odoo's own "delete payment method" of /my/payment_method.
        answer = self._json("/payment/archive_token", {"token_id": token.id})
        self.assertIn("error", answer)
        self.assertTrue(token.active)

    def test_remove_when_company_allows_it(self):
        self.company.security_autopay_mandatory = False
        token = self._token(self.alice)
        self.alice.security_autopay_token_id = token
        self._login(self.alice_user)
        html = self._get("/my/billing/payment-method").text
        self.assertIn("o_security_remove_autopay", html)
        self._post("/my/billing/payment-method/remove", {"csrf_token": self._csrf()})
        self.assertFalse(self.alice.security_autopay_token_id)
        self.assertIn(
            "Automatic payments are turned off.", self._get("/my/billing").text
        )

    def test_pay_and_use_for_autopay(self):
        old = self._token(self.alice, "1111")
        self.alice.security_autopay_token_id = old
        self._login(self.alice_user)
        tx = self._pay_online(self.alice_contract, "30", security_use_for_autopay=True)
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.security_use_for_autopay)
        self.assertNotEqual(tx.token_id, old)
        self.assertEqual(self.alice.security_autopay_token_id, tx.token_id)

    def test_pay_without_tick_saves_no_card(self):
        """A card is saved only when the customer ticks the box."""
        old = self._token(self.alice, "1111")
        self.alice.security_autopay_token_id = old
        tokens = self.env["payment.token"].search_count([])
        self._login(self.alice_user)
        tx = self._pay_online(self.alice_contract, "30")
        self.assertEqual(tx.state, "done")
        self.assertFalse(tx.tokenize)
        self.assertFalse(tx.token_id)
        self.assertEqual(self.env["payment.token"].search_count([]), tokens)
        self.assertEqual(self.alice.security_autopay_token_id, old)

    def test_cards_show_masked_autopay_method(self):
        token = self._token(self.alice, "4242")
        self.alice.security_autopay_token_id = token
        self._login(self.alice_user)
        html = self._get("/my/billing").text
        self.assertIn("o_security_autopay_method", html)
        self.assertIn(token.display_name, html)
        self.assertNotIn("4242 4242", html)

    # ----------------------------------------------------- promised payment
    def test_promise_rules_shown_and_granted(self):
        self._login(self.alice_user)
        html = self._get("/my/billing").text
        self.assertIn("o_security_promise_rules", html)
        self.assertIn("o_security_promise_button", html)
        due = format_date(self.env, self.today + timedelta(days=5))
        self.assertIn(due, html)
        self._post("/my/billing/promise", {"csrf_token": self._csrf()})
        promise = self.env["security.promised.payment"].search(
            [("partner_id", "=", self.alice.id)]
        )
        self.assertEqual(promise.state, "open")
        self.assertEqual(promise.channel, "portal")
        self.assertEqual(promise.amount, 30.0)  # 100 % of the monthly fee
        html = self._get("/my/billing").text
        self.assertIn("Your promised payment of", html)
        # A second one is refused with the reason.
        self.assertIn("is already open until", html)
        self.assertNotIn("o_security_promise_button", html)
        self._post("/my/billing/promise", {"csrf_token": self._csrf()})
        html = self._get("/my/billing").text
        self.assertIn("Your promised payment was refused", html)
        self.assertEqual(
            self.env["security.promised.payment"].search_count(
                [("partner_id", "=", self.alice.id), ("state", "=", "open")]
            ),
            1,
        )

    def test_promise_refused_when_nothing_due(self):
        self._pay(self.alice, 90.0)
        self._login(self.alice_user)
        html = self._get("/my/billing").text
        self.assertIn("Nothing is due on this account.", html)
        self.assertNotIn("o_security_promise_button", html)

    def test_promise_without_contract_redirects(self):
        carol = self._create_subscriber("Carol NoContract")
        self._login(self._create_portal_user(carol, "carol_sb"))
        self._post("/my/billing/promise", {"csrf_token": self._csrf("/my")})
        self.assertFalse(
            self.env["security.promised.payment"].search(
                [("partner_id", "=", carol.id)]
            )
        )
