"""The integrator API (security.billing.api) called over XML-RPC through the
real HTTP server, and the duplicate external id race in two transactions."""

import threading
import time
import xmlrpc.client
from datetime import timedelta
from functools import partial
from uuid import uuid4

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError
from odoo.service.model import retrying
from odoo.tests import HttpCase, TransactionCase, tagged

from ..common import RpcUsersMixin, SecurityBillingCase

API = "security.billing.api"


@tagged("post_install", "-at_install")
class TestApiXmlrpc(RpcUsersMixin, SecurityBillingCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.today = fields.Date.context_today(cls.env.user)
        users = {
            "api": "security_billing.group_security_billing_api",
            "manager": "security_billing.group_security_billing_manager",
            "internal": "base.group_user",
            "portal": "base.group_portal",
        }
        cls._create_rpc_users("sb_", users)
        cls.partner = cls._create_subscriber("Api Subscriber")
        cls.contract = cls._create_mmr_contract(
            cls.partner, date_start=cls.today - timedelta(days=40)
        )
        cls.invoices = cls._invoice_contract(cls.contract) | cls._invoice_contract(
            cls.contract
        )
        cls.site = cls._create_site(cls.partner, cls.contract, device_id="0000af49")
        cls.ref = cls.partner.security_account_ref

    def _call(self, method, *args, user=None, **kwargs):
        """A method of the integrator API, as the API user by default."""
        return self._rpc(user or self.api_user, API, method, *args, **kwargs)

    def _assert_fault(self, pattern, method, *args, code=2, user=None, **kwargs):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._call(method, *args, user=user, **kwargs)
        self.assertRegex(caught.exception.faultString, pattern)
        self.assertEqual(caught.exception.faultCode, code)
        return caught.exception

    def _counts(self):
        return (
            self.env["account.payment"].search_count([]),
            self.env["security.payment.request"].search_count([]),
            self.env["account.partial.reconcile"].search_count([]),
        )

    # ------------------------------------------------------------ account_status
    def test_account_status(self):
        status = self._call("account_status", self.ref)
        partner = self.partner
        self.assertEqual(
            status,
            {
                "account_ref": self.ref,
                "name": "Api Subscriber",
                "currency": self.company.currency_id.name,
                "balance": -60.0,
                "balance_due": 60.0,
                "past_due": partner.security_past_due,
                "paid_until": False,
                "next_payment_date": fields.Date.to_string(
                    partner.security_next_payment_date
                ),
                "status": "active",
                "recommended_amount": 60.0,
                "autopay": False,
                "sites": [
                    {
                        "name": self.site.name,
                        "vendor": "ajax",
                        "device_id": "0000AF49",
                        "status": "active",
                    }
                ],
            },
        )
        # an integer account number works too; managers may call the API
        by_int = self._call("account_status", int(self.ref), user=self.manager_user)
        self.assertEqual(by_int["account_ref"], self.ref)

    def test_account_status_after_payment(self):
        self._pay(self.partner, 30.0)
        status = self._call("account_status", self.ref)
        self.assertEqual(status["balance"], -30.0)
        self.assertEqual(
            status["paid_until"],
            fields.Date.to_string(
                self.invoices.sorted("invoice_date")[0].security_period_end
            ),
        )

    # ---------------------------------------------------------- register_payment
    def test_register_payment_and_duplicate(self):
        first, second = self.invoices.sorted("invoice_date")
        result = self._call("register_payment", self.ref, "45.50", "tx-1")
        self.assertFalse(result["duplicate"])
        self.assertEqual(
            result["allocations"],
            [
                {"invoice": first.name, "invoice_id": first.id, "amount": 30.0},
                {"invoice": second.name, "invoice_id": second.id, "amount": 15.5},
            ],
        )
        payment = self.env["account.payment"].browse(result["payment_id"])
        self.assertEqual(payment.amount, 45.5)
        self.assertEqual(payment.security_external_id, "api:tx-1")
        self.assertFalse(payment.memo)
        self.assertEqual(payment.security_category_id.code, "online")
        self.assertEqual(payment.create_uid, self.api_user)
        counts = self._counts()

        again = self._call("register_payment", self.ref, 45.5, "tx-1")
        self.assertEqual(again, dict(result, duplicate=True))
        self.assertEqual(self._counts(), counts)
        self.assertEqual(self.partner.security_balance, -14.5)

    def test_register_payment_date_category_and_int_amount(self):
        day = self.today - timedelta(days=3)
        result = self._call(
            "register_payment",
            self.ref,
            60,
            "tx-2",
            date=day.isoformat(),
            category="terminal",
        )
        payment = self.env["account.payment"].browse(result["payment_id"])
        self.assertEqual(payment.date, day)
        self.assertEqual(payment.security_category_id.code, "terminal")
        self.assertTrue(all(inv.payment_state == "paid" for inv in self.invoices))

    def test_register_payment_bad_input_writes_nothing(self):
        counts = self._counts()
        cases = [
            (r"Account number 9999996 was not found", ("9999996", 10, "b1")),
            (r"Invalid account number '1000018'", ("1000018", 10, "b2")),
            (r"Invalid account number 'abc'", ("abc", 10, "b3")),
            (r"Invalid amount 0: it must be positive", (self.ref, 0, "b4")),
            (r"Invalid amount -5.0: it must be positive", (self.ref, -5.0, "b5")),
            (r"Invalid amount 'ten': not a number", (self.ref, "ten", "b6")),
            (r"Invalid amount '10,50': not a number", (self.ref, "10,50", "b7")),
            (r"Invalid amount 10.001: more than 2 decimals", (self.ref, 10.001, "b8")),
            (r"Missing external_id", (self.ref, 10, "")),
            (r"Missing external_id", (self.ref, 10, "   ")),
        ]
        for pattern, args in cases:
            with self.subTest(args=args):
                self._assert_fault(pattern, "register_payment", *args)
        for pattern, kwargs in [
            (
                r"Invalid date '01/11/2026': expected an ISO date",
                {"date": "01/11/2026"},
            ),
            (r"Invalid date '2026-02-30'", {"date": "2026-02-30"}),
            (r"Invalid date .*in the future", {"date": "2999-01-01"}),
            (
                r"Unknown payment category 'bitcoin': use one of .*cash",
                {"category": "bitcoin"},
            ),
        ]:
            with self.subTest(kwargs=kwargs):
                self._assert_fault(
                    pattern, "register_payment", self.ref, 10, "b9", **kwargs
                )
        self.assertEqual(self._counts(), counts)
        self.assertEqual(self.partner.security_balance, -60.0)

    def test_reused_external_id_for_another_payment_is_refused(self):
        self._call("register_payment", self.ref, 10, "tx-3")
        counts = self._counts()
        self._assert_fault(
            r"external_id tx-3 was already used for another payment",
            "register_payment",
            self.ref,
            11,
            "tx-3",
        )
        self.assertEqual(self._counts(), counts)

    # -------------------------------------------------------------- list_debtors
    def _overdue_subscriber(self, name, days_overdue):
        partner = self._create_subscriber(name)
        invoice = self._invoice_contract(self._create_mmr_contract(partner), post=False)
        invoice.invoice_date_due = self.today - timedelta(days=days_overdue)
        invoice.action_post()
        return partner

    def test_list_debtors(self):
        self.invoices.line_ids.filtered("date_maturity").date_maturity = (
            self.today - timedelta(days=5)
        )
        late = self._overdue_subscriber("Very late", 100)
        paid = self._overdue_subscriber("Paid up", 100)
        self._pay(paid, 30.0)
        not_yet = self._overdue_subscriber("Due today", 0)

        debtors = self._call("list_debtors")
        refs = [status["account_ref"] for status in debtors]
        self.assertIn(late.security_account_ref, refs)
        self.assertIn(self.ref, refs)
        self.assertNotIn(paid.security_account_ref, refs)
        self.assertNotIn(not_yet.security_account_ref, refs)
        self.assertEqual(refs, sorted(refs))
        late_status = next(
            s for s in debtors if s["account_ref"] == late.security_account_ref
        )
        self.assertEqual(late_status["past_due"], 30.0)
        self.assertEqual(
            late_status, self._call("account_status", late.security_account_ref)
        )

        very_late = self._call("list_debtors", 90)
        self.assertEqual(
            [s["account_ref"] for s in very_late], [late.security_account_ref]
        )
        self._assert_fault(r"Invalid min_days_overdue 'x'", "list_debtors", "x")
        self._assert_fault(r"Invalid min_days_overdue -1", "list_debtors", -1)

    # -------------------------------------------------------------------- access
    def test_access_refused_to_portal_and_plain_internal_users(self):
        counts = self._counts()
        for user in (self.portal_user, self.internal_user):
            for method, args in (
                ("account_status", [self.ref]),
                ("register_payment", [self.ref, 10, "acc-1"]),
                ("list_debtors", []),
            ):
                with self.subTest(user=user.login, method=method):
                    self._assert_fault(
                        r"may not use the Security Billing API",
                        method,
                        *args,
                        user=user,
                        code=4,
                    )
        self.assertEqual(self._counts(), counts)
        public = self.env.ref("base.public_user")
        with self.assertRaises(AccessError):
            self.env[API].with_user(public).account_status(self.ref)

    def test_private_helpers_are_not_callable(self):
        self._assert_fault(
            r"Private methods .* cannot be called remotely",
            "_parse_amount",
            "10",
            code=4,
        )


@tagged("post_install", "-at_install")
class TestRegisterPaymentRace(TransactionCase):
    """Two real PostgreSQL transactions register the same external id.

    HttpCase serializes requests on one test cursor, so the race runs here on
    committed data in two cursors of the registry (not in test mode), and
    deletes what it committed afterwards.
    """

    def setUp(self):
        super().setUp()
        self.assertFalse(self.registry.in_test_mode())
        self.external_id = f"api:race-{uuid4().hex}"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].create(
                {"name": "Race subscriber", "security_is_subscriber": True}
            )
            self.partner_id = partner.id
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"force_delete": True})
            payments = env["account.payment"].search(
                [("partner_id", "=", self.partner_id)]
            )
            payments.action_draft()
            payments.unlink()
            env["security.payment.request"].search(
                [("external_id", "=", self.external_id)]
            ).unlink()
            env["res.partner"].browse(self.partner_id).unlink()

    def _register(self, name, results, pids, attempts, hold=None):
        threading.current_thread().testing = True
        with self.registry.cursor() as cr:
            pids[name] = cr._cnx.get_backend_pid()
            env = api.Environment(cr, SUPERUSER_ID, {})

            def call():
                attempts[name] = attempts.get(name, 0) + 1
                partner = env["res.partner"].browse(self.partner_id)
                result = env["account.payment"]._security_register_payment(
                    partner, 25.0, external_id=self.external_id
                )
                if hold:
                    hold()  # keep this transaction open until the other waits
                return result

            try:
                results[name] = retrying(partial(call), env)
            except Exception as exc:  # reported by the test thread
                results[name] = exc

    def _wait_for_lock(self, pid):
        """Wait until backend ``pid`` waits on a lock (the claimed key)."""
        for _attempt in range(600):
            with self.registry.cursor() as cr:
                cr.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                    [pid],
                )
                row = cr.fetchone()
            if row and row[0] == "Lock":
                return True
            time.sleep(0.05)
        return False

    def test_duplicate_external_id_race(self):
        results, pids, attempts = {}, {}, {}
        first_done, second_waits = threading.Event(), threading.Event()

        def hold():
            first_done.set()
            second_waits.wait(60)

        first = threading.Thread(
            target=self._register, args=("first", results, pids, attempts, hold)
        )
        first.start()
        self.assertTrue(first_done.wait(120), "first transaction did not run")
        second = threading.Thread(
            target=self._register, args=("second", results, pids, attempts)
        )
        second.start()
        for _attempt in range(600):
            if "second" in pids:
                break
            time.sleep(0.05)
        blocked = self._wait_for_lock(pids["second"])
        second_waits.set()
        first.join(120)
        second.join(120)
        self.assertTrue(blocked, "the second transaction never waited on the key")
        for name in ("first", "second"):
            self.assertIsInstance(results.get(name), dict, results.get(name))
        # the loser got a serialization failure and was retried
        self.assertEqual(attempts["first"], 1)
        self.assertGreaterEqual(attempts["second"], 2)
        self.assertFalse(results["first"]["duplicate"])
        self.assertTrue(results["second"]["duplicate"])
        self.assertEqual(
            results["second"]["payment_id"], results["first"]["payment_id"]
        )
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            payments = env["account.payment"].search(
                [("security_external_id", "=", self.external_id)]
            )
            self.assertEqual(len(payments), 1)
            self.assertEqual(payments.amount, 25.0)
            self.assertEqual(
                env["security.payment.request"].search_count(
                    [("external_id", "=", self.external_id)]
                ),
                1,
            )


@tagged("post_install", "-at_install")
class TestListDebtorsQueries(SecurityBillingCase):
    """list_debtors reads many subscribers in a fixed number of queries."""

    def _add_debtors(self, first, count):
        today = fields.Date.context_today(self.env.user)
        for index in range(first, first + count):
            partner = self._create_subscriber(f"Debtor {index}")
            contract = self._create_mmr_contract(partner)
            self._create_site(partner, contract, device_id=f"{0xA0000000 + index:08X}")
            invoice = self._invoice_contract(contract, post=False)
            invoice.invoice_date_due = today - timedelta(days=10)
            invoice.action_post()

    def _count_queries(self):
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        debtors = self.env[API].list_debtors()
        return self.env.cr.sql_log_count - before, len(debtors)

    def test_queries_do_not_grow_with_the_debtors(self):
        self._add_debtors(0, 2)
        few, count = self._count_queries()
        self.assertEqual(count, 2)
        self._add_debtors(2, 10)
        many, count = self._count_queries()
        self.assertEqual(count, 12)
        self.assertLessEqual(many, few + 2, f"{few} queries for 2, {many} for 12")
