import base64
import json
import time

import requests

from odoo import _, api, models

RESPONSE_KEEP = 1000


class SecurityAppConnector(models.Model):
    """The upload of the app status file: HTTP with retries, export logs."""

    # one concern per file: the connector is split on purpose
    _inherit = "security.app.connector"  # pylint: disable=consider-merging-classes-inherited

    def _prepare_upload_kwargs(self, payload):
        self.ensure_one()
        conn = self.sudo()
        kwargs = {"timeout": (self.connect_timeout, self.read_timeout), "headers": {}}
        if self.auth_type == "basic":
            kwargs["auth"] = (conn.username or "", conn.password or "")
        elif self.auth_type == "bearer":
            kwargs["headers"]["Authorization"] = f"Bearer {conn.token or ''}"
        body = payload["content"].encode()
        if self.vendor == "webhook":
            kwargs["data"] = body
            kwargs["headers"]["Content-Type"] = "application/json; charset=utf-8"
        else:
            kwargs["files"] = {"file": (payload["filename"], body, payload["mimetype"])}
        return kwargs

    def _upload(self, payload):
        """POST the payload with retries: timeouts, connection errors and 5xx
        are retried with exponential backoff, 4xx and other errors are not.

        :param payload: the built file (``_build_payload``)
        :return: ``{attempts, http_status, response_body, error}``: the
            outcome of the last attempt, ``error`` empty on success (the
            answer kept to its first ``RESPONSE_KEEP`` characters)
        """
        self.ensure_one()
        if not self.upload_url:
            return {"attempts": 0, "error": _("No upload URL is set.")}
        kwargs = self._prepare_upload_kwargs(payload)
        result = {"attempts": 0, "http_status": 0, "response_body": "", "error": ""}
        with requests.Session() as session:
            for attempt in range(1, self.retry_count + 2):
                result["attempts"] = attempt
                retry = self._upload_once(session, kwargs, result)
                if not retry or attempt > self.retry_count:
                    break
                time.sleep(self.retry_backoff * 2 ** (attempt - 1))
        return result

    def _upload_once(self, session, kwargs, result):
        """One attempt; fills ``result`` and returns whether to retry."""
        try:
            response = session.post(self.upload_url, **kwargs)
        except requests.Timeout as exc:
            result.update(http_status=0, response_body="")
            result["error"] = _("Timeout: %(error)s", error=exc)
            return True
        except requests.ConnectionError as exc:
            result.update(http_status=0, response_body="")
            result["error"] = _("Connection error: %(error)s", error=exc)
            return True
        except requests.RequestException as exc:
            result["error"] = _("Request failed: %(error)s", error=exc)
            return False
        result["http_status"] = response.status_code
        result["response_body"] = response.text[:RESPONSE_KEEP]
        if response.status_code < 400:
            result["error"] = ""
            return False
        result["error"] = _(
            "HTTP %(status)s %(reason)s",
            status=response.status_code,
            reason=response.reason or "",
        )
        return response.status_code >= 500

    def _export(self, trigger="manual"):
        """Build, upload and log one export of each connector now; a failed
        build or upload is recorded on its log, not raised.

        :param trigger: what asked for it, as logged: ``manual``, ``cron``
            or ``requested`` (a payment or status change)
        :return: the ``security.app.export.log`` records, one per connector
        """
        logs = self.env["security.app.export.log"]
        for connector in self:
            log = logs.sudo().create(connector._prepare_log_vals(trigger))
            log._run()
            logs |= log
        return logs

    def _prepare_log_vals(self, trigger):
        self.ensure_one()
        return {
            "connector_id": self.id,
            "company_id": self.company_id.id,
            "trigger": trigger,
            "state": "queued",
        }

    def _store_sync_state(self, digests):
        """Changes-only mode: remember what the server now has."""
        self.ensure_one()
        if digests is None:
            return
        state = json.loads(self.sudo().sync_state or "{}")
        state.update(digests)
        self.sudo().sync_state = json.dumps(state, separators=(",", ":"))

    @api.model
    def _attachment_vals(self, payload, log):
        return {
            "name": payload["filename"],
            "datas": base64.b64encode(payload["content"].encode()),
            "mimetype": payload["mimetype"],
            "res_model": log._name,
            "res_id": log.id,
        }
