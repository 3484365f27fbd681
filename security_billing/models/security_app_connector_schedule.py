from datetime import timedelta

from odoo import api, fields, models


class SecurityAppConnector(models.Model):
    """When the app status file is sent: the interval cron and the export
    requested (debounced) after a payment or a status change."""

    # one concern per file: the connector is split on purpose
    _inherit = "security.app.connector"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _get_due_domain(self, now):
        return [
            ("active", "=", True),
            "|",
            ("next_export_at", "<=", now),
            "&",
            ("export_requested", "=", True),
            ("requested_export_at", "<=", now),
        ]

    @api.model
    def _cron_export_app_status(self):
        """Queue an export of each due connector and enqueue one upload job
        per queued export without one; upload nothing here.

        The uploads run as jobs in ``root.security_billing.apps``
        (``security.app.export.log._upload_job``), so the slow
        upload never holds a lock on the connector that a payment's export
        request would wait for, nor the cron worker.

        :return: the exports whose upload job was enqueued by this call
        :rtype: security.app.export.log
        """
        self._queue_due_exports()
        logs = self.env["security.app.export.log"]._exports_to_enqueue()
        logs._enqueue_uploads()
        return logs

    @api.model
    def _queue_due_exports(self):
        """Queue an export of each active connector whose interval or
        requested export is due (a connector with a queued export waits), and
        move its schedule on (``_prepare_next_schedule_vals``).

        :return: the queued ``security.app.export.log`` records
        """
        now = fields.Datetime.now()
        connectors = self.sudo().search(self._get_due_domain(now))
        busy = (
            self.env["security.app.export.log"]
            .sudo()
            .search([("connector_id", "in", connectors.ids), ("state", "=", "queued")])
        )
        connectors -= busy.connector_id
        logs = self.env["security.app.export.log"].sudo()
        for connector in connectors:
            trigger = (
                "requested"
                if connector.export_requested and connector.requested_export_at <= now
                else "cron"
            )
            logs |= logs.create(connector._prepare_log_vals(trigger))
            connector.write(connector._prepare_next_schedule_vals(now))
        return logs

    def _prepare_next_schedule_vals(self, now):
        self.ensure_one()
        return {
            "next_export_at": now + timedelta(minutes=self.interval_minutes),
            "export_requested": False,
            "requested_export_at": False,
        }

    @api.model
    def _request_export(self, contracts):
        """Money moved (or service status changed) for ``contracts``: ask the
        connectors covering their sites for an export after their delay.

        Debounced: a connector already waiting for a requested export is left
        alone, so many payments within the delay make one export. One UPDATE;
        it waits for no lock held by a running export.

        :param contracts: ``contract.contract`` records whose balance or
            status changed
        :return: ids of the connectors that now wait for an export (the
            cron is triggered at their requested times)
        """
        if not contracts:
            return []
        self.flush_model()
        self.env["security.site"].flush_model(["contract_id", "company_id", "vendor"])
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            UPDATE security_app_connector ac
               SET export_requested = TRUE,
                   requested_export_at =
                        %(now)s + ac.debounce_seconds * INTERVAL '1 second'
             WHERE ac.active AND NOT COALESCE(ac.export_requested, FALSE)
               AND EXISTS (
                    SELECT 1 FROM security_site s
                     WHERE s.contract_id IN %(ids)s AND s.active
                       AND s.company_id = ac.company_id
                       AND s.vendor = ac.site_vendor)
            RETURNING ac.id, ac.requested_export_at
            """,
            {"now": now, "ids": tuple(contracts.ids)},
        )
        rows = self.env.cr.fetchall()
        if rows:
            self.invalidate_model(["export_requested", "requested_export_at"])
            cron = self.env.ref(
                "security_billing.ir_cron_security_app_export", raise_if_not_found=False
            )
            if cron:
                cron.sudo()._trigger(at=sorted({row[1] for row in rows}))
        return [row[0] for row in rows]
