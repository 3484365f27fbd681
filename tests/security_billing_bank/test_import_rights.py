"""Who imports bank statements and registries: the accountants who bill.

In Community, OCA's import wizard and the statement models need Odoo's
accountant group ("Show Full Accounting Features"), which a Security Billing
user does not have: the *Bank > Import Statement / Registry* menu was hidden
from them and the import refused ("Contact your administrator").
"""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .bank_common import BankCase, import_vals


@tagged("post_install", "-at_install")
class TestImportRights(BankCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing_user = cls._create_company_user("sb_import_user")
        cls.employee = cls._create_company_user("sb_import_employee", "base.group_user")

    def _wizard_vals(self):
        return import_vals("1c_windows.txt", self.bank_journal, filename="kl_to_1c.txt")

    def test_billing_user_imports_a_1c_statement(self):
        self.assertFalse(self.billing_user.has_group("account.group_account_user"))
        wizard = (
            self.env["account.statement.import"]
            .with_user(self.billing_user)
            .create(self._wizard_vals())
        )
        wizard.import_file_button()
        lines = self.journal_lines(self.bank_journal)
        self.assertEqual(len(lines), 5)
        self.assertEqual(
            sorted(lines.mapped("security_match_state")),
            ["ignored", "ignored", "matched", "matched", "matched"],
        )

    def test_billing_user_sees_the_import_menu(self):
        menu = self.env.ref("security_billing_bank.menu_security_bank_import")
        visible = (
            self.env["ir.ui.menu"].with_user(self.billing_user)._visible_menu_ids()
        )
        self.assertIn(menu.id, visible)
        hidden = self.env["ir.ui.menu"].with_user(self.employee)._visible_menu_ids()
        self.assertNotIn(menu.id, hidden)

    def test_employee_without_billing_rights_cannot_import(self):
        with self.assertRaises(AccessError):
            self.env["account.statement.import"].with_user(self.employee).create(
                self._wizard_vals()
            )
