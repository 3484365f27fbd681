"""The Billing page tells the service status, dates that agree, what each Pay
button pays; after paying a confirmation and a receipt; /my leads to it."""

import re
from datetime import timedelta

from odoo import Command
from odoo.tests import tagged
from odoo.tools import format_amount, format_date

from .common import SecurityPortalCase


@tagged("post_install", "-at_install")
class TestPortalBillingStatus(SecurityPortalCase):
    """Alice: 3 monthly bills of 30.00 (two past due: 60.00, 90.00 due)."""

    def _money(self, amount):
        """An amount as the page shows it (blanks as in ``_text``)."""
        return format_amount(self.env, amount, self.currency).replace("\xa0", " ")

    def _day(self, value):
        return format_date(self.env, value)

    def _card(self, html):
        """The HTML of Alice's card on /my/billing."""
        start = html.index(f'data-contract-id="{self.alice_contract.id}"')
        return html[start : html.index("card-footer", start)]

    def _billing_page(self):
        self._login(self.alice_user)
        return self._get("/my/billing").text

    def _text(self, html):
        """The visible text, tags removed and blanks collapsed."""
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

    # ------------------------------------------------------------ service bar
    def test_suspended_bar_says_why_since_when_and_what_restores(self):
        self.alice_contract._security_run_dunning(self.today)
        self.assertEqual(self.alice_contract.security_state, "suspended")
        card = self._card(self._billing_page())
        self.assertIn('data-service="suspended"', card)
        self.assertIn("text-bg-danger", card)
        text = self._text(card)
        self.assertIn(f"Service suspended since {self._day(self.today)}", text)
        oldest_due = self.alice_invoices[0].invoice_date_due
        self.assertIn(
            f"{self._money(60.0)} past due since {self._day(oldest_due)}.", text
        )
        self.assertIn(f"Pay {self._money(60.0)} to restore your service.", text)
        # the Pay action comes first, before the balances, and pays that amount
        pay_url = f"/my/billing/{self.alice_contract.id}/pay?amount_choice=past_due"
        self.assertIn(pay_url, card)
        self.assertLess(
            card.index("o_security_banner_pay"), card.index("o_security_balance_due")
        )
        html = self._get(pay_url).text
        self.assertEqual(self._form_attr(html, "data-amount"), "60.0")

    def test_warned_bar_is_amber_with_the_suspension_day(self):
        self.env["security.dunning.rule"].create(
            [
                {"state": "warning", "days_past_due": 1},
                {"state": "suspended", "days_past_due": 90},
            ]
        )
        self.alice_contract._security_run_dunning(self.today)
        self.assertEqual(self.alice_contract.security_state, "warning")
        card = self._card(self._billing_page())
        self.assertIn('data-service="warning"', card)
        self.assertIn("text-bg-warning", card)
        self.assertNotIn("text-bg-danger", card)
        deadline = self.alice_invoices[0].invoice_date_due + timedelta(days=90)
        self.assertIn(
            f"Pay {self._money(60.0)} by {self._day(deadline)} to avoid a suspension.",
            self._text(card),
        )

    def test_granted_promise_says_so_until_its_date(self):
        self.alice_contract._security_run_dunning(self.today)
        result = self.alice._security_request_promised_payment(channel="portal")
        self.assertTrue(result["ok"], result["reason"])
        due_date = self._date(result["due_date"])
        card = self._card(self._billing_page())
        self.assertIn('data-service="promised"', card)
        self.assertIn(
            "Promised payment: service continues until " + self._day(due_date),
            self._text(card),
        )
        # after its date, no promise is claimed any more
        self.alice_contract._security_run_dunning(due_date + timedelta(days=1))
        card = self._card(self._get("/my/billing").text)
        self.assertNotIn("Promised payment: service continues", self._text(card))
        self.assertIn('data-service="suspended"', card)

    def test_paid_account_is_green(self):
        self._pay(self.alice, 90.0)
        card = self._card(self._billing_page())
        self.assertIn('data-service="paid"', card)
        self.assertIn("Thank you, your account is up to date.", card)
        self.assertNotIn("o_security_banner_pay", card)

    # ---------------------------------------------------------------- dates
    def _dates(self, card):
        return dict(
            re.findall(r'o_security_date o_security_(\w+)" data-date="([^"]+)"', card)
        )

    def test_dates_nothing_paid(self):
        card = self._card(self._billing_page())
        dates = self._dates(card)
        self.assertEqual(
            dates,
            {
                "overdue_since": str(self.alice_invoices[0].invoice_date_due),
                "next_charge": str(self.alice_contract.recurring_next_date),
            },
        )
        text = self._text(card)
        self.assertNotIn("Next payment date", text)
        self.assertNotIn("Paid until", text)  # no "Paid until -"
        self.assertIn("Overdue since", text)
        self.assertIn("Next charge", text)

    def test_dates_agree_with_the_contract(self):
        """Paid the first bill: paid until its period's end, overdue since the
        second bill's due date, next charge on the next invoice date."""
        self._pay(self.alice, 30.0)
        dates = self._dates(self._card(self._billing_page()))
        first, second = self.alice_invoices[:2]
        self.assertEqual(
            self.alice_contract.security_paid_until, first.security_period_end
        )
        self.assertEqual(dates["paid_until"], str(first.security_period_end))
        self.assertEqual(dates["overdue_since"], str(second.invoice_date_due))
        self.assertEqual(
            dates["next_charge"], str(self.alice_contract.recurring_next_date)
        )
        self.assertLess(dates["overdue_since"], str(self.today))
        self.assertGreater(dates["next_charge"], str(self.today))

    def test_dates_paid_up(self):
        """All paid: paid until the end of the last period billed, and the
        next charge is the day after (pre-paid monthly)."""
        self._pay(self.alice, 90.0)
        dates = self._dates(self._card(self._billing_page()))
        paid_until = self.alice_invoices[-1].security_period_end
        self.assertEqual(
            dates,
            {
                "paid_until": str(paid_until),
                "next_charge": str(paid_until + timedelta(days=1)),
            },
        )

    def test_no_next_charge_once_terminated(self):
        self.alice_contract.sudo().write({"security_state": "terminated"})
        dates = self._dates(self._card(self._billing_page()))
        self.assertNotIn("next_charge", dates)

    # ----------------------------------------------------------- pay buttons
    def test_pay_button_says_what_it_pays(self):
        card_html = self._billing_page()
        start = card_html.index(f'data-contract-id="{self.alice_contract.id}"')
        footer = card_html[card_html.index("card-footer", start) :]
        footer = footer[: footer.index("</div>")]
        self.assertIn(f"Pay {self._money(60.0)}", self._text(footer))
        html = self._pay_page(self.alice_contract, "balance_due", None)
        button = re.search(
            r'name="o_payment_submit_button".*?>(.*?)</button>', html, re.S
        ).group(1)
        self.assertEqual(self._text(button).strip(), f"Pay {self._money(90.0)}")

    def test_preset_amounts_without_duplicates(self):
        # recommended (balance due method) == balance due: shown once
        self.company.security_recommended_method = "balance_due"
        self._login(self.alice_user)
        html = self._get(f"/my/billing/{self.alice_contract.id}/pay").text
        self.assertEqual(
            re.findall(r'name="amount_choice" value="(\w+)"', html),
            ["balance_due", "past_due", "custom"],
        )
        # Bob's one bill is past due: past due = balance due, shown once
        self.assertEqual(self.bob_contract.security_past_due, 45.0)
        self.assertEqual(self.bob_contract.security_balance_due, 45.0)
        self._login(self.bob_user)
        html = self._get(f"/my/billing/{self.bob_contract.id}/pay").text
        self.assertEqual(
            re.findall(r'name="amount_choice" value="(\w+)"', html),
            ["balance_due", "custom"],
        )
        # the card's Pay link (past due) still resolves
        self.assertIn(
            f"/my/billing/{self.bob_contract.id}/pay?amount_choice=past_due",
            self._get("/my/billing").text,
        )
        html = self._pay_page(self.bob_contract, "past_due", None)
        self.assertEqual(self._form_attr(html, "data-amount"), "45.0")

    def test_recommended_amount_other_than_the_balance_is_offered(self):
        self.company.write(
            {"security_recommended_method": "months", "security_recommended_months": 6}
        )
        self._login(self.alice_user)
        html = self._get(f"/my/billing/{self.alice_contract.id}/pay").text
        self.assertEqual(
            re.findall(r'name="amount_choice" value="(\w+)"', html),
            ["balance_due", "past_due", "recommended", "custom"],
        )

    # ------------------------------------------------ confirmation, receipt
    def test_confirmation_after_paying(self):
        self._login(self.alice_user)
        tx = self._pay_online(self.alice_contract, "40")
        self.assertEqual(tx.landing_route, f"/my/billing/confirmation/{tx.id}")
        html = self._get(tx.landing_route).text
        self.assertIn("o_security_confirmation_done", html)
        text = self._text(html)
        self.assertIn(f"payment of {self._money(40.0)} received", text)
        first, second = self.alice_invoices[:2]
        self.assertIn(f"{first.name} ", text)
        self.assertIn(f"{second.name} ", text)
        self.assertEqual(html.count('o_security_receipt_allocation"'), 2)
        self.assertIn(f"Balance due now: {self._money(50.0)}", text)
        self.assertIn("Demo", text)  # the method of the transaction
        self.assertIn(f"/my/billing/payments/{tx.payment_id.id}/receipt", html)

    def test_confirmation_of_a_failed_payment(self):
        self._login(self.alice_user)
        tx = self._pay_online(self.alice_contract, "40", state="error")
        html = self._get(f"/my/billing/confirmation/{tx.id}").text
        self.assertIn("Your payment did not go through", html)
        self.assertNotIn("o_security_confirmation_done", html)

    def test_receipt_from_the_payments_history(self):
        self._login(self.alice_user)
        tx = self._pay_online(self.alice_contract, "100", security_use_for_autopay=True)
        payment = tx.payment_id
        history = self._get("/my/billing/payments").text
        receipt_url = f"/my/billing/payments/{payment.id}/receipt"
        self.assertIn(receipt_url, history)
        text = self._text(self._get(receipt_url).text)
        self.assertIn("Payment receipt", text)
        self.assertIn(self._money(100.0), text)
        self.assertIn(f"Demo ending in {tx.token_id.payment_details}", text)
        for invoice in self.alice_invoices:
            self.assertIn(invoice.name, text)
        self.assertIn(f"Credit on your account {self._money(10.0)}", text)
        self.assertIn(self.alice.security_account_ref, text)

    def test_receipt_and_confirmation_of_another_customer_are_404(self):
        self._login(self.bob_user)
        bob_tx = self._pay_online(self.bob_contract, "45")
        self._get(f"/my/billing/payments/{bob_tx.payment_id.id}/receipt")
        self._login(self.alice_user)
        self._get(f"/my/billing/payments/{bob_tx.payment_id.id}/receipt", 404)
        self._get(f"/my/billing/confirmation/{bob_tx.id}", 404)
        self._get("/my/billing/payments/999999999/receipt", 404)
        self._get("/my/billing/confirmation/999999999", 404)
        # a payment to a supplier of the same partner is no receipt either
        self.authenticate(None, None)
        response = self._get(
            f"/my/billing/payments/{bob_tx.payment_id.id}/receipt", 303
        )
        self.assertIn("/web/login", response.headers["Location"])

    def test_method_as_the_customer_knows_it(self):
        categories = self.env["security.payment.category"]
        self._pay(self.alice, 10.0, category=categories._get_by_code("terminal"))
        self._pay(self.alice, 20.0, category=categories._get_by_code("bank"))
        self._login(self.alice_user)
        html = self._get("/my/billing/payments").text
        methods = re.findall(r'o_security_payment_method">([^<]*)<', html)
        self.assertEqual(sorted(methods), ["Bank transfer", "Terminal"])
        self.assertNotIn("Manual Payment", html)

    # ------------------------------------------------------------------ /my
    def test_billing_first_on_my_home(self):
        self._login(self.alice_user)
        html = self._get("/my").text
        self.assertIn("o_security_billing_home", html)
        self.assertLess(
            html.index("o_security_billing_home"), html.index("portal_client_category")
        )
        answer = self._json(
            "/my/counters",
            {
                "counters": [
                    "security_billing_count",
                    "invoice_count",
                    "overdue_invoice_count",
                    "contract_count",
                ]
            },
        )
        # Alice's bills and contract are all on the Billing page
        self.assertEqual(
            answer["result"],
            {
                "security_billing_count": 1,
                "invoice_count": 0,
                "overdue_invoice_count": 0,
                "contract_count": 0,
            },
        )

    def test_other_invoices_keep_odoo_entry(self):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.alice.id,
                "invoice_line_ids": [
                    Command.create({"name": "Siren", "quantity": 1, "price_unit": 80.0})
                ],
            }
        )
        invoice.action_post()
        self._login(self.alice_user)
        answer = self._json("/my/counters", {"counters": ["invoice_count"]})
        self.assertEqual(answer["result"], {"invoice_count": 1})

    def test_non_subscriber_keeps_odoo_counters(self):
        carol = self.env["res.partner"].create({"name": "Carol Customer"})
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": carol.id,
                "invoice_line_ids": [
                    Command.create({"name": "Siren", "quantity": 1, "price_unit": 80.0})
                ],
            }
        )
        invoice.action_post()
        self._login(self._create_portal_user(carol, "carol_sb"))
        answer = self._json(
            "/my/counters", {"counters": ["security_billing_count", "invoice_count"]}
        )
        self.assertEqual(
            answer["result"], {"security_billing_count": 0, "invoice_count": 1}
        )
