import hashlib
import logging
import time

from odoo import _, fields, models

_logger = logging.getLogger(__name__)

LOG_STATES = [
    ("queued", "Queued"),
    ("done", "Sent"),
    ("empty", "Nothing to send"),
    ("failed", "Failed"),
]


class SecurityAppExportLog(models.Model):
    """One export of a device-app connector: what was sent and what came back."""

    _name = "security.app.export.log"
    _description = "Device App Status Export"
    _order = "id desc"
    _rec_name = "filename"

    connector_id = fields.Many2one(
        "security.app.connector", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    vendor = fields.Selection(related="connector_id.vendor")
    trigger = fields.Selection(
        [
            ("cron", "Schedule"),
            ("requested", "Payment or status change"),
            ("manual", "Manual"),
        ],
        required=True,
        default="manual",
    )
    state = fields.Selection(
        LOG_STATES,
        string="Export Status",
        required=True,
        default="queued",
        index=True,
    )
    date_start = fields.Datetime(string="Started")
    duration = fields.Float(string="Duration (s)", digits=(16, 3))
    filename = fields.Char()
    attachment_id = fields.Many2one("ir.attachment", string="File", readonly=True)
    record_count = fields.Integer(string="Records")
    skipped_count = fields.Integer(string="Skipped")
    skipped_details = fields.Text(string="Skipped Sites")
    checksum = fields.Char(string="SHA-256")
    http_status = fields.Integer(string="HTTP Status")
    response_body = fields.Text(string="Response (start)")
    error = fields.Text()
    attempts = fields.Integer()

    def _run(self):
        """Build the connector's file, upload it and record the outcome.

        Bad data never stops the export: unusable sites are skipped and listed,
        a failed build or upload is recorded here instead of raising.
        """
        for log in self:
            start = time.monotonic()
            payload = log._build_file()
            if payload is None:
                log.duration = time.monotonic() - start
                continue
            if payload["records"]:
                connector = log._get_connector()
                log._record_upload(payload, connector._upload(payload))
            else:
                log.state = "empty"
            log.duration = time.monotonic() - start
        return True

    def _get_connector(self):
        self.ensure_one()
        return self.connector_id.with_company(self.company_id)

    def _build_file(self):
        """Build the connector's file and keep it on this log.

        :return: the payload (``_build_payload``), or None when the
            build failed (recorded on the log)
        """
        self.ensure_one()
        self.date_start = fields.Datetime.now()
        try:
            with self.env.cr.savepoint():
                payload = self._get_connector()._build_payload(now=self.date_start)
        except Exception as exc:  # noqa: BLE001 - recorded on the log
            _logger.exception("App status export %s: build failed", self.id)
            self.write(
                {
                    "state": "failed",
                    "error": _("Building the file failed: %(error)s", error=exc),
                }
            )
            return None
        self.write(self._prepare_payload_vals(payload))
        return payload

    def _record_upload(self, payload, result):
        """Record the upload's outcome; after a success, remember what the
        server has (changes-only connectors).

        :param dict payload: the file sent (``_build_file``)
        :param dict result: the outcome (``_upload``)
        """
        self.ensure_one()
        self.write(self._prepare_result_vals(result))
        if not result.get("error"):
            self._get_connector()._store_sync_state(payload["digests"])

    def _prepare_payload_vals(self, payload):
        self.ensure_one()
        content = payload["content"].encode()
        Connector = self.env["security.app.connector"]
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(Connector._attachment_vals(payload, self))
        )
        return {
            "filename": payload["filename"],
            "attachment_id": attachment.id,
            "record_count": payload["records"],
            "skipped_count": payload["skipped"],
            "skipped_details": self._format_skipped(payload["skipped_sites"]),
            "checksum": hashlib.sha256(content).hexdigest(),
        }

    def _prepare_result_vals(self, result):
        return {
            "state": "failed" if result.get("error") else "done",
            "attempts": result.get("attempts", 0),
            "http_status": result.get("http_status", 0),
            "response_body": result.get("response_body", ""),
            "error": result.get("error") or False,
        }

    def _format_skipped(self, skipped):
        return "\n".join(
            _(
                "%(site)s (site %(site_id)s, device %(hub)s): %(reason)s",
                site=item["site"],
                site_id=item["site_id"],
                hub=item["hub_id"] or "-",
                reason=item["reason"],
            )
            for item in skipped
        )

    def action_download(self):
        """The file sent; for those who may read the log."""
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "self",
        }
