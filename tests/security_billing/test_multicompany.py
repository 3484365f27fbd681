"""Multi-company: a user of company B sees nothing of company A."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestMultiCompany(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company_data["company"]
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.subscriber = cls._create_subscriber("Subscriber of A")
        cls.contract = cls._create_billing_contract(
            cls.subscriber, date_start="2025-03-01"
        )
        cls.site = cls._create_site(cls.subscriber, cls.contract, device_id="0A0B0C0D")
        cls.user_b = cls._create_company_user(
            "sb_user_company_b",
            "security_billing.group_security_billing_manager",
            company=cls.company_b,
        )

    def test_user_of_company_b_sees_nothing_of_company_a(self):
        run = self._run_billing("2025-03-01")
        self._pay(self.subscriber, 10.0, external_id="test:mc-1")
        self.assertEqual(self.subscriber.company_id, self.company_a)
        self.assertEqual(run.company_id, self.company_a)
        env_b = self.env(user=self.user_b)
        checks = {
            "res.partner": [("id", "=", self.subscriber.id)],
            "security.site": [],
            "contract.contract": [("partner_id", "=", self.subscriber.id)],
            "contract.line": [("contract_id", "=", self.contract.id)],
            "security.billing.run": [],
            "security.billing.run.error": [],
            "security.payment.request": [],
            "account.move": [("partner_id", "=", self.subscriber.id)],
            "account.payment": [("partner_id", "=", self.subscriber.id)],
        }
        for model, domain in checks.items():
            with self.subTest(model=model):
                self.assertFalse(env_b[model].search(domain))
        for record in (self.subscriber, self.site, self.contract, run):
            with self.subTest(record=record), self.assertRaises(AccessError):
                record.with_user(self.user_b).read(["display_name"])
        # Company B's own billing run bills nothing of company A.
        run_b = self.runs.with_user(self.user_b)._start(
            date_ref=self._date("2025-06-01")
        )
        self._perform_run_jobs(run_b)
        self.assertEqual(run_b.company_id, self.company_b)
        self.assertEqual(run_b.invoice_count, 0)
        self.assertEqual(len(self._contract_invoices(self.contract)), 1)

    def test_balance_searches_stay_in_the_company(self):
        self._run_billing("2025-03-01")
        env_b = self.env(user=self.user_b)
        self.assertFalse(env_b["res.partner"].search([("security_balance", "<", 0)]))
        self.assertFalse(
            env_b["contract.contract"].search([("security_balance_due", ">", 0)])
        )
