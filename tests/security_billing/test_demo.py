"""The demo data: run against a database installed with demo data
(``--odoo-database`` of such a database); skipped on databases without it."""

from odoo.tests import tagged

from ..common import DemoDataCase


@tagged("post_install", "-at_install")
class TestDemoData(DemoDataCase):
    def test_demo_subscribers_sites_and_contracts(self):
        self.assertEqual(len(self.subscribers), 30)
        contracts = self.subscribers.security_contract_ids
        self.assertEqual(len(contracts), 30)
        self.assertEqual(
            set(contracts.mapped("recurring_rule_type")),
            {"monthly", "quarterly", "semesterly", "yearly"},
        )
        self.assertEqual(
            set(contracts.mapped("recurring_invoicing_type")), {"pre-paid", "post-paid"}
        )
        self.assertTrue(contracts.filtered("security_prorate_first_period"))
        sites = self.subscribers.security_site_ids
        self.assertEqual({"ajax", "alarm_com"} - set(sites.mapped("vendor")), set())
        for site in sites.filtered(lambda s: s.vendor == "ajax"):
            self.assertRegex(site.device_id, r"^[0-9A-F]{8}$")
        self.assertTrue(
            any(len(partner.security_site_ids) == 2 for partner in self.subscribers)
        )

    def test_demo_balances(self):
        invoices = self.env["account.move"].search(
            [("partner_id", "in", self.subscribers.ids), ("security_is_mmr", "=", True)]
        )
        self.assertTrue(invoices)
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        paid = self.subscribers.filtered(
            lambda p: p.security_balance == 0 and p.security_paid_until
        )
        past_due = self.subscribers.filtered(lambda p: p.security_past_due > 0)
        credit = self.subscribers.filtered(lambda p: p.security_balance > 0)
        self.assertTrue(paid)
        self.assertTrue(past_due)
        self.assertEqual(len(credit), 1)
        runs = self.env["security.billing.run"].search([])
        self.assertTrue(runs)
        self.assertEqual(sum(runs.mapped("error_count")), 0)

    def test_demo_shows_every_service_status(self):
        """Right after install, without waiting for the dunning cron."""
        contracts = self.subscribers.security_contract_ids
        self.assertEqual(
            set(contracts.mapped("security_state")),
            {"active", "warning", "suspended", "terminated"},
        )
        promises = self.env["security.promised.payment"].search(
            [("partner_id", "in", self.subscribers.ids)]
        )
        self.assertTrue(promises, "a granted promised payment")

    def test_demo_subscriber_and_accountant_per_language(self):
        for lang, code in (("ru_RU", "ru"), ("uk_UA", "uk")):
            with self.subTest(lang=lang):
                subscriber = self.env["res.users"].search(
                    [("login", "=", f"subscriber_{code}")]
                )
                accountant = self.env["res.users"].search(
                    [("login", "=", f"accountant_{code}")]
                )
                self.assertEqual(subscriber.lang, lang)
                self.assertTrue(subscriber.share)
                self.assertTrue(subscriber.partner_id.security_is_subscriber)
                self.assertTrue(subscriber.partner_id.security_contract_ids)
                self.assertEqual(accountant.lang, lang)
                self.assertFalse(accountant.share)
                self.assertTrue(
                    accountant.has_group("security_billing.group_security_billing_user")
                )
