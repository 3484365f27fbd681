"""Base of the portal tests: two portal subscribers, contracts, a demo provider."""

import json
import re

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase

from ..common import SecurityBillingCase

CSRF_RE = re.compile(r'csrf_token: "([0-9a-f]+o[0-9]+)"')


class SecurityPortalCase(SecurityBillingCase, HttpCase):
    """Alice owns one MMR contract with three monthly bills (two past due).

    Bob is another subscriber with his own contract and bill: every route is
    also tried with Bob's ids while logged in as Alice.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.currency = cls.company.currency_id
        cls.today = fields.Date.context_today(cls.env.user)
        cls.provider = cls._prepare_demo_provider()
        cls.demo_method = cls.provider.payment_method_ids[:1]

        cls.alice = cls._create_subscriber(
            "Alice Subscriber", email="alice@example.com"
        )
        cls.alice_user = cls._create_portal_user(cls.alice, "alice_sb")
        cls.alice_contract = cls._create_contract_since(
            cls.alice, 2, price=30.0, name="Alice Home Monitoring"
        )
        cls.alice_site = cls._create_site(
            cls.alice, cls.alice_contract, device_id="00AA11BB", name="Alice Home"
        )
        cls.alice_invoices = cls.env["account.move"]
        for _i in range(3):
            cls.alice_invoices |= cls._invoice_contract(cls.alice_contract)

        cls.bob = cls._create_subscriber("Bob Subscriber", email="bob@example.com")
        cls.bob_user = cls._create_portal_user(cls.bob, "bob_sb")
        cls.bob_contract = cls._create_contract_since(
            cls.bob, 1, price=45.0, name="Bob Shop Monitoring"
        )
        cls.bob_invoice = cls._invoice_contract(cls.bob_contract)

    # ---------------------------------------------------------------- helpers
    @classmethod
    def _create_subscriber(cls, name="Subscriber", **vals):
        """A subscriber whose bills are due on their date (immediate term)."""
        vals.setdefault(
            "property_payment_term_id",
            cls.env.ref("account.account_payment_term_immediate").id,
        )
        return super()._create_subscriber(name, **vals)

    @classmethod
    def _create_contract_since(cls, partner, months, **kwargs):
        """An MMR contract started ``months`` months ago (first bill then).

        Created as of today, then moved back: OCA contract refuses a line
        whose start is after the contract's next invoice date on create.
        """
        contract = cls._create_mmr_contract(partner, **kwargs)
        start = cls.today - relativedelta(months=months)
        contract.write({"date_start": start, "recurring_next_date": start})
        return contract

    @classmethod
    def _prepare_demo_provider(cls):
        demo = cls.env.ref("payment.payment_provider_demo").sudo()
        provider = demo.search(
            [("code", "=", "demo"), ("company_id", "=", cls.company.id)], limit=1
        ) or demo.copy({"company_id": cls.company.id})
        provider.write(
            {
                "state": "test",
                "is_published": True,
                "journal_id": cls.bank_journal.id,
                "payment_method_ids": [
                    Command.link(cls.env.ref("payment_demo.payment_method_demo").id)
                ],
            }
        )
        return provider

    @classmethod
    def _create_portal_user(cls, partner, login):
        return (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": partner.name,
                    "login": login,
                    "password": login,
                    "partner_id": partner.id,
                    "company_id": cls.company.id,
                    "company_ids": [Command.set(cls.company.ids)],
                    "groups_id": [Command.set(cls.env.ref("base.group_portal").ids)],
                }
            )
        )

    def _login(self, user):
        self.authenticate(user.login, user.login)

    def _get(self, url, status=200):
        response = self.url_open(url, allow_redirects=False)
        self.env.invalidate_all()
        self.assertEqual(response.status_code, status, f"GET {url}: {response.text}")
        return response

    def _csrf(self, url="/my/billing"):
        """A valid CSRF token of the logged-in session, read from a page."""
        match = CSRF_RE.search(self._get(url).text)
        self.assertTrue(match, "no csrf_token in the page")
        return match.group(1)

    def _post(self, url, data, status=303):
        response = self.url_open(url, data=data, allow_redirects=False)
        self.env.invalidate_all()
        self.assertEqual(
            response.status_code, status, f"POST {url}: {response.text[:300]}"
        )
        return response

    def _json(self, url, params):
        """JSON-RPC call; returns the whole decoded answer (result or error)."""
        response = self.url_open(
            url,
            data=self._jsonrpc_body(params),
            headers={"Content-Type": "application/json"},
        )
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 200)
        return response.json()

    @staticmethod
    def _jsonrpc_body(params):
        return json.dumps(
            {"id": 0, "jsonrpc": "2.0", "method": "call", "params": params}
        ).encode()

    def _pay_page(self, contract, amount_choice="custom", custom_amount="40"):
        url = f"/my/billing/{contract.id}/pay?amount_choice={amount_choice}"
        if custom_amount is not None:
            url += f"&custom_amount={custom_amount}"
        return self._get(url).text

    @staticmethod
    def _form_attr(html, name):
        match = re.search(rf'id="o_payment_form"[^>]*?{name}="([^"]*)"', html, re.S)
        return match and match.group(1)

    def _tx_params(self, html, **overrides):
        params = {
            "provider_id": self.provider.id,
            "payment_method_id": self.demo_method.id,
            "token_id": None,
            "amount": float(self._form_attr(html, "data-amount")),
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": "/my/billing",
            "is_validation": False,
            "access_token": self._form_attr(html, "data-access-token"),
            "csrf_token": CSRF_RE.search(html).group(1),
        }
        params.update(overrides)
        return params

    def _pay_online(self, contract, amount="40", state="done", **overrides):
        """Full payment through HTTP: pay page, transaction, demo notice, poll."""
        html = self._pay_page(contract, custom_amount=amount)
        route = f"/my/billing/{contract.id}/transaction"
        answer = self._json(route, self._tx_params(html, **overrides))
        self.assertIn("result", answer, answer.get("error"))
        reference = answer["result"]["reference"]
        self._json(
            "/payment/demo/simulate_payment",
            {
                "reference": reference,
                "payment_details": "4242",
                "simulated_state": state,
            },
        )
        self._json("/payment/status/poll", {})
        return self.env["payment.transaction"].search([("reference", "=", reference)])

    def _open_balance(self, contract):
        contract.invalidate_recordset()
        return contract.security_balance_due
