"""The upload of a queued app status export as a background job (OCA
queue_job): one job per export, keyed by its connector and export, one HTTP
attempt per run, retried by the job runner with back-off."""

import time

import requests

from odoo import api, models

from odoo.addons.queue_job.exception import RetryableJobError

from ..tools.jobs import is_transient_error


class SecurityAppExportLog(models.Model):
    # one concern per file: the export log is split on purpose
    _inherit = "security.app.export.log"  # pylint: disable=consider-merging-classes-inherited

    # ----------------------------------------------------------------- enqueue
    def _enqueue_uploads(self):
        """Enqueue one upload job per queued export of ``self``; upload
        nothing here.

        The job of an export has the identity key of its connector and
        export (``_upload_identity_key``): enqueuing it again while
        it waits (two crons, two servers) returns the waiting job. The job
        tries the upload at most ``retry_count + 1`` times.

        :return: the jobs (``queue_job.job.Job``), one per queued export
        """
        jobs = []
        for log in self.sudo().filtered(lambda log: log.state == "queued"):
            connector = log.connector_id
            jobs.append(
                log.with_company(log.company_id)
                .with_delay(
                    description=self.env._(
                        "App status upload %(connector)s, export %(export)s",
                        connector=connector.name,
                        export=log.id,
                    ),
                    identity_key=log._upload_identity_key(),
                    max_retries=connector.retry_count + 1,
                )
                ._upload_job()
            )
        return jobs

    def _upload_identity_key(self):
        self.ensure_one()
        return f"security.app.connector:{self.connector_id.id}:export:{self.id}"

    # --------------------------------------------------------------------- job
    def _upload_job(self):
        """Job: build the file of this queued export, upload it once and
        record the outcome on the log.

        Rerun-safe: only a queued export is uploaded, its row locked
        meanwhile (another run skips it); a done or failed export is left
        alone. A transient failure (timeout, connection error, HTTP 5xx, a
        database concurrency error) rolls the run back and raises
        ``RetryableJobError``, retried after the connector's back-off, until
        the last try, whose failure is recorded. Other failures (HTTP 4xx)
        are recorded at once, never retried.

        :return: the outcome, shown on the job
        :rtype: str
        """
        log = self.sudo().exists()
        if log:
            log = log._claim_queued()
        if not log:
            return self.env._("Nothing to upload: the export is not queued.")
        attempt, last = log._job_attempt()
        try:
            with self.env.cr.savepoint():
                retry, seconds = log._try_upload(attempt)
        except Exception as exc:
            if is_transient_error(exc) and not last:
                raise RetryableJobError(str(exc), seconds=None) from exc
            raise
        if retry and not last:
            raise RetryableJobError(log.error, seconds=seconds)
        states = dict(self._fields["state"]._description_selection(self.env))
        return self.env._(
            "Export %(export)s: %(state)s (try %(attempt)s).",
            export=log.id,
            state=states[log.state],
            attempt=attempt,
        )

    def _claim_queued(self):
        """This export row-locked if it is still queued and no other run
        holds it, else an empty recordset."""
        self.ensure_one()
        self.flush_recordset(["state"])
        self.env.cr.execute(
            """
            SELECT id FROM security_app_export_log
             WHERE id = %s AND state = 'queued'
               FOR UPDATE SKIP LOCKED
            """,
            [self.id],
        )
        if not self.env.cr.fetchone():
            return self.browse()
        self.invalidate_recordset()
        return self

    def _job_attempt(self):
        """``(number of this try, whether it is the last one)`` of the
        running upload job, read from its stored ``queue.job``: one final
        try when run outside the job runner."""
        job_uuid = self.env.context.get("job_uuid")
        job = self.env["queue.job"].sudo().browse()
        if job_uuid:
            job = job.search([("uuid", "=", job_uuid)], limit=1)
        if not job:
            return 1, True
        attempt = job.retry + 1
        return attempt, bool(job.max_retries) and attempt >= job.max_retries

    def _try_upload(self, attempt):
        """Build the file and make one upload attempt, recording it.

        :param int attempt: number of this try (1 for the first)
        :return: ``(retry, seconds)``: whether the failure may pass when
            tried again, and the connector's back-off before the next try
        """
        self.ensure_one()
        start = time.monotonic()
        connector = self._get_connector()
        payload = self._build_file()
        retry = False
        if payload is None:
            pass  # recorded on the log
        elif not payload["records"]:
            self.state = "empty"
        elif not connector.upload_url:
            self._record_upload(
                payload, {"attempts": 0, "error": self.env._("No upload URL is set.")}
            )
        else:
            result = {"http_status": 0, "response_body": "", "error": ""}
            kwargs = connector._prepare_upload_kwargs(payload)
            with requests.Session() as session:
                retry = connector._upload_once(session, kwargs, result)
            result["attempts"] = attempt
            self._record_upload(payload, result)
        self.duration = time.monotonic() - start
        seconds = int(connector.retry_backoff * 2 ** (attempt - 1)) or None
        return retry, seconds

    @api.model
    def _exports_to_enqueue(self):
        """The queued exports that have no upload job yet, oldest first.

        An export whose job failed (an unexpected error, see *Job Queue*)
        stays queued and its connector waits: requeue the job there.
        """
        logs = self.sudo().search([("state", "=", "queued")], order="id")
        keys = {log._upload_identity_key(): log for log in logs}
        jobs = self.env["queue.job"].sudo().search([("identity_key", "in", list(keys))])
        return logs - self.browse().union(
            *(keys[key] for key in jobs.mapped("identity_key"))
        )
