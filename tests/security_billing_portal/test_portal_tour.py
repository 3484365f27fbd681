"""Headless Chromium: a portal customer pays a custom amount on /my/billing.

The run also saves a full-page screenshot of /my/billing into ``artifacts/``
(repository root, ignored by git) for a person to look at.
"""

import base64
import os
import unittest
from pathlib import Path
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser

from .common import SecurityPortalCase

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SCREENSHOT = ARTIFACTS / "my_billing.png"


def capture_full_page(browser, path, width=1280):
    """Save a PNG of the whole page currently shown by Odoo's test browser."""
    metrics = browser._websocket_request("Page.getLayoutMetrics")
    height = int(metrics["cssContentSize"]["height"])
    browser._websocket_request(
        "Emulation.setDeviceMetricsOverride",
        params={
            "width": width,
            "height": height,
            "deviceScaleFactor": 1,
            "mobile": False,
        },
    )
    shot = browser._websocket_request(
        "Page.captureScreenshot", params={"format": "png"}, timeout=30
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


@tagged("post_install", "-at_install")
class TestPortalTour(SecurityPortalCase):
    def _browser(self, run):
        try:
            return run()
        except unittest.SkipTest as exc:
            if os.environ.get("SB_NO_BROWSER") == "1":
                raise
            self.fail(f"the headless browser could not run: {exc}")

    def test_tour_pay_custom_amount(self):
        self._browser(
            lambda: self.start_tour(
                "/my/billing",
                "security_billing_portal_pay",
                login=self.alice_user.login,
            )
        )
        tx = self.env["payment.transaction"].search(
            [("security_billing", "=", True), ("partner_id", "=", self.alice.id)]
        )
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.amount, 40.0)
        self.assertEqual(tx.payment_id.amount, 40.0)
        self.assertEqual(self._open_balance(self.alice_contract), 50.0)
        self.assertEqual(self.alice_invoices[0].payment_state, "paid")

    def test_screenshot_of_billing_page(self):
        """Load /my/billing in the browser and keep a picture of it."""
        self._create_site(
            self.alice, self.alice_contract, device_id="00AA11CC", name="Alice Garage"
        )
        shop = self._create_contract_since(
            self.alice, 1, price=25.0, name="Alice Shop Monitoring"
        )
        self._create_site(self.alice, shop, device_id="00AA11DD", name="Alice Shop")
        self._invoice_contract(shop)
        self._invoice_contract(shop)
        self._pay(self.alice, 50.0, contract=shop)
        self.alice.security_autopay_token_id = self.env["payment.token"].create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.demo_method.id,
                "payment_details": "4242",
                "partner_id": self.alice.id,
                "provider_ref": "alice-ref",
            }
        )
        self._screenshot("/my/billing", ".o_security_billing_card", SCREENSHOT)
        self._screenshot(
            f"/my/billing/{self.alice_contract.id}/pay"
            "?amount_choice=custom&custom_amount=40",
            "#o_payment_form",
            ARTIFACTS / "my_billing_pay.png",
        )

    def _screenshot(self, url, selector, path):
        path.unlink(missing_ok=True)
        stop = ChromeBrowser.stop

        def stop_after_screenshot(browser):
            if getattr(browser, "ws", None) is not None:
                capture_full_page(browser, path)
            stop(browser)

        with patch.object(ChromeBrowser, "stop", stop_after_screenshot):
            self._browser(
                lambda: self.browser_js(
                    url,
                    "console.log('test successful')",
                    ready=f"!!document.querySelector({selector!r})",
                    login=self.alice_user.login,
                )
            )
        self.assertTrue(path.exists())
        self.assertGreater(path.stat().st_size, 10000)
