"""Portal security: other customers' ids, CSRF, record rules."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import SecurityPortalCase


@tagged("post_install", "-at_install")
class TestPortalSecurity(SecurityPortalCase):
    def _tx_count(self):
        return self.env["payment.transaction"].search_count([])

    def _bob_token(self):
        return self.env["payment.token"].create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.demo_method.id,
                "payment_details": "9999",
                "partner_id": self.bob.id,
                "provider_ref": "bob-ref",
            }
        )

    # ------------------------------------------------- other customer's ids
    def test_pay_page_of_other_customer_is_404(self):
        self._login(self.alice_user)
        for query in ("", "?amount_choice=custom&custom_amount=10"):
            with self.subTest(query=query):
                self._get(f"/my/billing/{self.bob_contract.id}/pay{query}", 404)
        self._get("/my/billing/999999999/pay", 404)

    def test_transaction_of_other_customer_contract_refused(self):
        self._login(self.alice_user)
        html = self._pay_page(self.alice_contract, custom_amount="40")
        count = self._tx_count()
        answer = self._json(
            f"/my/billing/{self.bob_contract.id}/transaction", self._tx_params(html)
        )
        self.assertEqual(answer["error"]["code"], 404)
        self.assertEqual(self._tx_count(), count)
        self.assertEqual(self._open_balance(self.bob_contract), 45.0)

    def test_transaction_with_other_customer_token_refused(self):
        token = self._bob_token()
        self._login(self.alice_user)
        html = self._pay_page(self.alice_contract, custom_amount="40")
        count = self._tx_count()
        answer = self._json(
            f"/my/billing/{self.alice_contract.id}/transaction",
            self._tx_params(
                html, flow="token", token_id=token.id, payment_method_id=None
            ),
        )
        self.assertIn("error", answer)
        self.assertEqual(self._tx_count(), count)

    def test_follower_of_other_contract_cannot_pay_it(self):
        # OCA contract's portal rule lets followers read a contract: reading is
        # not owning, the Billing routes still refuse it.
        self.bob_contract.message_subscribe(partner_ids=self.alice.ids)
        self._login(self.alice_user)
        self._get(f"/my/billing/{self.bob_contract.id}/pay", 404)
        self.assertNotIn("Bob Shop Monitoring", self._get("/my/billing").text)

    def test_set_autopay_with_other_customer_token_is_404(self):
        token = self._bob_token()
        self._login(self.alice_user)
        csrf = self._csrf()
        self._post(
            "/my/billing/payment-method",
            {"csrf_token": csrf, "token_id": token.id},
            status=404,
        )
        self._post(
            "/my/billing/payment-method",
            {"csrf_token": csrf, "token_id": "not-a-number"},
            status=404,
        )
        self.assertFalse(self.alice._security_portal_autopay_token())
        self.assertTrue(token.active)

    def test_archive_token_of_other_customer_does_nothing(self):
        token = self._bob_token()
        self._login(self.alice_user)
        self._json("/payment/archive_token", {"token_id": token.id})
        self.assertTrue(token.active)

    # ------------------------------------------------------------------ CSRF
    def test_post_routes_without_csrf_rejected(self):
        self._login(self.alice_user)
        for url, data in (
            ("/my/billing/payment-method", {"token_id": "1"}),
            ("/my/billing/payment-method/remove", {}),
            ("/my/billing/promise", {}),
        ):
            with self.subTest(url=url):
                for bad in ({}, {"csrf_token": "forged"}):
                    response = self.url_open(
                        url, data=dict(data, **bad) or {"x": "1"}, allow_redirects=False
                    )
                    # Odoo's "Session expired (invalid CSRF token)"
                    self.assertEqual(response.status_code, 400)
        self.assertFalse(self.alice._security_portal_autopay_token())

    def test_transaction_without_csrf_rejected(self):
        self._login(self.alice_user)
        html = self._pay_page(self.alice_contract, custom_amount="40")
        count = self._tx_count()
        for csrf in (None, "forged"):
            with self.subTest(csrf=csrf):
                answer = self._json(
                    f"/my/billing/{self.alice_contract.id}/transaction",
                    self._tx_params(html, csrf_token=csrf),
                )
                self.assertIn("session has expired", answer["error"]["data"]["message"])
        self.assertEqual(self._tx_count(), count)

    def test_get_routes_refuse_post_only_and_vice_versa(self):
        self._login(self.alice_user)
        # GET on a POST-only route is not allowed.
        self._get("/my/billing/promise", 405)
        self._get("/my/billing/payment-method/remove", 405)

    # ------------------------------------------------------------ record rules
    def test_portal_record_rules(self):
        contracts = self.env["contract.contract"].with_user(self.alice_user)
        self.assertEqual(
            contracts.search([("security_is_mmr", "=", True)]), self.alice_contract
        )
        sites = self.env["security.site"].with_user(self.alice_user)
        self.assertEqual(sites.search([]), self.alice_site)
        bob_site = self._create_site(self.bob, self.bob_contract, device_id="00CC22DD")
        with self.assertRaises(AccessError):
            bob_site.with_user(self.alice_user).read(["name"])
        with self.assertRaises(AccessError):
            self.bob_contract.with_user(self.alice_user).read(["name"])
        with self.assertRaises(AccessError):
            self.bob_contract.contract_line_ids.with_user(self.alice_user).read(
                ["name"]
            )
        # Own lines stay readable.
        self.alice_contract.contract_line_ids.with_user(self.alice_user).read(["name"])
        # Portal users never write sites.
        with self.assertRaises(AccessError):
            self.alice_site.with_user(self.alice_user).write({"name": "Hacked"})

    def test_transaction_with_provider_of_another_company_refused(self):
        other_company = self.env["res.company"].create({"name": "Other Monitoring Co"})
        other_provider = self.provider.copy({"company_id": other_company.id})
        self._login(self.alice_user)
        html = self._pay_page(self.alice_contract, custom_amount="40")
        count = self._tx_count()
        for provider_id in (other_provider.id, 999999999, None):
            with self.subTest(provider_id=provider_id):
                answer = self._json(
                    f"/my/billing/{self.alice_contract.id}/transaction",
                    self._tx_params(html, provider_id=provider_id),
                )
                self.assertIn(
                    "cannot pay the bills of this account",
                    answer["error"]["data"]["message"],
                )
        self.assertEqual(self._tx_count(), count)
