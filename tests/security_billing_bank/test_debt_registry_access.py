"""Who may generate and download the debt registry: over XML-RPC and HTTP,
as an attacker would."""

import base64
import xmlrpc.client

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from ..common import RpcUsersMixin
from .bank_common import IVAN, BankCase

WIZARD = "security.debt.registry.wizard"


@tagged("post_install", "-at_install")
class TestDebtRegistryAccess(RpcUsersMixin, BankCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.other_company = cls.setup_other_company(name="Other Guards")["company"]
        billing = "base.group_user,security_billing.group_security_billing_user"
        users = {
            "employee": ("base.group_user,base.group_partner_manager", cls.company),
            "billing": (billing, cls.company),
            "colleague": (billing, cls.company),
            "other": (billing, cls.other_company),
        }
        cls._create_rpc_users("sb_debts_", users)

    def _export(self, user):
        """The billing user's wizard, run over XML-RPC: its id and action."""
        wizard_id = self._rpc(user, WIZARD, "create", {"file_format": "csv"})
        action = self._rpc(user, WIZARD, "action_export", [wizard_id])
        return wizard_id, action

    def test_billing_user_downloads_the_registry(self):
        wizard_id, action = self._export(self.billing_user)
        self.authenticate(self.billing_user.login, self._password("sb_debts_billing"))
        response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertIn(IVAN, response.text)
        self.assertIn("Ivan P***", response.text)

    def test_employee_without_billing_rights_cannot_generate_it(self):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._export(self.employee_user)
        self.assertIn("security.debt.registry.wizard", caught.exception.faultString)
        self.assertFalse(self.env[WIZARD].search([]))

    def test_nobody_else_reads_a_generated_registry(self):
        """The file is kept on the wizard: only its creator reads it."""
        wizard_id, action = self._export(self.billing_user)
        self.assertTrue(self.env[WIZARD].sudo().browse(wizard_id).file)
        for user in (self.colleague_user, self.other_user, self.employee_user):
            with self.subTest(user=user.login):
                with self.assertRaises(xmlrpc.client.Fault):
                    self._rpc(user, WIZARD, "read", [wizard_id], ["file"])
                self.authenticate(user.login, self._password(user.login))
                response = self.url_open(action["url"])
                self.assertIn(response.status_code, (403, 404))
                self.assertNotIn(IVAN, response.text)
                self.assertNotIn(
                    base64.b64encode(IVAN.encode()).decode(), response.text
                )

    def test_registry_builder_needs_a_billing_user(self):
        registry = self.env["security.debt.registry"]
        self.assertTrue(registry.with_user(self.billing_user)._get_rows())
        with self.assertRaisesRegex(AccessError, "Security Billing / User"):
            registry.with_user(self.employee_user)._get_rows()
