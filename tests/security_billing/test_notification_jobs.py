"""Customer notices as jobs (OCA queue_job): the cron enqueues the claiming
of the daily notices (one job for the promises ending, one per id range of
MMR contracts), the claim jobs enqueue the sending, one job per id range of
notices; a job run twice claims or sends once; a transient error retries the
job."""

from unittest.mock import patch

import requests

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.addons.security_billing.models.security_notification_log import (
    CLAIM_CHUNK_SIZE,
    SEND_CHUNK_SIZE,
    SecurityNotificationLog,
)

from .dunning_common import DunningCase

CHANNEL = "root.security_billing.notices"


@tagged("post_install", "-at_install")
class TestNotificationJobs(DunningCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Log = cls.env["security.notification.log"]

    def _mails(self):
        return self.env["mail.mail"].search([("recipient_ids", "in", self.partner.ids)])

    def _sms_records(self):
        return self.env["sms.sms"].search([("partner_id", "=", self.partner.id)])

    def _claim(self, period="2025-01"):
        notice = self.Log._claim_notice(
            "past_due", self.contract, self.partner, period=period, amount=30.0
        )
        self.assertTrue(notice)
        return notice

    def _range(self, notice):
        first = notice.id // SEND_CHUNK_SIZE * SEND_CHUNK_SIZE
        return first, first + SEND_CHUNK_SIZE - 1

    def _stored_job(self, notice):
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search(
                [
                    ("model_name", "=", "security.notification.log"),
                    ("method_name", "=", "_send_job"),
                    ("state", "in", ("pending", "enqueued", "started", "done")),
                ]
            )
        )
        jobs = jobs.filtered(lambda job: tuple(job.args) == self._range(notice))
        self.assertEqual(len(jobs), 1)
        return jobs

    def _low_balance_partner(self):
        """The test subscriber with 5.00 of credit, under a 10.00 threshold."""
        self.company.security_low_balance_threshold = 10.0
        self._pay(self.partner, 25.0)
        self._mmr_invoice(self.contract, 20.0)  # 5 of credit left

    def test_cron_enqueues_the_claims_then_the_sending(self):
        self._low_balance_partner()
        with trap_jobs() as trap:
            self.Log._cron_security_notifications()
            # the cron claims nothing itself: its jobs do
            self.assertFalse(self._notices("low_balance"))
            claims = trap.enqueued_jobs
            methods = [job.method_name for job in claims]
            self.assertEqual(methods[0], "_claim_promises_job")
            self.assertEqual(claims[0].args, (self.today,))
            ranges = []
            for job in claims[1:]:
                self.assertEqual(job.method_name, "_claim_contracts_job")
                date_ref, company_ids, first, last = job.args
                self.assertEqual(date_ref, self.today)
                self.assertEqual(company_ids, sorted(self.env.companies.ids))
                self.assertEqual(first % CLAIM_CHUNK_SIZE, 0)
                self.assertEqual(last, first + CLAIM_CHUNK_SIZE - 1)
                ranges.append((first, last))
            # one job per range holding an MMR contract, ours among them
            self.assertEqual(len(ranges), len(set(ranges)))
            contracts = self.env["contract.contract"].search(
                [("security_is_mmr", "=", True)]
            )
            self.assertEqual(
                {(c.id // CLAIM_CHUNK_SIZE) * CLAIM_CHUNK_SIZE for c in contracts},
                {first for first, _last in ranges},
            )
            for job in claims:
                self.assertEqual(job.channel, CHANNEL)
                self.assertTrue(job.identity_key)
            trap.perform_enqueued_jobs()
            notice = self._notices("low_balance")
            self.assertEqual(len(notice), 1)
            self.assertEqual(notice.amount, 5.0)
            # claimed, not sent: the job it enqueued sends it
            self.assertFalse(notice.channels)
            self.assertFalse(self._mails())
            self.assertFalse(self._sms_records())
            ours = [
                job for job in trap.enqueued_jobs if job.args == self._range(notice)
            ]
            self.assertEqual(len(ours), 1)
            job = ours[0]
            self.assertEqual(job.method_name, "_send_job")
            self.assertEqual(job.channel, CHANNEL)
            self.assertTrue(job.identity_key)
            self.assertFalse(job.eta)
            trap.perform_enqueued_jobs()
        self.assertEqual(notice.channels, "email,sms")
        self.assertEqual(len(self._mails()), 1)
        self.assertEqual(len(self._sms_records()), 1)
        # the next day's jobs claim nothing new and send nothing more
        with trap_jobs() as trap:
            self.Log._cron_security_notifications()
            self.assertFalse(
                [job for job in trap.enqueued_jobs if job.method_name == "_send_job"]
            )
            trap.perform_enqueued_jobs()
            self.assertFalse(
                [job for job in trap.enqueued_jobs if job.args == self._range(notice)]
            )
        self.assertEqual(len(self._notices("low_balance")), 1)
        self.assertEqual(len(self._mails()), 1)

    def test_enqueuing_the_claims_twice_gives_the_same_jobs(self):
        first = self.Log._enqueue_claims(self.today)
        second = self.Log._enqueue_claims(self.today)
        self.assertGreaterEqual(len(first), 2)
        self.assertEqual([job.uuid for job in first], [job.uuid for job in second])
        # another day is other work
        tomorrow = self.Log._enqueue_claims(self._days(1))
        self.assertFalse({job.uuid for job in first} & {job.uuid for job in tomorrow})

    def test_claim_job_claims_its_range_once(self):
        self._low_balance_partner()
        other = self._create_subscriber("Other Olga")
        other_contract = self._create_mmr_contract(other, price=20.0)
        self._pay(other, 25.0)
        self._mmr_invoice(other_contract, 20.0)
        company_ids = self.env.companies.ids
        # a range holding only the other subscriber's contract
        result = self.Log._claim_contracts_job(
            self.today, company_ids, other_contract.id, other_contract.id
        )
        self.assertEqual(result, "1 notices claimed")
        self.assertEqual(len(self._notices("low_balance", other)), 1)
        # the test subscriber's contract is outside the range
        self.assertFalse(self._notices("low_balance"))
        # run again: nothing more
        result = self.Log._claim_contracts_job(
            self.today, company_ids, other_contract.id, other_contract.id
        )
        self.assertEqual(result, "0 notices claimed")
        self.assertEqual(len(self._notices("low_balance", other)), 1)
        # without companies: nothing
        result = self.Log._claim_contracts_job(
            self.today, [], other_contract.id, other_contract.id
        )
        self.assertEqual(result, "0 notices claimed")

    def test_enqueuing_twice_gives_one_job_per_notice(self):
        notice = self._claim()
        first = self.Log._enqueue_sending()
        second = self.Log._enqueue_sending()
        self.assertEqual([job.uuid for job in first], [job.uuid for job in second])
        stored = self._stored_job(notice)
        self.assertEqual(stored.state, "pending")
        self.assertEqual(stored.channel, CHANNEL)
        # a notice claimed meanwhile in the same id range joins the waiting job
        other = self._claim(period="2025-02")
        if self._range(other) == self._range(notice):
            self.Log._enqueue_sending()
            self.assertEqual(self._stored_job(notice), stored)

    def test_running_the_job_twice_sends_once(self):
        notice = self._claim()
        self.Log._enqueue_sending()
        stored = self._stored_job(notice)
        self._run_as_runner(Job.load(self.env, stored.uuid))
        self.assertEqual(stored.state, "done")
        self.assertEqual(notice.channels, "email,sms")
        self.assertEqual(len(self._mails()), 1)
        self.assertEqual(len(self._sms_records()), 1)
        # the same job again: nothing more is sent
        result = self.Log._send_job(*self._range(notice))
        self.assertEqual(result, "0 notices sent")
        self.assertEqual(len(self._mails()), 1)
        self.assertEqual(len(self._sms_records()), 1)
        # nor does a notice claimed twice get sent twice
        self.assertFalse(
            self.Log._claim_notice(
                "past_due", self.contract, self.partner, period="2025-01"
            )
        )

    def test_transient_error_retries_the_job(self):
        notice = self._claim()
        self.Log._enqueue_sending()
        stored = self._stored_job(notice)
        with patch.object(
            SecurityNotificationLog,
            "_queue_sms",
            autospec=True,
            side_effect=requests.exceptions.ConnectionError("gateway unreachable"),
        ):
            self._run_as_runner(Job.load(self.env, stored.uuid))
        self.assertEqual((stored.state, stored.retry), ("pending", 1))
        self.assertIn("gateway unreachable", stored.result)
        self.assertTrue(stored.eta)
        # rolled back: nothing sent, the notice waits for the retry
        self.assertFalse(notice.channels)
        self.assertFalse(self._mails())
        self._run_as_runner(Job.load(self.env, stored.uuid))
        self.assertEqual(stored.state, "done")
        self.assertEqual(notice.channels, "email,sms")
        self.assertEqual(len(self._mails()), 1)

    def test_broken_notice_is_marked_and_the_others_sent(self):
        broken = self._claim()
        good = self._claim(period="2025-02")

        def queue_email(log):
            if log == broken:
                raise ValueError("template error")
            return send_email(log)

        send_email = SecurityNotificationLog._queue_email
        with (
            mute_logger(SecurityNotificationLog.__module__),
            patch.object(
                SecurityNotificationLog,
                "_queue_email",
                autospec=True,
                side_effect=queue_email,
            ),
        ):
            self.Log._send_job(min(broken.id, good.id), max(broken.id, good.id))
        self.assertEqual(broken.channels, "error")
        self.assertFalse(broken.mail_id)
        self.assertEqual(good.channels, "email,sms")
        self.assertEqual(len(self._mails()), 1)
