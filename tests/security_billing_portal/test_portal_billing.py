"""The portal Billing page through real HTTP: pages, payments, history."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import SecurityPortalCase


@tagged("post_install", "-at_install")
class TestPortalBilling(SecurityPortalCase):
    # ------------------------------------------------------------- home page
    def test_home_counter(self):
        self._login(self.alice_user)
        answer = self._json("/my/counters", {"counters": ["security_billing_count"]})
        self.assertEqual(answer["result"], {"security_billing_count": 1})
        self.assertIn('href="/my/billing"', self._get("/my").text)

    def test_home_counter_without_contract(self):
        carol = self._create_subscriber("Carol NoContract")
        self._login(self._create_portal_user(carol, "carol_sb"))
        answer = self._json("/my/counters", {"counters": ["security_billing_count"]})
        self.assertEqual(answer["result"], {"security_billing_count": 0})

    # ---------------------------------------------------------- billing page
    def test_billing_page_shows_balances(self):
        self._login(self.alice_user)
        html = self._get("/my/billing").text
        self.assertIn("Alice Home Monitoring", html)
        self.assertIn("Alice Home", html)  # the site
        self.assertIn(self.alice.security_account_ref, html)
        self.assertIn('data-status="past_due"', html)
        self.assertIn('data-amount="90.00"', html)  # balance due
        self.assertIn('data-amount="60.00"', html)  # past due
        for invoice in self.alice_invoices:
            self.assertIn(invoice.name, html)
            self.assertIn(f"/my/invoices/{invoice.id}?report_type=pdf", html)
        self.assertIn(f"/my/billing/{self.alice_contract.id}/pay", html)
        # Nothing of Bob's
        self.assertNotIn("Bob Shop Monitoring", html)
        self.assertNotIn(self.bob_invoice.name, html)

    def test_billing_page_paid_status(self):
        self._pay(self.alice, 90.0)
        self._login(self.alice_user)
        html = self._get("/my/billing").text
        self.assertIn('data-status="paid"', html)
        self.assertIn("No unpaid bills.", html)
        self.assertIn('data-amount="0.00"', html)

    def test_billing_page_due_soon_status(self):
        self._pay(self.alice, 60.0)  # the two past due bills
        self._login(self.alice_user)
        html = self._get("/my/billing").text
        self.assertIn('data-status="due_soon"', html)
        self.assertIn('data-amount="30.00"', html)

    def test_not_configured_page(self):
        carol = self._create_subscriber("Carol NoContract")
        self._login(self._create_portal_user(carol, "carol_sb"))
        html = self._get("/my/billing").text
        self.assertIn("Billing is not configured for your account yet", html)
        self.assertNotIn("o_security_billing_card", html)
        # The other billing routes do not fail either.
        self.assertIn("You have no bills yet.", self._get("/my/billing/bills").text)
        self.assertIn(
            "You have no payments yet.", self._get("/my/billing/payments").text
        )
        self.assertEqual(
            self._get("/my/billing/payment-method", 303)
            .headers["Location"]
            .split("?")[0][-len("/my/billing") :],
            "/my/billing",
        )

    def test_billing_requires_login(self):
        response = self._get("/my/billing", 303)
        self.assertIn("/web/login", response.headers["Location"])

    # ------------------------------------------------------------- pay page
    def test_pay_page_amount_options(self):
        self._login(self.alice_user)
        html = self._get(f"/my/billing/{self.alice_contract.id}/pay").text
        self.assertIn('value="balance_due"', html)
        self.assertIn('value="past_due"', html)
        # the recommended amount (balance due method) is the balance due
        self.assertNotIn('value="recommended"', html)
        self.assertIn('value="custom"', html)
        self.assertNotIn('id="o_payment_form"', html)

    def test_pay_page_predefined_amount(self):
        self._login(self.alice_user)
        html = self._pay_page(self.alice_contract, "past_due", None)
        self.assertEqual(self._form_attr(html, "data-amount"), "60.0")
        self.assertEqual(
            self._form_attr(html, "data-transaction-route"),
            f"/my/billing/{self.alice_contract.id}/transaction",
        )
        self.assertIn('name="security_use_for_autopay"', html)

    def test_pay_page_custom_amount_validation(self):
        self.company.security_portal_max_amount = 500.0
        self._login(self.alice_user)
        cases = {
            "": "Enter the amount you want to pay.",
            "abc": "is not an amount",
            "-5": "is not an amount",
            "1e3": "is not an amount",
            "12.345": "too many decimals",
            "0": "The amount to pay must be positive.",
            "0.00": "The amount to pay must be positive.",
            "500.01": "is above the maximum of",
        }
        for text, message in cases.items():
            with self.subTest(amount=text):
                html = self._pay_page(self.alice_contract, custom_amount=text)
                self.assertIn("o_security_amount_error", html)
                self.assertIn(message, html)
                self.assertNotIn('id="o_payment_form"', html)
        html = self._pay_page(self.alice_contract, custom_amount="12,5")
        self.assertEqual(self._form_attr(html, "data-amount"), "12.5")
        html = self._pay_page(self.alice_contract, "no_such_choice", None)
        self.assertIn("Choose one of the amounts shown", html)

    # ------------------------------------------------------------ payments
    def test_pay_custom_amount_allocates_oldest_first(self):
        self._login(self.alice_user)
        tx = self._pay_online(self.alice_contract, "40")
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.security_billing)
        self.assertEqual(tx.security_contract_id, self.alice_contract)
        self.assertTrue(tx.reference.startswith(self.alice.security_account_ref))
        payment = tx.payment_id
        self.assertTrue(payment)
        self.assertEqual(payment.amount, 40.0)
        self.assertEqual(payment.security_external_id, f"online:demo:{tx.reference}")
        self.assertTrue(tx.provider_reference)
        self.assertEqual(payment.memo, f"{tx.reference} - {tx.provider_reference}")
        self.assertEqual(payment.security_category_id.code, "online")
        self.assertEqual(payment.payment_transaction_id, tx)
        self.assertEqual(payment.partner_id, self.alice)
        self.assertEqual(
            self.alice_invoices.mapped("payment_state"),
            ["paid", "partial", "not_paid"],
        )
        self.assertEqual(self.alice_invoices[1].amount_residual, 20.0)
        self.assertEqual(self._open_balance(self.alice_contract), 50.0)
        # Not ticked: no method is saved, none becomes the autopay method.
        self.assertFalse(tx.token_id)
        self.assertFalse(self.alice._security_portal_autopay_token())
        # The page shows the new balance right after the payment.
        html = self._get("/my/billing").text
        self.assertIn('data-amount="50.00"', html)
        self.assertIn('data-amount="20.00"', html)  # past due left

    def test_payment_post_processing_is_idempotent(self):
        self._login(self.alice_user)
        tx = self._pay_online(self.alice_contract, "30")
        payment = tx.payment_id
        tx.is_post_processed = False
        tx.payment_id = False
        tx._post_process()
        self.assertEqual(tx.payment_id, payment)
        payments = self.env["account.payment"].search(
            [("security_external_id", "=", f"online:demo:{tx.reference}")]
        )
        self.assertEqual(payments, payment)
        self.assertEqual(self._open_balance(self.alice_contract), 60.0)

    def test_failed_payment_changes_nothing(self):
        self._login(self.alice_user)
        tx = self._pay_online(self.alice_contract, "40", state="error")
        self.assertEqual(tx.state, "error")
        self.assertFalse(tx.payment_id)
        self.assertEqual(self._open_balance(self.alice_contract), 90.0)

    def test_pay_with_saved_token(self):
        self._login(self.alice_user)
        first = self._pay_online(
            self.alice_contract, "10", security_use_for_autopay=True
        )
        token = first.token_id
        self.assertEqual(token.partner_id, self.alice)
        html = self._pay_page(self.alice_contract, custom_amount="20")
        self.assertIn(f'data-payment-option-id="{token.id}"', html)
        answer = self._json(
            f"/my/billing/{self.alice_contract.id}/transaction",
            self._tx_params(
                html, flow="token", token_id=token.id, payment_method_id=None
            ),
        )
        self.assertIn("result", answer, answer.get("error"))
        self._json("/payment/status/poll", {})
        tx = self.env["payment.transaction"].search(
            [("reference", "=", answer["result"]["reference"])]
        )
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.token_id, token)
        self.assertEqual(self._open_balance(self.alice_contract), 60.0)

    def test_transaction_amount_tampered(self):
        self._login(self.alice_user)
        html = self._pay_page(self.alice_contract, custom_amount="40")
        count = self.env["payment.transaction"].search_count([])
        answer = self._json(
            f"/my/billing/{self.alice_contract.id}/transaction",
            self._tx_params(html, amount=4.0),
        )
        self.assertIn(
            "The amount to pay was changed", answer["error"]["data"]["message"]
        )
        self.assertEqual(self.env["payment.transaction"].search_count([]), count)

    def test_transaction_amount_above_maximum(self):
        self._login(self.alice_user)
        html = self._pay_page(self.alice_contract, custom_amount="400")
        self.company.security_portal_max_amount = 100.0
        answer = self._json(
            f"/my/billing/{self.alice_contract.id}/transaction", self._tx_params(html)
        )
        self.assertIn("is above the maximum", answer["error"]["data"]["message"])
        self.assertFalse(
            self.env["payment.transaction"].search([("security_billing", "=", True)])
        )

    def test_transaction_unknown_kwarg_rejected(self):
        self._login(self.alice_user)
        html = self._pay_page(self.alice_contract, custom_amount="40")
        params = self._tx_params(html)
        params["partner_id"] = self.bob.id
        answer = self._json(f"/my/billing/{self.alice_contract.id}/transaction", params)
        self.assertIn("error", answer)
        self.assertFalse(
            self.env["payment.transaction"].search([("security_billing", "=", True)])
        )

    # -------------------------------------------------------------- history
    def test_bills_history(self):
        self._pay(self.alice, 30.0)
        self._login(self.alice_user)
        html = self._get("/my/billing/bills").text
        self.assertEqual(html.count('class="o_security_bill"'), 3)
        self.assertIn(">Paid</span>", html)
        self.assertIn(">Past due</span>", html)
        for invoice in self.alice_invoices:
            self.assertIn(f"/my/invoices/{invoice.id}?report_type=pdf", html)
        self.assertNotIn(self.bob_invoice.name, html)

    def test_bills_history_pagination(self):
        for _i in range(11):
            self._invoice_contract(self.alice_contract)
        self._login(self.alice_user)
        first = self._get("/my/billing/bills").text
        second = self._get("/my/billing/bills/page/2").text
        self.assertEqual(first.count('class="o_security_bill"'), 12)
        self.assertEqual(second.count('class="o_security_bill"'), 2)
        self.assertIn("/my/billing/bills/page/2", first)
        self.assertIn(self.alice_invoices[0].name, second)

    def test_bill_pdf_download(self):
        self._login(self.alice_user)
        invoice = self.alice_invoices[0]
        response = self._get(f"/my/invoices/{invoice.id}?report_type=html")
        self.assertIn(invoice.name, response.text)
        # Bob's bill: account's portal route refuses (redirect to /my).
        response = self._get(
            f"/my/invoices/{self.bob_invoice.id}?report_type=html", 303
        )
        self.assertTrue(response.headers["Location"].endswith("/my"))

    def test_payments_history(self):
        self._login(self.alice_user)
        tx = self._pay_online(self.alice_contract, "40", security_use_for_autopay=True)
        cash = self._pay(
            self.alice,
            20.0,
            category=self.env["security.payment.category"]._get_by_code("cash"),
        )
        self._pay(self.bob, 45.0)
        html = self._get("/my/billing/payments").text
        self.assertEqual(html.count('class="o_security_payment"'), 2)
        self.assertIn(tx.token_id.display_name, html)  # method of the online one
        self.assertIn("Online", html)
        self.assertIn("Cash", html)
        for invoice in self.alice_invoices[:2]:
            self.assertIn(invoice.name, html)
        self.assertTrue(cash["allocations"])
        self.assertNotIn(self.bob_invoice.name, html)

    def test_payments_history_pagination(self):
        for _i in range(13):
            self._pay(self.alice, 1.0)
        self._login(self.alice_user)
        first = self._get("/my/billing/payments").text
        second = self._get("/my/billing/payments/page/2").text
        self.assertEqual(first.count('class="o_security_payment"'), 12)
        self.assertEqual(second.count('class="o_security_payment"'), 1)

    # ------------------------------------------------------------- settings
    def test_company_maximum_setting(self):
        settings = self.env["res.config.settings"].create(
            {"security_portal_max_amount": 250.0}
        )
        settings.execute()
        self.assertEqual(self.company.security_portal_max_amount, 250.0)
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"]
        self.assertIn("security_portal_max_amount", arch["form"]["arch"])
        with self.assertRaises(ValidationError):
            self.company.security_portal_max_amount = -1.0
        self.company.security_portal_max_amount = 0.0  # no limit
        self._login(self.alice_user)
        html = self._pay_page(self.alice_contract, custom_amount="99999")
        self.assertEqual(self._form_attr(html, "data-amount"), "99999.0")

    def test_contact_of_subscriber_uses_the_account(self):
        contact = self.env["res.partner"].create(
            {"name": "Alice's Husband", "parent_id": self.alice.id, "type": "contact"}
        )
        self._login(self._create_portal_user(contact, "alice_husband_sb"))
        html = self._get("/my/billing").text
        self.assertIn("Alice Home Monitoring", html)
        self.assertIn('data-amount="90.00"', html)
        tx = self._pay_online(self.alice_contract, "30")
        self.assertEqual(tx.partner_id, contact)
        self.assertEqual(tx.payment_id.partner_id, self.alice)
        self.assertEqual(self._open_balance(self.alice_contract), 60.0)
        self._get(f"/my/billing/{self.bob_contract.id}/pay", 404)
