"""The contract a portal payment pays is read from its transaction, never from
a context key a remote caller can send."""

from odoo.tests import tagged
from odoo.tools import hmac as hmac_tool

from .common import SecurityPortalCase

CONTEXT_KEY = "security_portal_contract_id"


@tagged("post_install", "-at_install")
class TestPortalContextInjection(SecurityPortalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # with two contracts Alice's payments have no default contract
        cls.alice_contract_2 = cls._create_contract_since(
            cls.alice, 1, price=20.0, name="Alice Shop Monitoring"
        )
        cls.api_user = cls._create_company_user(
            "sbctx_portal_api",
            "security_billing.group_security_billing_api",
            company=cls.company,
            password="sbctx_portal_api-Secret-1",
        )

    def _poll(self, context):
        """Odoo's JSON route that post-processes the session's transaction,
        with the caller's ``context`` in its parameters."""
        answer = self._json("/payment/status/poll", {"context": context})
        self.assertIn("result", answer, answer.get("error"))

    def _simulate(self, reference):
        self._json(
            "/payment/demo/simulate_payment",
            {
                "reference": reference,
                "payment_details": "4242",
                "simulated_state": "done",
            },
        )

    def _tx(self, reference):
        return self.env["payment.transaction"].search([("reference", "=", reference)])

    def test_api_payment_ignores_portal_contract_in_context(self):
        """An integrator's XML-RPC ``context`` binds no payment to another
        subscriber's contract."""
        result = self.xmlrpc_object.execute_kw(
            self.env.cr.dbname,
            self.api_user.id,
            "sbctx_portal_api-Secret-1",
            "security.billing.api",
            "register_payment",
            [self.bob.security_account_ref, 10.0, "ctx-portal-1"],
            {"context": {CONTEXT_KEY: self.alice_contract.id}},
        )
        self.env.invalidate_all()
        payment = self.env["account.payment"].browse(result["payment_id"])
        self.assertEqual(payment.partner_id, self.bob)
        self.assertEqual(payment.security_contract_id, self.bob_contract)
        self.assertEqual(payment.move_id.security_contract_id, self.bob_contract)
        self.assertEqual(self._open_balance(self.alice_contract), 90.0)

    def test_billing_page_payment_pays_the_contract_of_its_card(self):
        self._login(self.alice_user)
        html = self._pay_page(self.alice_contract_2, custom_amount="20")
        route = f"/my/billing/{self.alice_contract_2.id}/transaction"
        answer = self._json(route, self._tx_params(html))
        self.assertIn("result", answer, answer.get("error"))
        reference = answer["result"]["reference"]
        self._simulate(reference)
        self._poll({CONTEXT_KEY: self.bob_contract.id})
        tx = self._tx(reference)
        self.assertEqual(tx.security_contract_id, self.alice_contract_2)
        self.assertEqual(tx.payment_id.amount, 20.0)
        self.assertEqual(tx.payment_id.security_contract_id, self.alice_contract_2)
        self.assertEqual(self._open_balance(self.alice_contract_2), 0.0)
        self.assertEqual(self._open_balance(self.bob_contract), 45.0)

    def test_payment_link_ignores_portal_contract_in_context(self):
        """A payment made by a payment link (no contract card) is bound to no
        contract the caller names in the poll's context."""
        self._login(self.alice_user)
        amount, currency = 25.0, self.currency
        answer = self._json(
            "/payment/transaction",
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.demo_method.id,
                "token_id": None,
                "amount": amount,
                "currency_id": currency.id,
                "partner_id": self.alice.id,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": "/my/billing",
                "is_validation": False,
                # the token of a payment link (payment.utils.generate_access_token)
                "access_token": hmac_tool(
                    self.env(su=True),
                    "generate_access_token",
                    f"{self.alice.id}|{amount}|{currency.id}",
                ),
            },
        )
        self.assertIn("result", answer, answer.get("error"))
        reference = answer["result"]["reference"]
        self._simulate(reference)
        self._poll({CONTEXT_KEY: self.bob_contract.id})
        tx = self._tx(reference)
        self.assertFalse(tx.security_contract_id)
        payment = tx.payment_id
        self.assertEqual(payment.amount, 25.0)
        self.assertEqual(payment.partner_id, self.alice)
        self.assertFalse(payment.security_contract_id)
        self.assertEqual(self._open_balance(self.bob_contract), 45.0)
