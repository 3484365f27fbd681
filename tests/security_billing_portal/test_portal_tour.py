"""Headless Chromium: a portal customer pays a custom amount on /my/billing;
the Billing page at 1440 px and on a 390 px phone.

The run also saves full-page screenshots into ``artifacts/`` (repository
root, ignored by git) for a person to look at: ``my_billing.png`` (1440 px),
``my_billing_phone.png`` (390 px) and the other pages at 390 px.
"""

import base64
import os
import unittest
from pathlib import Path
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser

from ..languages import install_languages
from .common import SecurityPortalCase

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SCREENSHOT = ARTIFACTS / "my_billing.png"


DESKTOP = "1440x900"
PHONE = "390x844"

# At 390 px: nothing wider than the screen, no table cut (stacked rows), the
# tabs on one line, the Pay action within two screens from the top.
PHONE_CHECK = """
const errors = [];
const doc = document.documentElement;
if (doc.scrollWidth > window.innerWidth + 1) {
    errors.push(`the page is ${doc.scrollWidth}px wide`);
}
for (const el of document.querySelectorAll(".o_security_stack, .o_security_stack td")) {
    if (el.scrollWidth > el.clientWidth + 1) {
        errors.push(`a table is cut: ${el.scrollWidth} > ${el.clientWidth}`);
    }
}
const tabs = [...document.querySelectorAll(".o_security_billing_nav .nav-link")];
if (new Set(tabs.map((tab) => tab.getBoundingClientRect().top)).size > 1) {
    errors.push("the tabs wrap");
}
const pay = document.querySelector(".o_security_banner_pay, .o_security_pay_button");
if (pay) {
    const bottom = pay.getBoundingClientRect().bottom + window.scrollY;
    if (bottom > 2 * window.innerHeight) {
        errors.push(`the Pay action is ${bottom}px down`);
    }
}
if (errors.length) {
    console.error("phone layout: " + errors.join("; "));
} else {
    console.log("test successful");
}
"""

# /my once the counters came: Billing shown first, no invoice/contract entry.
MY_HOME_CHECK = """
const shown = [...document.querySelectorAll(".o_portal_index_card:not(.d-none)")];
const urls = shown.map((card) => card.querySelector("a").getAttribute("href"));
if (urls[0] !== "/my/billing") {
    console.error("the first entry of /my is " + urls[0]);
} else if (urls.some((url) => /^[/]my[/](invoices|contracts)/.test(url))) {
    console.error("/my still shows " + urls.join(", "));
} else {
    console.log("test successful");
}
"""


def capture_full_page(browser, path, width=1440, mobile=False):
    """Save a PNG of the whole page currently shown by Odoo's test browser."""
    metrics = browser._websocket_request("Page.getLayoutMetrics")
    height = int(metrics["cssContentSize"]["height"])
    browser._websocket_request(
        "Emulation.setDeviceMetricsOverride",
        params={
            "width": width,
            "height": height,
            "deviceScaleFactor": 1,
            "mobile": mobile,
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

    def test_tour_pay_custom_amount_in_russian(self):
        """The same tour for a Russian subscriber: Russian texts on the
        page, amounts with a decimal comma, the same payment recorded."""
        install_languages(self.env, ["ru_RU"])
        self.alice.lang = self.alice_user.lang = "ru_RU"
        self.test_tour_pay_custom_amount()
        self._login(self.alice_user)
        html = self.url_open("/my/billing").text  # redirected to /ru/my/billing
        self.assertIn("Другая сумма", html)
        self.assertRegex(html, r">\s*50,00\s*<")

    def _prepare_screenshot_data(self):
        """Alice suspended on her home contract, her shop partly paid, a card
        for automatic payments and one online payment."""
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
        self._pay(
            self.alice,
            20.0,
            contract=shop,
            category=self.env["security.payment.category"]._get_by_code("terminal"),
        )
        (self.alice_contract | shop)._security_run_dunning(self.today)
        return shop

    def test_screenshot_of_billing_page(self):
        """/my/billing at 1440 px, with the other pages, kept as pictures."""
        self._prepare_screenshot_data()
        self.assertEqual(self.alice_contract.security_state, "suspended")
        self._screenshot("/my/billing", ".o_security_billing_card", SCREENSHOT)
        self._screenshot(
            f"/my/billing/{self.alice_contract.id}/pay?amount_choice=past_due",
            "#o_payment_form",
            ARTIFACTS / "my_billing_pay.png",
        )
        payment = self.env["account.payment"].search(
            [("partner_id", "=", self.alice.id)], limit=1
        )
        self._screenshot(
            f"/my/billing/payments/{payment.id}/receipt",
            ".o_security_receipt",
            ARTIFACTS / "my_billing_receipt.png",
        )

    def test_phone_layout(self):
        """At 390 px nothing is cut and the Pay action is near the top; each
        page is kept as a picture."""
        self._prepare_screenshot_data()
        pages = {
            "/my/billing": (".o_security_billing_card", "my_billing_phone.png"),
            "/my/billing/bills": (".o_security_bill", "my_billing_bills_phone.png"),
            "/my/billing/payments": (
                ".o_security_payment",
                "my_billing_payments_phone.png",
            ),
            f"/my/billing/{self.alice_contract.id}/pay?amount_choice=past_due": (
                "#o_payment_form",
                "my_billing_pay_phone.png",
            ),
        }
        for url, (selector, name) in pages.items():
            with self.subTest(url=url):
                self._screenshot(url, selector, ARTIFACTS / name, PHONE, PHONE_CHECK)

    def test_my_home_leads_to_billing(self):
        """/my of a subscriber: the Billing card first, Odoo's invoice and
        contract entries hidden (all her bills are on the Billing page)."""
        self._prepare_screenshot_data()
        self._screenshot(
            "/my",
            "",
            ARTIFACTS / "my_home_phone.png",
            PHONE,
            MY_HOME_CHECK,
            ready="!!document.querySelector('.o_portal_docs')"
            " && !document.querySelector('.o_portal_doc_spinner')",
        )

    def _screenshot(self, url, selector, path, size=DESKTOP, code=None, ready=None):
        """Open ``url`` as Alice in a browser of ``size``, run ``code`` (a
        check that logs "test successful") and save a full-page picture."""
        path.unlink(missing_ok=True)
        stop = ChromeBrowser.stop
        width = int(size.split("x")[0])

        def stop_after_screenshot(browser):
            if getattr(browser, "ws", None) is not None:
                capture_full_page(browser, path, width, mobile=size == PHONE)
            stop(browser)

        self.browser_size = size
        self.touch_enabled = size == PHONE
        with patch.object(ChromeBrowser, "stop", stop_after_screenshot):
            self._browser(
                lambda: self.browser_js(
                    url,
                    code or "console.log('test successful')",
                    ready=ready or f"!!document.querySelector({selector!r})",
                    login=self.alice_user.login,
                )
            )
        self.assertTrue(path.exists())
        self.assertGreater(path.stat().st_size, 10000)
