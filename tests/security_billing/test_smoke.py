"""Smoke tests of security_billing: installed, views load, access rules, web."""

from odoo.tests import TransactionCase, tagged

from ..smoke import AddonSmokeMixin, WebSmokeCase

ADDON = "security_billing"


@tagged("post_install", "-at_install")
class TestSmoke(AddonSmokeMixin, TransactionCase):
    addon = ADDON


@tagged("post_install", "-at_install")
class TestWebSmoke(WebSmokeCase):
    def test_backend_loads(self):
        self._check_backend()

    def test_browser_runs_js(self):
        self._check_browser()
