"""Shared set-up of the scenarios: the entry points users and integrators use.

A scenario is a story over several days across the three addons: the billing
run, autopay and dunning as their crons run them (with a reference date),
terminal payments over HTTP through the real terminal route, the customer
portal read over HTTP as the portal user, and the device-app export as the
real payload the connector would upload.

The factories are those of the other test packages: the portal case (portal
users, HTTP helpers, the demo provider) and the billing case (billing
contracts, the billing run as its tests run it) are the bases; the token and
terminal provider factories are borrowed from the dunning and terminal cases
(their classmethods, bound here).
"""

import base64
import json
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from lxml import html as lxml_html

from odoo.tests import Form

from ..security_billing.billing_common import BillingCase
from ..security_billing.dunning_common import DunningCase
from ..security_billing_bank.test_terminal import PASSWORD, TerminalCase
from ..security_billing_portal.common import SecurityPortalCase

TERMINAL_LOGIN = "qiwi"


def create_ajax_connector(env, name="Ajax billing"):
    """An Ajax billing server connector of the current company (never sent:
    the scenarios read the payload it would upload). No delay after a
    payment: a requested export is due at once."""
    return env["security.app.connector"].create(
        {
            "name": name,
            "vendor": "ajax",
            "upload_url": "http://127.0.0.1:9/unused",
            "auth_type": "basic",
            "username": "alarmco",
            "password": "s3cret",
            "debounce_seconds": 0,
        }
    )


def export_rows(connector):
    """The rows of the file the connector would upload now, by hub id."""
    payload = connector._build_payload()
    return {row["hubId"]: row for row in json.loads(payload["content"])}


class ScenarioCase(SecurityPortalCase, BillingCase):
    """The portal case (Alice and Bob are the neighbours of the story) with
    a payment terminal provider and an Ajax app connector."""

    _create_token = DunningCase.__dict__["_create_token"]
    _create_terminal_provider = TerminalCase.__dict__["_create_provider"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.terminal = cls._create_terminal_provider("scenario-qiwi")
        cls.connector = create_ajax_connector(cls.env)

    # ------------------------------------------------------------ the crons
    def _run_billing_on(self, day):
        """The billing run of the company as on ``day``, run to its end as
        the billing tests run it."""
        return self._run_billing(day.isoformat())

    def _run_autopay(self, day):
        return self.env["security.autopay.attempt"]._run_autopay(date_ref=day)

    def _run_dunning(self, day):
        return self.env["contract.contract"]._security_run_dunning(date_ref=day)

    def _state(self, contract):
        contract.invalidate_recordset()
        return contract.security_state

    def _last_state_log(self, contract):
        return contract.security_state_log_ids.sorted("id")[-1:]

    def _notices(self, event, partner):
        return self.env["security.notification.log"].search(
            [("event", "=", event), ("partner_id", "=", partner.id)]
        )

    # --------------------------------------------------------------- terminal
    def _terminal(self, **params):
        """One call of the terminal protocol over HTTP; the parsed answer."""
        token = base64.b64encode(f"{TERMINAL_LOGIN}:{PASSWORD}".encode()).decode()
        self.env.flush_all()
        response = self.url_open(
            f"/security_billing/terminal/{self.terminal.code}?{urlencode(params)}",
            headers={"Authorization": f"Basic {token}"},
        )
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 200, response.text)
        root = ET.fromstring(response.content)
        answer = {child.tag: child.text for child in root if child.tag != "fields"}
        answer["result"] = int(answer["result"])
        return answer

    def _terminal_pay(self, partner, amount, txn_id, day):
        return self._terminal(
            command="pay",
            txn_id=txn_id,
            account=partner.security_account_ref,
            sum=amount,
            txn_date=day.strftime("%Y%m%d") + "120000",
        )

    # ----------------------------------------------------------------- portal
    def _portal_cards(self, user):
        """``/my/billing`` read over HTTP as ``user``: one dict per contract
        card, by contract id."""
        self._login(user)
        page = lxml_html.fromstring(self._get("/my/billing").text)
        cards = {}
        for card in page.xpath("//div[contains(@class, 'o_security_billing_card')]"):

            def first(xpath, card=card):
                found = card.xpath(xpath)
                return found[0] if found else None

            status_bar = first(".//div[contains(@class, 'o_security_billing_status')]")
            badge = first(
                ".//span[contains(@class, 'badge')][starts-with(normalize-space(.),"
                " 'Service:')]"
            )
            cards[int(card.get("data-contract-id"))] = {
                "status": card.get("data-status"),
                "color": next(
                    (
                        # alert-danger, or text-bg-danger for a strong bar
                        cls.rsplit("-", 1)[1]
                        for cls in status_bar.get("class").split()
                        if cls.startswith(("alert-", "text-bg-"))
                    ),
                    None,
                ),
                "balance_due": first(
                    ".//div[contains(@class, 'o_security_balance_due')]"
                ).get("data-amount"),
                "past_due": first(
                    ".//div[contains(@class, 'o_security_past_due')]"
                ).get("data-amount"),
                "service": (
                    " ".join(badge.text_content().split())
                    if badge is not None
                    else None
                ),
            }
        self.page = page
        return cards

    def _portal_promise_text(self):
        """The promised payment card of the last page read."""
        found = self.page.xpath("//div[contains(@class, 'o_security_promise')]")
        return " ".join(found[0].text_content().split()) if found else ""

    # ----------------------------------------------------------- accountants
    def _transfer(self, partner, source_contract, target_contract, amount):
        """The Transfer Funds form as an accountant fills and confirms it."""
        form = Form(self.env["security.transfer.funds"])
        form.source_partner_id = partner
        form.source_contract_id = source_contract
        form.target_partner_id = partner
        form.target_contract_id = target_contract
        form.amount = amount
        wizard = form.save()
        wizard.action_transfer()
        return wizard

    # ------------------------------------------------------------- export
    def _export_row(self, site):
        return export_rows(self.connector).get(site.device_id)

    def _queue_exports(self):
        """The export cron's first step: queue the due connectors (and clear
        their requests). Returns the trigger of our connector's queued export
        ("requested": a payment or status change asked for it)."""
        logs = self.env["security.app.connector"]._queue_due_exports()
        self.connector.invalidate_recordset()
        return logs.filtered(lambda log: log.connector_id == self.connector).trigger
