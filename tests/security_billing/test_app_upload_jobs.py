"""App status uploads as jobs (OCA queue_job): the cron only enqueues one
job per queued export, keyed by its connector and export; a transient
failure retries the job, a refusal is recorded at once.

Uploads go to a real HTTP server on 127.0.0.1 started by the test.
"""

import socket
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs

from ..common import SecurityBillingCase
from .test_app_export import RecordingServer

CHANNEL = "root.security_billing.apps"


@tagged("post_install", "-at_install")
class TestAppUploadJobs(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the cron runs every due connector and its queued exports: only
        # this test's (not the demo's)
        cls.env["security.app.connector"].sudo().search([]).active = False
        cls.env["security.app.export.log"].sudo().search(
            [("state", "=", "queued")]
        ).unlink()
        partner = cls._create_subscriber("Upload Alpha")
        contract = cls._create_mmr_contract(partner, price=30.0)
        cls._invoice_contract(contract)
        cls._create_site(partner, contract, device_id="0000AB01")
        cls.connector = cls.env["security.app.connector"].create(
            {
                "name": "Ajax jobs",
                "vendor": "ajax",
                "upload_url": "http://127.0.0.1:9/unused",
                "auth_type": "none",
                "retry_count": 2,
                "retry_backoff": 3.0,
                "connect_timeout": 2.0,
                "read_timeout": 5.0,
            }
        )
        cls.Log = cls.env["security.app.export.log"]
        cls.Connector = cls.env["security.app.connector"]

    def _serve(self, script):
        server = RecordingServer(script).start()
        self.addCleanup(server.stop)
        self.connector.upload_url = server.url
        return server

    def _due(self):
        self.connector.next_export_at = fields.Datetime.now() - timedelta(minutes=1)

    def _key(self, log):
        return f"security.app.connector:{self.connector.id}:export:{log.id}"

    def _stored_jobs(self, log):
        return (
            self.env["queue.job"].sudo().search([("identity_key", "=", self._key(log))])
        )

    def _queue_one(self):
        """The cron's export of the connector and its stored job."""
        self._due()
        log = self.Connector._cron_export_app_status()
        self.assertEqual(len(log), 1)
        jobs = self._stored_jobs(log)
        self.assertEqual(len(jobs), 1)
        return log, Job.load(self.env, jobs.uuid)

    @staticmethod
    def _closed_port_url():
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"http://127.0.0.1:{port}/upload"

    # ------------------------------------------------------------- enqueuing
    def test_cron_only_enqueues_one_job_per_export(self):
        server = self._serve([(200, "ok", 0)])
        self._due()
        with trap_jobs() as trap:
            log = self.Connector._cron_export_app_status()
            self.assertEqual((log.state, log.trigger), ("queued", "cron"))
            self.assertEqual(len(trap.enqueued_jobs), 1)
            job = trap.enqueued_jobs[0]
            self.assertEqual(job.method_name, "_upload_job")
            self.assertEqual(job.recordset, log)
            self.assertEqual(job.channel, CHANNEL)
            self.assertEqual(job.identity_key, self._key(log))
            self.assertEqual(job.max_retries, 3)
            self.assertFalse(server.requests, "the cron uploads nothing itself")
            self.assertFalse(log.attachment_id)
            trap.perform_enqueued_jobs()
        self.assertEqual(log.state, "done")
        self.assertEqual((log.attempts, log.http_status), (1, 200))
        self.assertEqual(len(server.requests), 1)

    def test_enqueuing_twice_gives_one_job(self):
        self._due()
        log = self.Connector._cron_export_app_status()
        first = log._enqueue_uploads()
        second = log._enqueue_uploads()
        self.assertEqual([job.uuid for job in first], [job.uuid for job in second])
        # the next cron run enqueues nothing more for it
        self.assertFalse(self.Connector._cron_export_app_status())
        self.assertEqual(len(self._stored_jobs(log)), 1)
        self.assertEqual(self._stored_jobs(log).state, "pending")

    def test_job_run_twice_uploads_once(self):
        server = self._serve([(200, "ok", 0)])
        log, job = self._queue_one()
        self.assertIsNone(self._run_as_runner(job))
        self.assertEqual(log.state, "done")
        again = Job.load(self.env, job.uuid)
        self.assertIsNone(self._run_as_runner(again))
        self.assertIn("Nothing to upload", again.result)
        self.assertEqual(len(server.requests), 1)
        self.assertEqual(log.state, "done")

    # --------------------------------------------------------------- failures
    def test_http_503_is_retried_then_uploaded(self):
        server = self._serve([(503, "busy", 0), (200, "accepted", 0)])
        log, job = self._queue_one()
        error = self._run_as_runner(job)
        self.assertIsInstance(error, RetryableJobError)
        self.assertEqual(error.seconds, 3)  # the connector's back-off
        self.assertIn("503", str(error))
        stored = self._stored_jobs(log)
        self.assertEqual((stored.state, stored.retry), ("pending", 1))
        # the failed try was rolled back: the export still waits
        self.assertEqual(log.state, "queued")
        self.assertFalse(log.attachment_id)
        self.assertEqual(self.connector.last_state, "queued")
        self.assertIsNone(self._run_as_runner(Job.load(self.env, stored.uuid)))
        self.assertEqual(stored.state, "done")
        self.assertEqual(log.state, "done")
        self.assertEqual((log.attempts, log.http_status), (2, 200))
        self.assertEqual(log.response_body, "accepted")
        self.assertFalse(log.error)
        self.assertEqual(log.record_count, 1)
        self.assertTrue(log.attachment_id)
        self.assertEqual(len(server.requests), 2)
        self.connector.invalidate_recordset(["last_state"])
        self.assertEqual(
            (self.connector.log_count, self.connector.last_state), (1, "done")
        )

    def test_connection_refused_is_retried_then_recorded_on_last_try(self):
        self.connector.upload_url = self._closed_port_url()
        log, job = self._queue_one()
        for attempt in (1, 2):
            error = self._run_as_runner(job)
            self.assertIsInstance(error, RetryableJobError, attempt)
            self.assertEqual(error.seconds, 3 * 2 ** (attempt - 1))
            self.assertEqual(log.state, "queued")
            job = Job.load(self.env, job.uuid)
        # the third and last try (retry_count 2) records the failure
        self.assertIsNone(self._run_as_runner(job))
        self.assertEqual(self._stored_jobs(log).state, "done")
        self.assertEqual(log.state, "failed")
        self.assertEqual((log.attempts, log.http_status), (3, 0))
        self.assertIn("Connection error", log.error)
        self.assertEqual(self.connector.last_state, "failed")

    def test_http_400_fails_at_once_without_retry(self):
        server = self._serve([(400, "bad file", 0), (200, "ok", 0)])
        log, job = self._queue_one()
        self.assertIsNone(self._run_as_runner(job))
        stored = self._stored_jobs(log)
        self.assertEqual((stored.state, stored.retry), ("done", 1))
        self.assertEqual(log.state, "failed")
        self.assertEqual((log.attempts, log.http_status), (1, 400))
        self.assertIn("400", log.error)
        self.assertEqual(log.response_body, "bad file")
        self.assertTrue(log.attachment_id, "the file is kept even when refused")
        self.assertEqual(len(server.requests), 1)
        self.assertEqual(
            (self.connector.log_count, self.connector.last_state), (1, "failed")
        )
        # the connector is free again: its next due export gets a new job
        self._due()
        self.assertEqual(len(self.Connector._cron_export_app_status()), 1)

    def test_changes_only_connector_remembers_after_job(self):
        self.connector.write({"vendor": "webhook", "site_vendor": "ajax"})
        self.connector.export_mode = "changes"
        self._serve([(200, "ok", 0)])
        log, job = self._queue_one()
        self._run_as_runner(job)
        self.assertEqual((log.state, log.record_count), ("done", 1))
        self.assertTrue(self.connector.sudo().sync_state)
        log, job = self._queue_one()
        self._run_as_runner(job)
        self.assertEqual((log.state, log.record_count), ("empty", 0))

    def test_job_of_a_deleted_export_uploads_nothing(self):
        server = self._serve([(200, "ok", 0)])
        log, job = self._queue_one()
        log.connector_id.unlink()  # its exports go with it
        self.assertIsNone(self._run_as_runner(job))
        self.assertIn("Nothing to upload", job.result)
        self.assertFalse(server.requests)
