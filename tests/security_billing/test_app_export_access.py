"""Who may upload and download device-app status files (an attacker's attempts).

Called over XML-RPC against the test HTTP server, as an attacker would; the
uploads go to the local recording server of ``test_app_export``.
"""

import xmlrpc.client

from odoo.tests import HttpCase, tagged

from ..common import RpcUsersMixin, SecurityBillingCase
from .test_app_export import RecordingServer

CONNECTOR = "security.app.connector"
LOG = "security.app.export.log"


@tagged("post_install", "-at_install")
class TestAppExportAccess(RpcUsersMixin, SecurityBillingCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.other_company = cls.setup_other_company(name="Other Guards")["company"]
        user = "base.group_user,security_billing.group_security_billing_user"
        manager = "base.group_user,security_billing.group_security_billing_manager"
        users = {
            "employee": ("base.group_user,base.group_partner_manager", cls.company),
            "billing": (user, cls.company),
            "manager": (manager, cls.company),
            "other": (manager, cls.other_company),
        }
        cls._create_rpc_users("sb_app_", users)
        partner = cls._create_subscriber("Hub owner")
        contract = cls._create_mmr_contract(partner, price=30.0)
        cls._invoice_contract(contract)
        cls._create_site(partner, contract, device_id="0000AF49")
        cls.connector = cls.env[CONNECTOR].create(
            {
                "name": "Ajax billing",
                "vendor": "ajax",
                "auth_type": "basic",
                "username": "alarmco",
                "password": "s3cret",
                "retry_count": 0,
            }
        )

    def setUp(self):
        super().setUp()
        self.server = RecordingServer([(200, "accepted", 0)]).start()
        self.addCleanup(self.server.stop)
        self.connector.upload_url = self.server.url

    def _assert_refused(self, user, model, method, ids):
        logs = self.env[LOG].search_count([])
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._rpc(user, model, method, ids)
        self.assertEqual(self.server.requests, [], "something was uploaded")
        self.assertEqual(self.env[LOG].search_count([]), logs)
        return caught.exception.faultString

    def test_manager_exports_now(self):
        action = self._rpc(
            self.manager_user, CONNECTOR, "action_export_now", self.connector.ids
        )
        log = self.env[LOG].browse(action["res_id"])
        self.assertEqual((log.state, log.record_count), ("done", 1))
        self.assertEqual(len(self.server.requests), 1)

    def test_read_only_billing_user_cannot_upload(self):
        fault = self._assert_refused(
            self.billing_user, CONNECTOR, "action_export_now", self.connector.ids
        )
        self.assertIn("security.app.connector", fault)

    def test_other_company_cannot_upload_or_download(self):
        for method in ("action_export_now", "action_download_file"):
            with self.subTest(method=method):
                self._assert_refused(
                    self.other_user, CONNECTOR, method, self.connector.ids
                )

    def test_logs_are_downloaded_by_those_who_read_them(self):
        log = self.connector._export()
        self.server.requests.clear()
        action = self._rpc(self.billing_user, LOG, "action_download", log.ids)
        self.assertIn(f"/web/content/{log.attachment_id.id}", action["url"])
        action = self._rpc(
            self.billing_user, CONNECTOR, "action_download_file", self.connector.ids
        )
        self.assertIn("/web/content/", action["url"])
        for user in (self.other_user, self.employee_user):
            with self.subTest(user=user.login):
                self._assert_refused(user, LOG, "action_download", log.ids)
                self._assert_refused(
                    user, CONNECTOR, "action_download_file", self.connector.ids
                )
