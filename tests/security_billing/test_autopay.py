"""Autopay: off-session token charges, failures, retries, never twice."""

import threading
from unittest.mock import patch
from uuid import uuid4

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_demo.models.payment_transaction import (
    PaymentTransaction as DemoTransaction,
)
from odoo.addons.security_billing.models.security_autopay_attempt import (
    SecurityAutopayAttempt,
)

from ..race import CommittedRaceCase
from .dunning_common import DunningCase


@tagged("post_install", "-at_install")
class TestAutopay(DunningCase):
    def _autopay(self, days=0):
        return self.env["security.autopay.attempt"]._run_autopay(
            date_ref=self._days(days)
        )

    def _attempts(self, invoice):
        return self.env["security.autopay.attempt"].search(
            [("invoice_id", "=", invoice.id)], order="attempt_no"
        )

    def _txs(self, invoice):
        return self.env["payment.transaction"].search(
            [("invoice_ids", "in", invoice.ids)]
        )

    def _gateway_down(self):
        """The provider cannot be reached: its request raises, nothing charged."""
        return patch.object(
            DemoTransaction,
            "_send_payment_request",
            autospec=True,
            side_effect=ValidationError("Demo: gateway timeout"),
        )

    def _save_method(self, state="done", partner=None):
        partner = partner or self.partner
        token = self._create_token(partner, state)
        partner._security_set_autopay_token(token)
        return token

    # ------------------------------------------------------------------- done
    def test_done_charge_pays_invoice_through_core_allocation(self):
        self._save_method("done")
        self.assertTrue(self.partner.security_autopay_active)
        self.assertTrue(self.contract.security_autopay_active)
        invoice = self._mmr_invoice(self.contract, 30.0)
        attempts = self._autopay()
        self.assertEqual(len(attempts), 1)
        self.assertEqual(attempts.state, "done")
        tx = attempts.transaction_id
        self.assertEqual(tx.operation, "offline")
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.invoice_ids, invoice)
        payment = tx.payment_id
        self.assertIn(payment.state, ("in_process", "paid"))
        self.assertEqual(payment.security_category_id.code, "autopay")
        self.assertEqual(payment.security_external_id, f"online:demo:{tx.reference}")
        self.assertTrue(tx.provider_reference)
        self.assertEqual(payment.memo, f"{tx.reference} - {tx.provider_reference}")
        self.assertEqual(payment.payment_transaction_id, tx)
        self.assertEqual(invoice.payment_state, "paid")
        # the next runs charge nothing more
        self.assertFalse(self._autopay())
        self.assertFalse(self._autopay(10))
        self.assertEqual(len(self._txs(invoice)), 1)

    def test_charge_allocates_oldest_first(self):
        older = self._mmr_invoice(self.contract, 30.0, days_ago=40)
        older_token = self._create_token(self.partner, "error")
        self.partner._security_set_autopay_token(older_token)
        self._autopay()
        self.assertEqual(self._attempts(older).state, "stopped")
        # the customer replaces the method: the old debt is charged again
        self._save_method("done")
        newer = self._mmr_invoice(self.contract, 30.0)
        self._autopay()
        self.assertEqual(older.payment_state, "paid")
        self.assertEqual(newer.payment_state, "paid")
        self.assertEqual(self._attempts(older).mapped("state"), ["stopped", "done"])

    def test_due_date_trigger(self):
        self.company.security_autopay_trigger = "due"
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0, post=False)
        invoice.invoice_date_due = self._days(10)
        invoice.action_post()
        self.assertFalse(self._autopay(9))
        self.assertEqual(self._autopay(10).state, "done")
        self.assertEqual(invoice.payment_state, "paid")

    def test_contract_method_overrides_subscriber_method(self):
        self._save_method("error")
        good = self._create_token(self.partner, "done")
        self.contract.security_autopay_token_id = good
        invoice = self._mmr_invoice(self.contract, 30.0)
        attempt = self._autopay()
        self.assertEqual(attempt.token_id, good)
        self.assertEqual(invoice.payment_state, "paid")

    def test_no_method_no_charge(self):
        self._mmr_invoice(self.contract, 30.0)
        self.assertFalse(self._autopay())
        self.assertFalse(self.contract.security_autopay_active)

    # ---------------------------------------------------------------- pending
    def test_pending_charge_waits_then_completes(self):
        self._save_method("pending")
        invoice = self._mmr_invoice(self.contract, 30.0)
        attempt = self._autopay()
        self.assertEqual(attempt.state, "pending")
        self.assertEqual(invoice.payment_state, "not_paid")
        # while pending, no second transaction, whatever the date
        self._autopay(3)
        self.assertEqual(len(self._txs(invoice)), 1)
        # the provider confirms later; Odoo's post-processing finishes it
        tx = attempt.transaction_id
        tx.sudo()._set_done()
        tx.sudo()._post_process()
        self.assertEqual(attempt.state, "done")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(tx.payment_id.security_category_id.code, "autopay")

    # ---------------------------------------------------------- hard failures
    def test_error_is_a_hard_failure(self):
        self._save_method("error")
        invoice = self._mmr_invoice(self.contract, 30.0)
        attempt = self._autopay()
        self.assertEqual(attempt.state, "stopped")
        self.assertFalse(attempt.next_retry_date)
        self.assertTrue(attempt.error)
        for day in (1, 3, 7, 30):
            self.assertFalse(self._autopay(day))
        self.assertEqual(len(self._txs(invoice)), 1)
        notice = self._notices("autopay_failed")
        self.assertEqual(len(notice), 1)
        self.assertEqual(notice.channels, "email,sms")
        self.assertIn("/my/billing", notice.mail_id.body_html)
        self.assertIn("/my/billing", notice.sms_id.body)
        # a new method restarts the charges
        self._save_method("done")
        self.assertEqual(self._autopay(31).attempt_no, 2)
        self.assertEqual(invoice.payment_state, "paid")

    def test_cancel_is_a_hard_failure(self):
        self._save_method("cancel")
        invoice = self._mmr_invoice(self.contract, 30.0)
        self.assertEqual(self._autopay().state, "stopped")
        self.assertFalse(self._autopay(1))
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(len(self._notices("autopay_failed")), 1)

    # ------------------------------------------------------ soft failures
    def test_retry_schedule_on_soft_failures(self):
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        with self._gateway_down():
            first = self._autopay()
            self.assertEqual(first.state, "failed")
            self.assertIn("gateway timeout", first.error)
            self.assertEqual(first.next_retry_date, self._days(1))
            self.assertFalse(self._autopay(0), "not before the retry date")
            self.assertEqual(self._autopay(1).next_retry_date, self._days(3))
            self.assertEqual(self._autopay(3).next_retry_date, self._days(7))
            last = self._autopay(7)
        self.assertEqual(last.state, "stopped", "schedule 1,3,7 exhausted")
        self.assertEqual(last.attempt_no, 4)
        self.assertFalse(self._autopay(20))
        self.assertEqual(len(self._notices("autopay_failed")), 4)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_soft_failure_then_success(self):
        self.company.security_autopay_retry_days = "2"
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        with self._gateway_down():
            self.assertEqual(self._autopay().next_retry_date, self._days(2))
        self.assertEqual(self._autopay(2).state, "done")
        self.assertEqual(len(self._txs(invoice)), 2)
        self.assertEqual(invoice.payment_state, "paid")

    def test_vanished_method_stops_retries(self):
        token = self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        with self._gateway_down():
            self.assertEqual(self._autopay().state, "failed")
        token.action_archive()  # a manager removes it
        self.assertFalse(self.partner.security_autopay_active)
        self.assertFalse(self._autopay(1))
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_retry_schedule_is_validated(self):
        for bad in ("1,x", "3,1", "0,2"):
            with self.assertRaises(Exception):
                with self.env.cr.savepoint():
                    self.company.security_autopay_retry_days = bad
                    self.company.flush_recordset()
        self.company.security_autopay_retry_days = "1, 2, 8"
        self.assertEqual(self.company._security_autopay_retry_schedule(), [1, 2, 8])

    # ------------------------------------------------------- never twice
    def test_crash_after_provider_accepted_charges_once(self):
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        with (
            patch.object(
                SecurityAutopayAttempt,
                "_finish",
                side_effect=RuntimeError("worker killed"),
            ),
            mute_logger("odoo.addons.security_billing.models.security_autopay_attempt"),
        ):
            attempt = self._autopay()
        self.assertEqual(attempt.transaction_id.state, "done", "provider charged")
        self.assertEqual(attempt.state, "pending")
        self.assertFalse(attempt.transaction_id.payment_id)
        self.assertEqual(invoice.payment_state, "not_paid")
        # the rerun finds the done transaction and only post-processes it
        rerun = self._autopay()
        self.assertEqual(rerun, attempt)
        self.assertEqual(attempt.state, "done")
        self.assertEqual(len(self._txs(invoice)), 1)
        payments = self.env["account.payment"].search(
            [("partner_id", "=", self.partner.id)]
        )
        self.assertEqual(len(payments), 1)
        self.assertEqual(payments.amount, 30.0)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertFalse(self._autopay(1))

    def test_post_processing_twice_registers_one_payment(self):
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        tx = self._autopay().transaction_id
        tx.sudo().is_post_processed = False
        tx.sudo()._post_process()  # e.g. Odoo's own post-processing cron
        self.assertEqual(
            self.env["account.payment"].search_count(
                [("payment_transaction_id", "=", tx.id)]
            ),
            1,
        )
        self.assertEqual(invoice.payment_state, "paid")

    def test_attempt_keys_are_unique(self):
        self._save_method("error")
        invoice = self._mmr_invoice(self.contract, 30.0)
        attempt = self._autopay()
        vals = {
            "name": "OTHER-REF",
            "invoice_id": invoice.id,
            "partner_id": self.partner.id,
            "company_id": self.company.id,
            "attempt_no": attempt.attempt_no,
            "currency_id": invoice.currency_id.id,
            "date": self.today,
        }
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.env["security.autopay.attempt"].sudo().create(vals)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.env["security.autopay.attempt"].sudo().create(
                    dict(vals, name=attempt.name, attempt_no=9)
                )

    # ------------------------------------------------- Alarm.com customer rules
    def _portal_user(self):
        users = self.env["res.users"].search([("login", "=", "alice-portal")])
        return users or self.env["res.users"].create(
            {
                "name": "Alice portal",
                "login": "alice-portal",
                "partner_id": self.partner.id,
                "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
            }
        )

    def test_customer_can_replace_but_not_remove_the_method(self):
        token = self._save_method("done")
        portal_partner = self.partner.with_user(self._portal_user())
        with self.assertRaises(UserError):
            portal_partner._security_remove_autopay_token()
        with self.assertRaises(UserError):
            portal_partner._security_set_autopay_enabled(False)
        with self.assertRaises(UserError):
            token.with_user(self._portal_user()).sudo().write({"active": False})
        self.assertTrue(token.active)
        new_token = self._create_token(self.partner, "done")
        result = portal_partner._security_set_autopay_token(new_token)
        self.assertEqual(
            result, {"ok": True, "token_id": new_token.id, "autopay": True}
        )
        self.assertEqual(self.partner.security_autopay_token_id, new_token)

    def test_foreign_token_refused(self):
        other = self._create_subscriber("Bob")
        token = self._create_token(other, "done")
        with self.assertRaises(UserError):
            self.partner._security_set_autopay_token(token)
        self.assertFalse(self.partner.security_autopay_token_id)

    def test_optional_autopay_when_company_allows(self):
        self.company.security_autopay_mandatory = False
        self._save_method("done")
        portal_partner = self.partner.with_user(self._portal_user())
        portal_partner._security_set_autopay_enabled(False)
        self.assertFalse(self.partner.security_autopay_active)
        self._mmr_invoice(self.contract, 30.0)
        self.assertFalse(self._autopay())

    def test_api_autopay_flag(self):
        api = self.env["security.billing.api"]
        self.assertFalse(api._api_autopay(self.partner))
        self._save_method("done")
        self.assertTrue(api._api_autopay(self.partner))


@tagged("post_install", "-at_install")
class TestAutopayRace(CommittedRaceCase):
    """Two autopay workers charge the same due invoice in real transactions.

    The test cursor serializes everything, so the fixture (subscriber, MMR
    contract, posted invoice, saved demo method) is committed through
    registry cursors, each worker runs the cron's code
    (``_run_autopay(commit=True)``) in its own cursor and thread,
    and everything committed is deleted afterwards. The run only looks at
    this test's invoice (its real candidate query, filtered), so other data
    of the database is never charged.

    What makes it single: the worker that charges holds the invoice row
    (``FOR UPDATE SKIP LOCKED``) from the new attempt until its commit; the
    other one skips the invoice at once. Without ``SKIP LOCKED`` the second
    worker would wait on the row lock; without any lock it would not see the
    uncommitted attempt, number its own attempt 1 as well and wait on the
    unique (invoice, attempt_no) / reference index, then fail; without those
    it would create a second transaction and charge the card twice. The
    first test holds the first worker inside the provider call and checks
    that the second finished without waiting on any lock and created
    nothing, then counts attempts, transactions and payments.
    """

    LOGGER = "odoo.addons.security_billing.models.security_autopay_attempt"

    def _create_fixture(self):
        tag = uuid4().hex[:8]
        with self.registry.cursor() as cr:
            env = self._env(cr)
            company = env.ref("base.main_company")
            provider = env["payment.provider"].search(
                [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
            )
            self.provider_id, self.provider_state = provider.id, provider.state
            if provider.state != "test":
                provider.state = "test"
            product = self._create_mmr_product(env, tag)
            partner = env["res.partner"].create(
                {
                    "name": f"Race autopay {tag}",
                    "security_is_subscriber": True,
                    "company_id": company.id,
                }
            )
            contract = env["contract.contract"].create(
                self._mmr_contract_vals(f"MMR race {tag}", partner, product)
            )
            token = env["payment.token"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": env.ref("payment_demo.payment_method_demo").id,
                    "payment_details": "4242",
                    "partner_id": partner.id,
                    "provider_ref": f"demo-token-race-{tag}",
                    "demo_simulated_state": "done",
                }
            )
            partner._security_set_autopay_token(token)
            invoice = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "invoice_date": self.today,
                    "invoice_date_due": self.today,
                    "security_contract_id": contract.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "quantity": 1,
                                "price_unit": 30.0,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
            invoice.action_post()
            self.assertTrue(invoice.security_is_mmr)
            self.product_id, self.partner_id = product.id, partner.id
            self.contract_id, self.token_id = contract.id, token.id
            self.invoice_id = invoice.id

    def _delete_fixture(self):
        with self.registry.cursor() as cr:
            env = self._env(cr, force_delete=True)
            partner = env["res.partner"].browse(self.partner_id)
            invoice = env["account.move"].browse(self.invoice_id)
            attempts = env["security.autopay.attempt"].search(
                [("invoice_id", "=", invoice.id)]
            )
            txs = env["payment.transaction"].search([("partner_id", "=", partner.id)])
            payments = env["account.payment"].search([("partner_id", "=", partner.id)])
            external_ids = [f"online:demo:{ref}" for ref in txs.mapped("reference")]
            attempts.unlink()
            payments.action_draft()
            payments.unlink()
            txs.unlink()
            env["security.payment.request"].search(
                [("external_id", "in", external_ids)]
            ).unlink()
            env["security.notification.log"].search(
                [("partner_id", "=", partner.id)]
            ).unlink()
            invoice.button_draft()
            invoice.unlink()
            partner.write({"security_autopay_token_id": False})
            env["payment.token"].browse(self.token_id).unlink()
            env["contract.contract"].browse(self.contract_id).unlink()
            env["product.product"].browse(self.product_id).unlink()
            partner.unlink()
            provider = env["payment.provider"].browse(self.provider_id)
            if provider.state != self.provider_state:
                provider.state = self.provider_state

    # ---------------------------------------------------------------- workers
    def _run_worker(self, name, out, hold=None):
        """One cron worker: the autopay run in its own committed transaction."""
        threading.current_thread().testing = True  # queue mails, send none
        threading.current_thread().worker = name
        try:
            with self.registry.cursor() as cr:
                out[name, "pid"] = cr._cnx.get_backend_pid()
                env = self._env(cr)
                attempts = env["security.autopay.attempt"]._run_autopay(
                    date_ref=self.today, commit=True
                )
                out[name] = attempts.ids
        except Exception as exc:  # reported by the test thread
            out[name] = exc

    def _patched_run(self, out, hold_worker=None, entered=None, release=None):
        """Only this test's invoice; optionally hold one worker at the provider.

        Records each worker's candidates (the real query, filtered).
        """
        candidates = SecurityAutopayAttempt._candidate_invoice_ids
        send = DemoTransaction._send_payment_request
        invoice_id = self.invoice_id

        def only_ours(model, date_ref):
            ids = [i for i in candidates(model, date_ref) if i == invoice_id]
            out[threading.current_thread().worker, "candidates"] = ids
            return ids

        def held_send(tx):
            if getattr(threading.current_thread(), "worker", None) == hold_worker:
                entered.set()  # attempt and transaction created, row locked
                release.wait(120)
            return send(tx)

        return (
            patch.object(
                SecurityAutopayAttempt,
                "_candidate_invoice_ids",
                autospec=True,
                side_effect=only_ours,
            ),
            patch.object(
                DemoTransaction,
                "_send_payment_request",
                autospec=True,
                side_effect=held_send,
            ),
        )

    def _assert_charged_once(self, out, workers):
        for name in workers:
            self.assertIsInstance(out.get(name), list, out.get(name))
            self.assertEqual(out[name, "candidates"], [self.invoice_id], name)
        self.assertEqual(
            sorted(len(out[name]) for name in workers), [0, 1], "one worker charged"
        )
        with self.registry.cursor() as cr:
            env = self._env(cr)
            invoice = env["account.move"].browse(self.invoice_id)
            attempts = env["security.autopay.attempt"].search(
                [("invoice_id", "=", invoice.id)]
            )
            self.assertEqual(len(attempts), 1)
            self.assertEqual(attempts.ids, out[workers[0]] or out[workers[1]])
            self.assertEqual(attempts.attempt_no, 1)
            self.assertEqual(attempts.state, "done")
            txs = env["payment.transaction"].search(
                [("invoice_ids", "in", invoice.ids)]
            )
            self.assertEqual(txs, attempts.transaction_id)
            self.assertEqual(txs.state, "done")
            payments = env["account.payment"].search(
                [("partner_id", "=", self.partner_id)]
            )
            self.assertEqual(len(payments), 1)
            self.assertEqual(payments.amount, 30.0)
            self.assertEqual(payments.payment_transaction_id, txs)
            self.assertEqual(invoice.payment_state, "paid")
            partner = env["res.partner"].browse(self.partner_id)
            self.assertEqual(partner.security_balance, 0.0)

    # ------------------------------------------------------------------ tests
    def test_second_worker_skips_the_invoice_being_charged(self):
        out = {}
        entered, release = threading.Event(), threading.Event()
        first_patch, send_patch = self._patched_run(out, "first", entered, release)
        with first_patch, send_patch:
            first = threading.Thread(target=self._run_worker, args=("first", out))
            # the second worker either finishes or waits on a lock of the
            # first one (no timing: poll until one of the two happens)
            waited, second_done_while_first_held = self._race_against_held(
                first,
                entered,
                release,
                lambda: threading.Thread(target=self._run_worker, args=("second", out)),
                out,
                "second",
            )
        self.assertFalse(waited, "the second worker waited on the first one's lock")
        self.assertTrue(second_done_while_first_held)
        self.assertEqual(out["second"], [], "the second worker created nothing")
        self.assertEqual(len(out["first"]), 1)
        self._assert_charged_once(out, ("first", "second"))

    def test_two_workers_started_together_charge_once(self):
        out = {}
        barrier = threading.Barrier(2)

        def worker(name):
            barrier.wait(60)
            self._run_worker(name, out)

        candidates_patch, send_patch = self._patched_run(out)
        # the loser may get a serialization failure, logged by the run
        with candidates_patch, send_patch, mute_logger(self.LOGGER):
            threads = [threading.Thread(target=worker, args=(name,)) for name in "ab"]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
        self._assert_charged_once(out, ("a", "b"))
