"""Autopay: off-session token charges, failures, retries, never twice."""

from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_demo.models.payment_transaction import (
    PaymentTransaction as DemoTransaction,
)
from odoo.addons.security_billing.models.security_autopay_attempt import (
    SecurityAutopayAttempt,
)

from .dunning_common import DunningCase


@tagged("post_install", "-at_install")
class TestAutopay(DunningCase):
    def _autopay(self, days=0):
        return self.env["security.autopay.attempt"]._security_run_autopay(
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
                "_security_finish",
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
        self.assertFalse(api._security_api_autopay(self.partner))
        self._save_method("done")
        self.assertTrue(api._security_api_autopay(self.partner))
