#!/usr/bin/env python3
"""Screenshots of the demo for the README and the app store pages.

Starts the demo server (``./dev run``: the demo database is created on the
first run) on a free port, logs in and drives headless Chromium over the
DevTools protocol (``--remote-debugging-port``) to save PNG files of:

- the billing overview and a suspended subscriber's form (back office, as
  the demo administrator), into ``security_billing/static/description/``;
- the portal Billing page of that suspended subscriber at 1440 px and at
  390 px, and the confirmation after paying its past due amount, into
  ``security_billing_portal/static/description/``.

The portal pages need a portal user for that subscriber and a payment
provider: the script creates the user (login: the subscriber's e-mail,
password ``portal-screenshots``) and, unless ``--no-pay``, installs Odoo's
``payment_demo`` provider in the demo database (test mode). Run it on the
demo database only.

Usage::

    python3 bench/screenshots.py [--db security_billing_demo] [--port N]
                                 [--chromium /usr/bin/chromium] [--no-pay]

The first page load of the back office builds the assets (15-30 s): the
script waits for each page's content, up to ``--timeout`` seconds.
"""

import argparse
import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parents[1]
CORE_OUT = ROOT / "security_billing" / "static" / "description"
PORTAL_OUT = ROOT / "security_billing_portal" / "static" / "description"
PORTAL_PASSWORD = "portal-screenshots"
DESKTOP = (1440, 900)
PHONE = (390, 844)


def free_port():
    while True:
        port = random.randint(20000, 29999)
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port


def wait_http(url, timeout, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process serving {url} stopped")
        try:
            if requests.get(url, timeout=5).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


class Odoo:
    """JSON-RPC of one user on the demo server."""

    def __init__(self, base, db, login, password):
        self.base, self.db, self.password = base, db, password
        self.http = requests.Session()
        result = self._post(
            "/web/session/authenticate",
            {"db": db, "login": login, "password": password},
        )
        self.uid = result["uid"]
        self.session_id = self.http.cookies["session_id"]

    def _post(self, path, params):
        response = self.http.post(
            self.base + path,
            json={"jsonrpc": "2.0", "method": "call", "params": params},
            timeout=600,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("error"):
            raise RuntimeError(json.dumps(body["error"], indent=1)[:2000])
        return body["result"]

    def call(self, model, method, *args, **kwargs):
        return self._post(
            "/jsonrpc",
            {
                "service": "object",
                "method": "execute_kw",
                "args": [self.db, self.uid, self.password, model, method, args, kwargs],
            },
        )


class Chromium:
    """Headless Chromium, one page, driven over the DevTools protocol."""

    def __init__(self, binary, timeout):
        self.timeout = timeout
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="sb_screenshots_")
        self.proc = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                "--window-size=%d,%d" % DESKTOP,
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        devtools = f"http://127.0.0.1:{self.port}"
        wait_http(devtools + "/json/version", 30, self.proc)
        target = requests.put(devtools + "/json/new?about:blank", timeout=10).json()
        self.ws = websocket.create_connection(
            target["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True
        )
        self.next_id = 0
        self.call("Page.enable")
        self.call("Network.enable")

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        return result.get("result", {}).get("value")

    def set_cookie(self, base, session_id):
        self.call("Network.setCookie", name="session_id", value=session_id, url=base)

    def resize(self, width, height, mobile=False):
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )

    def open(self, url, selector):
        self.call("Page.navigate", url=url)
        self.wait(selector)

    def wait(self, selector):
        deadline = time.time() + self.timeout
        check = f"!!document.querySelector({json.dumps(selector)})"
        while time.time() < deadline:
            if self.evaluate(check):
                time.sleep(1.5)  # fonts, images and transitions settle
                return
            time.sleep(0.5)
        raise TimeoutError(f"{selector} not shown within {self.timeout}s")

    def click(self, selector):
        self.wait(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def type(self, selector, text):
        self.wait(selector)
        self.evaluate(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                el.value = {json.dumps(text)};
                el.dispatchEvent(new Event("input", {{bubbles: true}}));
                el.dispatchEvent(new Event("change", {{bubbles: true}}));
            }})()"""
        )

    def screenshot(self, path, width, height, mobile=False, full_page=True):
        self.resize(width, height, mobile)
        time.sleep(1)
        if full_page:
            metrics = self.call("Page.getLayoutMetrics")
            full = int(metrics["cssContentSize"]["height"])
            self.resize(width, max(height, full), mobile)
            time.sleep(0.5)
        shot = self.call("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        self.resize(width, height, mobile)
        print(f"saved {path.relative_to(ROOT)}")

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            self.proc.wait(10)
            shutil.rmtree(self.profile, ignore_errors=True)


def suspended_subscriber(admin):
    partners = admin.call(
        "res.partner",
        "search_read",
        [
            ("security_is_subscriber", "=", True),
            ("security_service_state", "=", "suspended"),
            ("email", "!=", False),
        ],
        fields=["name", "email", "security_contract_ids", "user_ids"],
        order="security_account_ref",
        limit=1,
    )
    if not partners:
        raise RuntimeError("no suspended subscriber in the demo database")
    return partners[0]


def portal_login(admin, partner):
    """The portal login of ``partner``, created when it has none."""
    users = admin.call(
        "res.users",
        "search_read",
        [("partner_id", "=", partner["id"])],
        fields=["login"],
        context={"active_test": False},
    )
    if users:
        admin.call(
            "res.users",
            "write",
            [users[0]["id"]],
            {"password": PORTAL_PASSWORD, "active": True},
        )
        return users[0]["login"]
    group = admin.call(
        "ir.model.data", "check_object_reference", "base", "group_portal"
    )[1]
    admin.call(
        "res.users",
        "create",
        {
            "partner_id": partner["id"],
            "login": partner["email"],
            "password": PORTAL_PASSWORD,
            "groups_id": [(6, 0, [group])],
        },
    )
    return partner["email"]


def demo_provider(admin):
    """Install and enable Odoo's demo payment provider (test mode)."""
    module = admin.call(
        "ir.module.module",
        "search_read",
        [("name", "=", "payment_demo")],
        fields=["state"],
    )
    if module and module[0]["state"] != "installed":
        print("installing payment_demo (the demo payment provider)...")
        admin.call("ir.module.module", "button_immediate_install", [module[0]["id"]])
    providers = admin.call(
        "payment.provider", "search", [("code", "=", "demo")], limit=1
    )
    journal = admin.call("account.journal", "search", [("type", "=", "bank")], limit=1)
    admin.call(
        "payment.provider",
        "write",
        providers,
        {"state": "test", "is_published": True, "journal_id": journal[0]},
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", default=os.environ.get("SB_DEMO_DB", "security_billing_demo")
    )
    parser.add_argument("--port", type=int, default=0, help="HTTP port (random)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--timeout", type=int, default=180)
    parser.add_argument("--no-pay", action="store_true", help="skip the confirmation")
    args = parser.parse_args()

    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, SB_HTTP_PORT=str(port), SB_DEMO_DB=args.db)
    server = subprocess.Popen(
        [str(ROOT / "dev"), "run", "--", "--max-cron-threads=0"],
        env=env,
        start_new_session=True,
    )
    browser = None
    try:
        wait_http(base + "/web/login", 1800, server)
        admin = Odoo(base, args.db, "admin", "admin")
        partner = suspended_subscriber(admin)
        login = portal_login(admin, partner)
        if not args.no_pay:
            demo_provider(admin)

        browser = Chromium(args.chromium, args.timeout)
        browser.resize(*DESKTOP)
        browser.set_cookie(base, admin.session_id)
        browser.open(
            base + "/odoo/action-security_billing.action_security_billing_overview",
            ".o_security_billing_overview .o_kanban_record",
        )
        browser.screenshot(CORE_OUT / "billing_overview.png", *DESKTOP, full_page=False)
        browser.open(
            base
            + "/odoo/action-security_billing.action_security_subscribers/"
            + str(partner["id"]),
            ".o_form_view .o_security_billing_strip",
        )
        browser.screenshot(CORE_OUT / "subscriber_form.png", *DESKTOP, full_page=False)

        portal = Odoo(base, args.db, login, PORTAL_PASSWORD)
        browser.call("Network.clearBrowserCookies")
        browser.set_cookie(base, portal.session_id)
        browser.open(base + "/my/billing", ".o_security_billing_card")
        browser.screenshot(PORTAL_OUT / "my_billing.png", *DESKTOP)
        browser.resize(*PHONE, mobile=True)
        browser.open(base + "/my/billing", ".o_security_billing_card")
        browser.screenshot(PORTAL_OUT / "my_billing_phone.png", *PHONE, mobile=True)
        if not args.no_pay:
            browser.resize(*DESKTOP)
            contract = partner["security_contract_ids"][0]
            browser.open(
                f"{base}/my/billing/{contract}/pay?amount_choice=past_due",
                "input[name='o_payment_radio'][data-provider-code='demo']",
            )
            browser.click("input[name='o_payment_radio'][data-provider-code='demo']")
            browser.type("#customer_input", "4242")
            browser.click("button[name='o_payment_submit_button']:not(:disabled)")
            browser.wait(".o_security_confirmation_done")
            browser.screenshot(PORTAL_OUT / "my_billing_confirmation.png", *DESKTOP)
    finally:
        if browser:
            browser.close()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
