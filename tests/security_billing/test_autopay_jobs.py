"""Autopay as jobs (OCA queue_job): the cron only enqueues one job per
charge, keyed by the attempt's reference; a job run twice charges once; a
transient error retries the job, a declined card does not."""

from unittest.mock import patch

import requests

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.payment_demo.models.payment_transaction import (
    PaymentTransaction as DemoTransaction,
)
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs

from .dunning_common import DunningCase

CHANNEL = "root.security_billing.autopay"


@tagged("post_install", "-at_install")
class TestAutopayJobs(DunningCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Attempt = cls.env["security.autopay.attempt"]

    def _save_method(self, state="done"):
        token = self._create_token(self.partner, state)
        self.partner._security_set_autopay_token(token)
        return token

    def _key(self, invoice, attempt_no=1):
        return f"security.autopay.attempt:AUTOPAY-{invoice.id}-{attempt_no}"

    def _stored_jobs(self, invoice, attempt_no=1):
        return (
            self.env["queue.job"]
            .sudo()
            .search([("identity_key", "=", self._key(invoice, attempt_no))])
        )

    def _attempts(self, invoice):
        return self.Attempt.search([("invoice_id", "=", invoice.id)])

    def _txs(self, invoice):
        return self.env["payment.transaction"].search(
            [("invoice_ids", "in", invoice.ids)]
        )

    def _enqueue_ours(self, invoice):
        """Enqueue the due charges; the stored job of ``invoice``'s charge."""
        self.Attempt._enqueue_autopay(self.today)
        jobs = self._stored_jobs(invoice)
        self.assertEqual(len(jobs), 1)
        return Job.load(self.env, jobs.uuid)

    def test_cron_only_enqueues_one_job_per_charge(self):
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        with trap_jobs() as trap:
            self.Attempt._cron_security_autopay()
            ours = [job for job in trap.enqueued_jobs if job.args[0] == invoice.id]
            self.assertEqual(len(ours), 1)
            job = ours[0]
            self.assertEqual(job.method_name, "_charge_job")
            self.assertEqual(job.args, (invoice.id, 1, self.today))
            self.assertEqual(job.channel, CHANNEL)
            self.assertEqual(job.identity_key, self._key(invoice))
            self.assertFalse(job.eta)
            self.assertEqual(job.recordset.env.company, invoice.company_id)
            # the cron charged nothing itself
            self.assertFalse(self._attempts(invoice))
            self.assertFalse(self._txs(invoice))
            self.assertEqual(invoice.payment_state, "not_paid")
            trap.perform_enqueued_jobs()
        attempt = self._attempts(invoice)
        self.assertEqual(
            (attempt.name, attempt.state), (f"AUTOPAY-{invoice.id}-1", "done")
        )
        self.assertEqual(invoice.payment_state, "paid")

    def test_enqueuing_twice_gives_one_job_per_charge(self):
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        first = self.Attempt._enqueue_autopay(self.today)
        second = self.Attempt._enqueue_autopay(self.today)
        self.assertEqual(len(first), len(second))
        self.assertEqual([job.uuid for job in first], [job.uuid for job in second])
        self.assertEqual(len(self._stored_jobs(invoice)), 1)
        self.assertEqual(self._stored_jobs(invoice).state, "pending")

    def test_running_the_job_twice_charges_once(self):
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        job = self._enqueue_ours(invoice)
        self._run_as_runner(job)
        self.assertEqual(job.state, "done")
        attempt = self._attempts(invoice)
        self.assertEqual(attempt.state, "done")
        self.assertEqual(invoice.payment_state, "paid")
        # the same job again (requeued by hand, replayed): nothing more
        self.assertEqual(
            self.Attempt._charge_job(invoice.id, 1, self.today),
            "Nothing to charge.",
        )
        self.assertEqual(self._attempts(invoice), attempt)
        self.assertEqual(len(self._txs(invoice)), 1)
        self.assertEqual(len(attempt.transaction_id.payment_id), 1)
        # and the next cron enqueues nothing for it
        self.Attempt._enqueue_autopay(self.today)
        self.assertFalse(self._stored_jobs(invoice, 2))
        self.assertEqual(len(self._stored_jobs(invoice)), 1)

    def test_job_enqueued_again_while_running_charges_once(self):
        """A started job is not a waiting one: a second cron enqueues a
        second job for the same charge; the invoice lock and the attempt
        number keep it to one charge."""
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        first = self._enqueue_ours(invoice)
        first.set_started()
        first.store()
        self.Attempt._enqueue_autopay(self.today)
        jobs = self._stored_jobs(invoice)
        self.assertEqual(len(jobs), 2)
        second = Job.load(
            self.env, (jobs.filtered(lambda j: j.uuid != first.uuid)).uuid
        )
        first.perform()
        self._run_as_runner(second)
        self.assertEqual(second.state, "done")
        self.assertEqual(second.result, "Nothing to charge.")
        self.assertEqual(len(self._attempts(invoice)), 1)
        self.assertEqual(len(self._txs(invoice)), 1)
        self.assertEqual(invoice.payment_state, "paid")

    def test_transient_error_retries_the_job(self):
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        job = self._enqueue_ours(invoice)
        with patch.object(
            DemoTransaction,
            "_send_payment_request",
            autospec=True,
            side_effect=requests.exceptions.ConnectionError("gateway unreachable"),
        ):
            self._run_as_runner(job)
        stored = self._stored_jobs(invoice)
        self.assertEqual(stored.state, "pending")
        self.assertEqual(stored.retry, 1)
        self.assertIn("gateway unreachable", stored.result)
        self.assertTrue(stored.eta)
        # nothing was recorded: no attempt, no transaction, no notice
        self.assertFalse(self._attempts(invoice))
        self.assertFalse(self._txs(invoice))
        self.assertFalse(self._notices("autopay_failed"))
        # the retry charges, with the same reference
        job = Job.load(self.env, stored.uuid)
        self._run_as_runner(job)
        self.assertEqual(stored.state, "done")
        attempt = self._attempts(invoice)
        self.assertEqual(
            (attempt.name, attempt.state), (f"AUTOPAY-{invoice.id}-1", "done")
        )
        self.assertEqual(invoice.payment_state, "paid")

    def test_declined_card_fails_the_attempt_not_the_job(self):
        self._save_method("error")
        invoice = self._mmr_invoice(self.contract, 30.0)
        job = self._enqueue_ours(invoice)
        self._run_as_runner(job)
        stored = self._stored_jobs(invoice)
        self.assertEqual(stored.state, "done")
        self.assertIn("Failed", stored.result)
        attempt = self._attempts(invoice)
        self.assertEqual(attempt.state, "stopped")
        self.assertFalse(attempt.next_retry_date)
        self.assertEqual(len(self._notices("autopay_failed")), 1)
        self.assertEqual(invoice.payment_state, "not_paid")
        # the next cron has no charge to make for it
        self.Attempt._enqueue_autopay(self.today)
        self.assertFalse(self._stored_jobs(invoice, 2))

    def test_provider_refusal_schedules_the_next_attempt(self):
        """A provider refusing to try (a business error) is a failed attempt
        retried on the company's schedule, as before, with the job done."""
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        job = self._enqueue_ours(invoice)
        with patch.object(
            DemoTransaction,
            "_send_payment_request",
            autospec=True,
            side_effect=ValidationError("Demo: provider disabled"),
        ):
            self._run_as_runner(job)
        self.assertEqual(self._stored_jobs(invoice).state, "done")
        attempt = self._attempts(invoice)
        self.assertEqual(attempt.state, "failed")
        self.assertTrue(attempt.next_retry_date > self.today)
