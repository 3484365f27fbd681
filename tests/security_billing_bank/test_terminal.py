"""Payment terminal protocol (OSMP/QIWI check-pay), through real HTTP."""

import base64
import logging
import threading
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import retrying
from odoo.tests import HttpCase, TransactionCase, tagged

from odoo.addons.security_billing.tools.account_ref import make_account_ref

from ..common import SecurityBillingCase

_logger = logging.getLogger(__name__)
SAMPLES = Path(__file__).parent / "samples"
PASSWORD = "terminal-secret-0123456789"
PAY_TAGS = ["osmp_txn_id", "prv_txn", "sum", "result", "comment"]
CHECK_TAGS = ["osmp_txn_id", "sum", "result", "comment", "fields"]


class TerminalCase(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = cls._create_provider("qiwi-test")
        cls.partner = cls._create_subscriber("Ivan Petrov")
        cls.contract = cls._create_mmr_contract(cls.partner, price=30.0)
        cls.invoice_1 = cls._invoice_contract(cls.contract)
        cls.invoice_2 = cls._invoice_contract(cls.contract)
        cls.ref = cls.partner.security_account_ref

    @classmethod
    def _create_provider(cls, code, **vals):
        return cls.env["security.terminal.provider"].create(
            dict(
                {
                    "name": f"Provider {code}",
                    "code": code,
                    "journal_id": cls.bank_journal.id,
                    "allowed_networks": "127.0.0.1/32\n::1",
                    "login": "qiwi",
                    "password": PASSWORD,
                    "min_amount": 1.0,
                    "max_amount": 15000.0,
                    "tz": "Europe/Moscow",
                },
                **vals,
            )
        )

    @classmethod
    def _protocol(cls, provider=None):
        """The provider in the environment the endpoint uses."""
        code = (provider or cls.provider).code
        return cls.env["security.terminal.provider"]._osmp_get_provider(code)

    def _terminal_payments(self, provider=None):
        return self.env["security.terminal.payment"].search(
            [("provider_id", "=", (provider or self.provider).id)]
        )

    def _payments(self, external_id):
        return self.env["account.payment"].search(
            [("security_external_id", "=", external_id)]
        )


@tagged("post_install", "-at_install")
class TestTerminalHttp(TerminalCase, HttpCase):
    # ----------------------------------------------------------------- helpers
    def _request(self, params, provider=None, auth=None, method="GET"):
        provider = provider or self.provider
        url = f"/security_billing/terminal/{provider.code}"
        login, password = auth or ("qiwi", PASSWORD)
        headers = {}
        if auth is not False:
            token = base64.b64encode(f"{login}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        self.env.flush_all()
        if method == "POST":
            response = self.url_open(url, data=params, headers=headers)
        else:
            response = self.url_open(f"{url}?{urlencode(params)}", headers=headers)
        self.env.invalidate_all()
        return response

    def _answer(self, response, tags=None):
        """Parse the XML answer; check its envelope and tag order."""
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers["Content-Type"], "text/xml; charset=utf-8")
        self.assertTrue(
            response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        )
        root = ET.fromstring(response.content)
        self.assertEqual(root.tag, "response")
        if tags:
            self.assertEqual([child.tag for child in root], tags)
        answer = {child.tag: child.text for child in root if child.tag != "fields"}
        answer["result"] = int(answer["result"])
        fields_node = root.find("fields")
        if fields_node is not None:
            answer["fields"] = [
                (node.tag, node.get("name"), node.text) for node in fields_node
            ]
        return answer

    def _call(self, tags=None, **params):
        return self._answer(self._request(params), tags)

    def _pay(self, txn_id, amount, account=None, txn_date="20250314093005", **kw):
        params = {
            "command": "pay",
            "txn_id": txn_id,
            "account": self.ref if account is None else account,
            "sum": amount,
            "txn_date": txn_date,
        }
        params.update(kw)
        return self._call(**params)

    def _check(self, account=None, amount="10.00", **kw):
        params = {
            "command": "check",
            "txn_id": "1001",
            "account": self.ref if account is None else account,
            "sum": amount,
        }
        params.update(kw)
        return self._call(**params)

    def _owed(self, partner):
        if "security_recommended_amount" in partner._fields:
            return partner.security_recommended_amount
        return partner.security_balance_due

    # ------------------------------------------------------------------- check
    def test_check_ok_answers_masked_name_and_amount_owed(self):
        answer = self._check(amount="10.00", tags=CHECK_TAGS)
        self.assertEqual(answer["osmp_txn_id"], "1001")
        self.assertEqual(answer["sum"], "10.00")
        self.assertEqual(answer["result"], 0)
        self.assertEqual(answer["comment"], "OK")
        self.assertNotIn("prv_txn", answer)
        self.assertEqual(self.partner.security_balance_due, 60.0)
        self.assertEqual(
            answer["fields"],
            [
                ("field1", "disp1", "I*** P***"),
                ("field2", "disp2", "%.2f" % self._owed(self.partner)),
            ],
        )
        self.assertFalse(self._terminal_payments(), "check writes nothing")

    def test_check_escapes_xml_in_the_name(self):
        partner = self._create_subscriber("<Ivan> & Co")
        answer = self._check(account=partner.security_account_ref)
        self.assertEqual(answer["fields"][0][2], "<*** &*** C***")

    def test_check_post_form_body(self):
        response = self._request(
            {"command": "check", "txn_id": "77", "account": self.ref, "sum": "5"},
            method="POST",
        )
        answer = self._answer(response)
        self.assertEqual((answer["osmp_txn_id"], answer["result"]), ("77", 0))
        self.assertEqual(answer["sum"], "5.00")

    # --------------------------------------------------------------------- pay
    def test_pay_partial_allocates_oldest_first(self):
        answer = self._pay("5001", "45.00")
        payment = self._payments(f"osmp:{self.provider.code}:5001")
        self.assertEqual(len(payment), 1)
        self.assertEqual(
            answer,
            {
                "osmp_txn_id": "5001",
                "prv_txn": str(payment.id),
                "sum": "45.00",
                "result": 0,
                "comment": "OK",
            },
        )
        self.assertEqual(payment.state, "in_process")
        self.assertEqual(payment.amount, 45.0)
        self.assertEqual(payment.partner_id, self.partner)
        self.assertEqual(payment.journal_id, self.bank_journal)
        self.assertEqual(payment.security_category_id.code, "terminal")
        self.assertEqual(payment.memo, f"Terminal {self.provider.name} txn 5001")
        self.assertEqual(payment.date, date(2025, 3, 14))
        self.assertEqual(self.invoice_1.payment_state, "paid")
        self.assertEqual(self.invoice_2.payment_state, "partial")
        self.assertEqual(self.invoice_2.amount_residual, 15.0)
        self.assertEqual(self.partner.security_balance_due, 15.0)
        record = self._terminal_payments()
        self.assertRecordValues(
            record,
            [
                {
                    "txn_id": "5001",
                    "account": self.ref,
                    "amount": 45.0,
                    "state": "done",
                    "prv_txn": str(payment.id),
                    "result": 0,
                    "payment_id": payment.id,
                    "partner_id": self.partner.id,
                    "company_id": self.provider.company_id.id,
                    "txn_day": date(2025, 3, 14),
                    "alert": False,
                }
            ],
        )
        # 09:30:05 in Moscow (UTC+3) is 06:30:05 UTC
        self.assertEqual(
            record.txn_date, fields.Datetime.to_datetime("2025-03-14 06:30:05")
        )

    def test_pay_replay_returns_the_original_answer(self):
        first = self._pay("5002", "30.00")
        second = self._pay("5002", "30", txn_date="20250315000000")
        self.assertEqual(first["result"], 0)
        self.assertEqual(second, dict(first, sum="30.00"))
        self.assertEqual(len(self._terminal_payments()), 1)
        self.assertEqual(len(self._payments(f"osmp:{self.provider.code}:5002")), 1)
        self.assertEqual(self.invoice_1.payment_state, "paid")
        self.assertEqual(self.invoice_2.payment_state, "not_paid")

    def test_pay_reused_txn_id_with_other_sum_or_account_alerts(self):
        first = self._pay("5003", "30.00")
        record = self._terminal_payments()
        other = self._create_subscriber("Other Person")
        for amount, account in (
            ("31.00", self.ref),
            ("30.00", other.security_account_ref),
        ):
            answer = self._pay("5003", amount, account=account)
            self.assertEqual(answer["result"], 300)
            self.assertEqual(answer["osmp_txn_id"], "5003")
            self.assertIsNone(answer.get("prv_txn"))
            self.assertIn("already used", answer["comment"])
        self.assertEqual(first["result"], 0)
        self.assertEqual(self._terminal_payments(), record)
        self.assertEqual(len(self._payments(f"osmp:{self.provider.code}:5003")), 1)
        self.assertEqual(other.security_balance, 0.0)
        self.assertTrue(record.alert)
        self.assertEqual(record.conflict_count, 2)
        self.assertEqual(len(record.activity_ids), 1, "one open activity")
        self.assertEqual(record.activity_ids.user_id, self.provider.alert_user_id)
        messages = record.message_ids.filtered(lambda m: "Answered 300" in m.body)
        self.assertEqual(len(messages), 2)
        self.assertIn("31.00", messages[-1].body)
        # the accountant checks and clears the alert
        record.action_clear_alert()
        self.assertFalse(record.alert)
        self.assertFalse(record.activity_ids)

    # ------------------------------------------------------------ result codes
    def test_result_1_payments_paused(self):
        self.provider.payments_paused = True
        self.assertEqual(self._pay("5101", "10.00")["result"], 1)
        self.assertEqual(self._check()["result"], 0, "checks still work")
        self.assertFalse(self._terminal_payments())
        self.provider.payments_paused = False
        self.assertEqual(self._pay("5101", "10.00")["result"], 0, "retry succeeds")

    def test_result_4_invalid_account_format(self):
        for account in ("1000018", "abc", "12", "", "7700016x"):
            with self.subTest(account=account):
                self.assertEqual(self._check(account=account)["result"], 4)
                answer = self._pay("5201", "10.00", account=account)
                self.assertEqual(answer["result"], 4)
                self.assertTrue(answer["comment"])
        self.assertFalse(self._terminal_payments())

    def test_result_5_account_not_found(self):
        account = make_account_ref("999999")
        self.assertEqual(self._check(account=account)["result"], 5)
        self.assertEqual(self._pay("5301", "10.00", account=account)["result"], 5)
        # a subscriber of another company is not found either
        other = self._create_subscriber(
            "Elsewhere", company_id=self.setup_other_company()["company"].id
        )
        self.assertEqual(self._check(account=other.security_account_ref)["result"], 5)
        self.assertFalse(self._terminal_payments())

    def test_pay_in_a_locked_period_is_booked_after_the_lock_date(self):
        self.provider.company_id.fiscalyear_lock_date = date(2025, 3, 31)
        answer = self._pay("5401", "10.00", txn_date="20250314120000")
        self.assertEqual(answer["result"], 0)
        payment = self._payments(f"osmp:{self.provider.code}:5401")
        self.assertGreater(payment.move_id.date, date(2025, 3, 31))
        self.assertEqual(self._terminal_payments().txn_day, date(2025, 3, 14))

    def test_pay_dated_in_the_future_is_booked_today(self):
        answer = self._pay("5403", "10.00", txn_date="20991231235959")
        self.assertEqual(answer["result"], 0)
        payment = self._payments(f"osmp:{self.provider.code}:5403")
        self.assertLessEqual(payment.date, fields.Date.today() + timedelta(days=1))
        self.assertEqual(self._terminal_payments().txn_day, date(2099, 12, 31))

    def test_result_7_and_90_recorded_payment_corrected(self):
        first = self._pay("5402", "10.00")
        payment = self.env["account.payment"].browse(int(first["prv_txn"]))
        self.provider.company_id.security_allow_payment_edit = True
        payment.action_draft()
        self.assertEqual(self._pay("5402", "10.00")["result"], 90)
        payment.action_cancel()
        self.assertEqual(self._pay("5402", "10.00")["result"], 7)

    def test_result_8_misconfigured_provider(self):
        self.provider.category_id.active = False
        answer = self._pay("5501", "10.00")
        self.assertEqual(answer["result"], 8)
        self.assertFalse(self._terminal_payments())

    def test_result_79_account_not_active(self):
        archived = self._create_subscriber("Archived")
        archived.active = False
        self.assertEqual(
            self._check(account=archived.security_account_ref)["result"], 79
        )
        former = self._create_subscriber("Former")
        former.security_is_subscriber = False
        self.assertEqual(
            self._pay("5601", "5", account=former.security_account_ref)["result"], 79
        )
        # terminated contracts: refused when nothing is owed, accepted with debt
        ended = self._create_subscriber("Ended")
        contract = self._create_mmr_contract(ended)
        contract.security_state = "terminated"
        self.assertEqual(self._check(account=ended.security_account_ref)["result"], 79)
        self._invoice_contract(contract)
        self.assertEqual(self._check(account=ended.security_account_ref)["result"], 0)
        self.assertFalse(self._terminal_payments())

    def test_result_241_242_sum_limits(self):
        for amount, result in (
            ("0.99", 241),
            ("0.00", 241),
            ("0", 241),
            ("1.00", 0),
            ("15000.00", 0),
            ("15000.01", 242),
            ("99999", 242),
        ):
            with self.subTest(amount=amount):
                self.assertEqual(self._check(amount=amount)["result"], result)
        self.assertEqual(self._pay("5701", "0.50")["result"], 241)
        self.assertEqual(self._pay("5702", "20000")["result"], 242)
        self.assertFalse(self._terminal_payments())

    def test_result_243_ambiguous_account(self):
        # A partner shared by all companies and a company subscriber may hold
        # the same number: the terminal cannot tell which one pays.
        twin = self._create_subscriber("Twin", company_id=False)
        twin.security_account_ref = self.ref
        self.assertEqual(self._check()["result"], 243)
        self.assertEqual(self._pay("5801", "10.00")["result"], 243)
        self.assertFalse(self._terminal_payments())

    def test_result_300_malformed_requests(self):
        cases = [
            {"command": "refund", "txn_id": "1", "account": self.ref, "sum": "1"},
            {"txn_id": "1", "account": self.ref, "sum": "1"},
            {
                "command": "pay",
                "txn_id": "12a",
                "sum": "1",
                "txn_date": "20250314093005",
            },
            {
                "command": "pay",
                "txn_id": "1" * 21,
                "sum": "1",
                "txn_date": "20250314093005",
            },
            {
                "command": "pay",
                "txn_id": "9",
                "sum": "10,00",
                "txn_date": "20250314093005",
            },
            {
                "command": "pay",
                "txn_id": "9",
                "sum": "-5",
                "txn_date": "20250314093005",
            },
            {
                "command": "pay",
                "txn_id": "9",
                "sum": "1.005",
                "txn_date": "20250314093005",
            },
            {"command": "pay", "txn_id": "9", "txn_date": "20250314093005"},
            {"command": "pay", "txn_id": "9", "sum": "10", "txn_date": "2025-03-14"},
            {
                "command": "pay",
                "txn_id": "9",
                "sum": "10",
                "txn_date": "20251399000000",
            },
            {"command": "pay", "txn_id": "9", "sum": "10"},
            {"command": "check", "txn_id": "", "account": self.ref, "sum": "1"},
        ]
        for params in cases:
            params.setdefault("account", self.ref)
            with self.subTest(params=params):
                answer = self._call(**params)
                self.assertEqual(answer["result"], 300)
                self.assertTrue(answer["comment"])
        self.assertFalse(self._terminal_payments())

    def test_result_300_echoes_only_wellformed_values(self):
        answer = self._call(
            command="pay",
            txn_id="1\x01<x>",
            account=self.ref,
            sum="1<2",
            txn_date="20250314093005",
        )
        self.assertEqual(answer["result"], 300)
        self.assertIsNone(answer.get("osmp_txn_id"))
        self.assertIsNone(answer.get("sum"))

    # ---------------------------------------------------------- access control
    def test_unknown_or_inactive_provider_404(self):
        missing = self.provider.new({"code": "nobody"})
        response = self._request({"command": "check"}, provider=missing)
        self.assertEqual(response.status_code, 404)
        self.provider.active = False
        response = self._request({"command": "check", "txn_id": "1"})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.content, b"")

    def test_wrong_credentials_401_learn_nothing(self):
        for auth in (False, ("qiwi", "wrong-password-0000"), ("other", PASSWORD)):
            with self.subTest(auth=auth):
                response = self._request(
                    {
                        "command": "pay",
                        "txn_id": "1",
                        "account": self.ref,
                        "sum": "1",
                        "txn_date": "20250314093005",
                    },
                    auth=auth,
                )
                self.assertEqual(response.status_code, 401)
                self.assertEqual(response.content, b"")
                self.assertEqual(
                    response.headers["WWW-Authenticate"], 'Basic realm="terminal"'
                )
        self.assertFalse(self._terminal_payments())

    def test_source_address_outside_the_list_403(self):
        self.provider.allowed_networks = "10.0.0.0/8, 192.168.1.7"
        response = self._request({"command": "check", "txn_id": "1"})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.content, b"")
        # also without credentials: the address is filtered first
        response = self._request({"command": "check"}, auth=False)
        self.assertEqual(response.status_code, 403)
        self.provider.allowed_networks = "10.0.0.0/8\n127.0.0.0/8"
        self.assertEqual(self._check()["result"], 0)


@tagged("post_install", "-at_install")
class TestTerminalModels(TerminalCase):
    def test_password_is_hashed_and_write_only(self):
        provider = self.provider
        self.assertFalse(provider.password)
        self.assertTrue(provider.password_set)
        stored = provider.sudo().password_hash
        self.assertTrue(stored.startswith("$pbkdf2-sha512$"))
        self.assertNotIn(PASSWORD, stored)
        self.assertTrue(provider._osmp_credentials_ok("qiwi", PASSWORD))
        self.assertFalse(provider._osmp_credentials_ok("qiwi", PASSWORD + "x"))
        self.assertEqual(provider._fields["password_hash"].groups, "base.group_system")
        with self.assertRaisesRegex(ValidationError, "at least 16"):
            provider.password = "short"

    def test_allowed_networks_validated(self):
        with self.assertRaisesRegex(ValidationError, "'10.0.0.300/8' is not an IP"):
            self.provider.allowed_networks = "127.0.0.1\n10.0.0.300/8"
        with self.assertRaisesRegex(ValidationError, "at least one"):
            self.provider.allowed_networks = " , "
        self.provider.allowed_networks = "192.0.2.0/24 2001:db8::/32"
        self.assertTrue(self.provider._osmp_address_allowed("192.0.2.55"))
        self.assertTrue(self.provider._osmp_address_allowed("2001:db8::1"))
        self.assertTrue(self.provider._osmp_address_allowed("::ffff:192.0.2.1"))
        self.assertFalse(self.provider._osmp_address_allowed("192.0.3.1"))
        self.assertFalse(self.provider._osmp_address_allowed("not-an-ip"))

    def test_code_rules(self):
        with self.assertRaisesRegex(ValidationError, "lower-case"):
            self._create_provider("Bad Code")
        with self.assertRaises(Exception), self.cr.savepoint():
            self._create_provider("qiwi-test")
        self._protocol()._osmp_pay(
            {
                "command": "pay",
                "txn_id": "1",
                "account": self.ref,
                "sum": "5",
                "txn_date": "20250314093005",
            }
        )
        with self.assertRaisesRegex(UserError, "cannot change"):
            self.provider.code = "renamed"

    def test_default_category_is_terminal(self):
        self.assertEqual(self.provider.category_id.code, "terminal")


@tagged("post_install", "-at_install")
class TestTerminalReconciliation(TerminalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner.security_account_ref = make_account_ref("770001")
        cls.partner_b = cls._create_subscriber("Anna Smirnova")
        cls.partner_b.security_account_ref = make_account_ref("770002")
        for txn_id, amount, account, when in (
            ("7000000001", "30.00", "7700016", "20250314093005"),
            ("7000000002", "20.00", "7700016", "20250314100000"),
            ("7000000004", "15.00", "7700024", "20250314235959"),
            ("7000000005", "5.00", "7700016", "20250314183000"),
            ("7000000006", "7.00", "7700016", "20250315000000"),  # next day
        ):
            answer = cls._protocol()._osmp_pay(
                {
                    "command": "pay",
                    "txn_id": txn_id,
                    "account": account,
                    "sum": amount,
                    "txn_date": when,
                }
            )
            assert answer["result"] == 0, answer

    def _reconciliation(self, content):
        return self.env["security.terminal.reconciliation"].create(
            {
                "provider_id": self.provider.id,
                "date": date(2025, 3, 14),
                "registry_file": base64.b64encode(content),
                "registry_filename": "registry.csv",
            }
        )

    def test_sample_registry_lists_the_differences(self):
        rec = self._reconciliation((SAMPLES / "osmp_registry.csv").read_bytes())
        rec.action_compare()
        self.assertEqual(rec.state, "done")
        self.assertEqual((rec.registry_count, rec.registry_total), (4, 70.0))
        self.assertEqual((rec.recorded_count, rec.recorded_total), (4, 70.0))
        lines = sorted(
            (
                line.type,
                line.txn_id,
                line.registry_line,
                line.registry_amount,
                line.recorded_amount,
                line.registry_account or "",
                line.recorded_account or "",
            )
            for line in rec.line_ids
        )
        self.assertEqual(
            lines,
            [
                ("account", "7000000005", 5, 5.0, 5.0, "7700024", "7700016"),
                ("amount", "7000000002", 3, 25.0, 20.0, "7700016", "7700016"),
                ("extra", "7000000004", 0, 0.0, 15.0, "", "7700024"),
                ("missing", "7000000003", 4, 10.0, 0.0, "7700024", ""),
            ],
        )
        extra = rec.line_ids.filtered(lambda line: line.type == "extra")
        self.assertEqual(extra.terminal_payment_id.txn_id, "7000000004")
        # comparing again replaces the lines
        rec.action_compare()
        self.assertEqual(len(rec.line_ids), 4)

    def test_semicolon_registry_with_bom_matches(self):
        content = (
            "\ufefftxn_id;date;account;sum\r\n"
            "7000000001;2025-03-14 09:30:05;7700016;30.00\r\n"
            "7000000002;2025-03-14 10:00:00;7700016;20.00\r\n"
            "\r\n"
            "7000000004;20250314235959;770 002-4;15\r\n"
            "7000000005;2025-03-14 18:30:00;7700016;5.00\r\n"
        ).encode()
        rec = self._reconciliation(content)
        rec.action_compare()
        self.assertFalse(rec.line_ids)
        self.assertEqual(rec.registry_count, 4)

    def test_bad_registry_names_the_line_and_writes_nothing(self):
        header = "txn_id,date,account,sum\n"
        good = "7000000001,2025-03-14 09:30:05,7700016,30.00\n"
        cases = [
            (b"", "Upload"),
            (b"\n \n", "empty"),
            (b"id,date,account,amount\n", "line 1: the header"),
            (
                (header + good + "7000000002,2025-03-14 10:00:00,7700016\n").encode(),
                "line 3: expected 4 columns, got 3",
            ),
            (
                (header + "70000x1,2025-03-14 09:30:05,7700016,30.00\n").encode(),
                "line 2: txn_id '70000x1'",
            ),
            (
                (header + good + "7000000002,14.03.2025,7700016,1.00\n").encode(),
                "line 3: date '14.03.2025'",
            ),
            (
                (header + "7000000002,2025-03-15 10:00:00,7700016,1.00\n").encode(),
                "line 2: date 2025-03-15 10:00:00 is not the registry day",
            ),
            (
                (header + "7000000002,2025-03-14 10:00:00,,1.00\n").encode(),
                "line 2: the account is empty",
            ),
            (
                (header + good + good.replace("30.00", "30.555")).encode(),
                "line 3: sum '30.555'",
            ),
            (
                (header + good + good).encode(),
                "line 3: txn_id 7000000001 is already on line 2",
            ),
            (
                "txn_id,date,account,sum\n1,2025-03-14 10:00:00,77,1\n".encode(
                    "utf-16"
                ),
                "not UTF-8",
            ),
            (
                (
                    header + good + "7000000002,2025-03-14 10:00:00,77\x00,1.00\n"
                ).encode(),
                r"line 3: account '77\\x00' must be 1 to 20 digits",
            ),
            (
                (header + good).encode() + b"7000000002,2025-03-14 10:00:00,77,1.00,\n",
                "line 3: expected 4 columns, got 5",
            ),
        ]
        for content, message in cases:
            with self.subTest(message=message):
                rec = self._reconciliation(content)
                with self.assertRaisesRegex(UserError, message):
                    rec.action_compare()
                self.assertEqual(rec.state, "draft")
                self.assertFalse(rec.line_ids)
                self.assertEqual(rec.registry_count, 0)


@tagged("post_install", "-at_install")
class TestTerminalConcurrency(TransactionCase):
    """50 identical pay requests racing in real PostgreSQL transactions.

    HttpCase serializes requests on the test cursor, so this test opens real
    cursors in 10 threads and runs the provider's ``_osmp_pay`` through
    ``odoo.service.model.retrying`` like Odoo's HTTP layer does. Its fixture
    is committed, and deleted in ``finally``.
    """

    REQUESTS = 50
    WORKERS = 10

    def _committed_env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def _create_fixture(self, code):
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            company = env.ref("base.main_company")
            journal = env["account.journal"].search(
                [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
            )
            partner = env["res.partner"].create(
                {"name": f"Race {code}", "security_is_subscriber": True}
            )
            provider = env["security.terminal.provider"].create(
                {
                    "name": f"Race {code}",
                    "code": code,
                    "company_id": company.id,
                    "journal_id": journal.id,
                    "allowed_networks": "127.0.0.1",
                    "login": "race",
                    "password": PASSWORD,
                    "min_amount": 1.0,
                }
            )
            return provider.id, partner.id, partner.security_account_ref

    def _delete_fixture(self, code, provider_id, partner_id):
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            records = env["security.terminal.payment"].search(
                [("provider_id", "=", provider_id)]
            )
            payments = env["account.payment"].search(
                [("security_external_id", "=like", f"osmp:{code}:%")]
            )
            records.unlink()
            env["security.payment.request"].search(
                [("external_id", "=like", f"osmp:{code}:%")]
            ).unlink()
            payments.action_draft()
            payments.unlink()
            env["security.terminal.provider"].browse(provider_id).unlink()
            env["res.partner"].browse(partner_id).unlink()

    def _pay_in_own_transaction(self, code, params, start):
        start.wait(timeout=30)
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)

            def pay():
                self.attempts.append(threading.get_ident())
                provider = env["security.terminal.provider"]._osmp_get_provider(code)
                return provider._osmp_pay(dict(params))

            return retrying(partial(pay), env)

    def test_50_identical_pay_requests_make_one_payment(self):
        self.assertFalse(self.registry.in_test_mode(), "cursors must be real")
        self.attempts = []
        code = f"race-{uuid.uuid4().hex[:12]}"
        provider_id, partner_id, ref = self._create_fixture(code)
        try:
            params = {
                "command": "pay",
                "txn_id": "424242",
                "account": ref,
                "sum": "123.45",
                "txn_date": fields.Datetime.now().strftime("%Y%m%d%H%M%S"),
            }
            start = threading.Event()
            with ThreadPoolExecutor(max_workers=self.WORKERS) as pool:
                futures = [
                    pool.submit(self._pay_in_own_transaction, code, params, start)
                    for _i in range(self.REQUESTS)
                ]
                start.set()
                answers = [future.result(timeout=300) for future in futures]
            with self.registry.cursor() as cr:
                env = self._committed_env(cr)
                records = env["security.terminal.payment"].search(
                    [("provider_id", "=", provider_id)]
                )
                payments = env["account.payment"].search(
                    [("security_external_id", "=", f"osmp:{code}:424242")]
                )
                self.assertEqual(len(records), 1)
                self.assertEqual(len(payments), 1)
                self.assertEqual(payments.amount, 123.45)
                self.assertEqual(records.payment_id, payments)
                partner = env["res.partner"].browse(partner_id)
                self.assertEqual(partner.security_balance, 123.45)
            self.assertEqual({a["result"] for a in answers}, {0})
            self.assertEqual({a["prv_txn"] for a in answers}, {str(payments.id)})
            self.assertEqual(len(answers), self.REQUESTS)
            _logger.info(
                "%s pay requests: %s attempts (%s replayed after a serialization "
                "failure)",
                self.REQUESTS,
                len(self.attempts),
                len(self.attempts) - self.REQUESTS,
            )
        finally:
            self._delete_fixture(code, provider_id, partner_id)
