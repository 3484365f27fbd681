"""Smoke tests of security_billing_portal: installed, views load, access rules, web."""

from odoo.tests import TransactionCase, tagged

from ..smoke import AddonSmokeMixin, WebSmokeCase

ADDON = "security_billing_portal"


@tagged("post_install", "-at_install")
class TestSmoke(AddonSmokeMixin, TransactionCase):
    addon = ADDON


@tagged("post_install", "-at_install")
class TestWebSmoke(WebSmokeCase):
    def test_backend_loads(self):
        self._check_backend()
