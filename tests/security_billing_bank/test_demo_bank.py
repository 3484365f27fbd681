"""Right after install, the bank demo shows a payment network with a terminal
payment, a bank statement with a matched and an unmatched line, and the demo
administrator can import bank statements. Skipped without demo data."""

from odoo.tests import tagged

from ..common import DemoDataCase
from .bank_common import import_vals


@tagged("post_install", "-at_install")
class TestDemoBank(DemoDataCase):
    def setUp(self):
        super().setUp()
        self.admin = self.env.ref("base.user_admin")

    def test_terminal_provider_with_a_payment(self):
        provider = self.env["security.terminal.provider"].search(
            [("code", "=", "qiwi")]
        )
        self.assertEqual(len(provider), 1)
        self.assertTrue(provider.password_set)
        self.assertTrue(
            provider.endpoint_url.endswith("/security_billing/terminal/qiwi")
        )
        payments = provider.terminal_payment_ids
        self.assertEqual(len(payments), 1)
        self.assertTrue(payments.payment_id)
        self.assertEqual(payments.state, "done")

    def test_statement_with_matched_and_unmatched_lines(self):
        statement = self.env["account.bank.statement"].search(
            [("name", "=", "Demo statement")]
        )
        self.assertEqual(len(statement), 1)
        self.assertEqual(
            sorted(statement.line_ids.mapped("security_match_state")),
            ["ignored", "matched", "to_match"],
        )
        matched = statement.line_ids.filtered(
            lambda line: line.security_match_state == "matched"
        )
        self.assertTrue(matched.security_payment_id)
        self.assertTrue(matched.partner_id.security_is_subscriber)

    def test_demo_users_see_the_import(self):
        menu = self.env.ref("security_billing_bank.menu_security_bank_import")
        for user in (self.admin, self.env.ref("base.user_demo")):
            self.assertTrue(user.has_group("account.group_account_user"))
            self.assertTrue(
                user.has_group("security_billing.group_security_billing_user")
            )
            visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
            self.assertIn(menu.id, visible)

    def test_demo_admin_imports_a_bank_statement(self):
        company = self.admin.company_id
        account = self.env["res.partner.bank"].create(
            {
                "acc_number": "40702810900000000001",  # of the 1C sample
                "partner_id": company.partner_id.id,
                "company_id": company.id,
            }
        )
        journal = self.env["account.journal"].create(
            {
                "name": "Sample bank",
                "code": "SMPB",
                "type": "bank",
                "company_id": company.id,
                "bank_account_id": account.id,
            }
        )
        wizard = (
            self.env["account.statement.import"]
            .with_user(self.admin)
            .create(import_vals("1c_windows.txt", journal, filename="kl_to_1c.txt"))
        )
        wizard.import_file_button()
        lines = self.env["account.bank.statement.line"].search(
            [("journal_id", "=", journal.id), ("payment_ref", "!=", False)]
        )
        self.assertGreater(len(lines), 3)
