"""Device-app status export: Ajax billing JSON, webhook and CSV.

Uploads go to a real HTTP server on 127.0.0.1 started by the test; the
database, ORM and payments are real.
"""

import base64
import csv
import hashlib
import io
import json
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..common import SecurityBillingCase

SAMPLES = Path(__file__).parent / "samples"
NOW = datetime(2024, 3, 15, 10, 20, 30)


class RecordingServer:
    """A local HTTP server answering from a script and recording requests.

    ``script`` is a list of ``(status, body, delay_seconds)``; the last entry
    repeats. Each request is recorded as ``{path, headers, body}``.
    """

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                index = min(len(outer.requests), len(outer.script)) - 1
                status, body, delay = outer.script[index]
                if delay:
                    time.sleep(delay)
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (read timeout)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self):
        return "http://127.0.0.1:%s/upload" % self.httpd.server_address[1]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@tagged("post_install", "-at_install")
class TestAppExport(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.currency = cls.env.company.currency_id.name
        d = cls._date
        # A: monthly 300, January paid, February open
        cls.partner_a = cls._create_subscriber("Alpha")
        cls.contract_a = cls._contract(cls.partner_a, price=300.0)
        cls._invoice_on_date(cls.contract_a)
        cls._invoice_on_date(cls.contract_a)
        cls._pay(cls.partner_a, 300.0, date=d("2024-01-05"))
        cls.site_a = cls._create_site(
            cls.partner_a, cls.contract_a, device_id="0000AF49"
        )
        # B: quarterly 900 (300 a month), paid 1,000: 100 credit
        cls.partner_b = cls._create_subscriber("Bravo")
        cls.contract_b = cls._contract(cls.partner_b, price=900.0, rule="quarterly")
        cls._invoice_on_date(cls.contract_b)
        cls._pay(cls.partner_b, 1000.0, date=d("2024-01-10"))
        cls.site_b = cls._create_site(
            cls.partner_b, cls.contract_b, device_id="0a1b2c3d"
        )
        # C: monthly 150.50, unpaid, suspended (blocked)
        cls.partner_c = cls._create_subscriber("Charlie")
        cls.contract_c = cls._contract(cls.partner_c, price=150.5)
        cls._invoice_on_date(cls.contract_c)
        cls.contract_c.security_state = "suspended"
        cls.site_c = cls._create_site(
            cls.partner_c, cls.contract_c, device_id="00FF0001"
        )
        # unusable sites: no contract, no device id, a legacy malformed hub id
        cls.partner_d = cls._create_subscriber("Delta")
        cls.site_no_contract = cls._create_site(cls.partner_d, device_id="0000DD01")
        cls.site_no_device = cls._create_site(
            cls.partner_d, cls.contract_a, name="No device"
        )
        cls.site_bad_hub = cls._create_site(
            cls.partner_d, cls.contract_a, name="Bad hub", device_id="0000DD02"
        )
        cls.env.cr.execute(
            "UPDATE security_site SET device_id = 'XYZ-12' WHERE id = %s",
            [cls.site_bad_hub.id],
        )
        cls.site_bad_hub.invalidate_recordset(["device_id"])
        # another vendor's site is not in the Ajax file
        cls._create_site(
            cls.partner_a, cls.contract_a, vendor="alarm_com", device_id="ac-555"
        )
        cls.connector = cls.env["security.app.connector"].create(
            {
                "name": "Ajax billing",
                "vendor": "ajax",
                "upload_url": "http://127.0.0.1:9/unused",
                "auth_type": "basic",
                "username": "alarmco",
                "password": "s3cret",
                "retry_count": 2,
                "retry_backoff": 0.0,
                "connect_timeout": 2.0,
                "read_timeout": 5.0,
                "debounce_seconds": 60,
            }
        )

    @classmethod
    def _contract(cls, partner, **kwargs):
        """An MMR contract started on 2024-01-01 (its lines start then too)."""
        with freeze_time("2024-01-01"):
            contract = cls._create_mmr_contract(
                partner, date_start=cls._date("2024-01-01"), **kwargs
            )
        # OCA contract: lines created with the contract keep their default
        # monthly rule instead of the contract's; sync them as the form does
        contract.contract_line_ids.write(
            {"recurring_rule_type": contract.recurring_rule_type}
        )
        return contract

    @classmethod
    def _invoice_on_date(cls, contract):
        """Invoice as on the contract's next date (due date = invoice date)."""
        with freeze_time(contract.recurring_next_date):
            return cls._invoice_contract(contract)

    def _serve(self, script):
        server = RecordingServer(script).start()
        self.addCleanup(server.stop)
        self.connector.upload_url = server.url
        return server

    def _golden(self):
        return (SAMPLES / "ajax_export.golden.json").read_text(encoding="utf-8")

    # ------------------------------------------------------------------- file
    def test_golden_file(self):
        payload = self.connector._build_payload(now=NOW)
        self.assertEqual(payload["filename"], "2024-03-15-10-20-30.json")
        self.assertEqual(
            payload["content"], self._golden().replace("USD", self.currency)
        )
        self.assertEqual(payload["records"], 3)
        rows = json.loads(payload["content"])
        self.assertEqual(
            [row["hubId"] for row in rows], ["0000AF49", "00FF0001", "0A1B2C3D"]
        )
        # quarterly billing still reports the monthly fee
        self.assertEqual(rows[2]["subscriptionFee"], "300.00")
        self.assertEqual(rows[1]["blocked"], "true")

    def test_invalid_sites_left_out_and_reported(self):
        payload = self.connector._build_payload(now=NOW)
        reasons = {item["site_id"]: item["reason"] for item in payload["skipped_sites"]}
        self.assertEqual(payload["skipped"], 3)
        self.assertEqual(
            set(reasons),
            {self.site_no_contract.id, self.site_no_device.id, self.site_bad_hub.id},
        )
        self.assertIn("no contract", reasons[self.site_no_contract.id])
        self.assertIn("no device id", reasons[self.site_no_device.id])
        self.assertIn("invalid hub id 'XYZ-12'", reasons[self.site_bad_hub.id])
        self.assertNotIn("XYZ-12", payload["content"])
        self.assertNotIn("0000DD01", payload["content"])

    def test_native_values(self):
        self.connector.value_style = "native"
        payload = self.connector._build_payload(now=NOW)
        first = payload["content"].splitlines()[1]
        self.assertEqual(
            first,
            '{"hubId":"0000AF49","subscriptionFee":300.00,"balance":-300.00,'
            '"currency":"%s","blocked":false,"paymentDate":"2024-02-01"},'
            % self.currency,
        )
        rows = json.loads(payload["content"])
        self.assertIs(rows[1]["blocked"], True)
        self.assertEqual(rows[1]["balance"], -150.5)

    def test_csv_and_webhook_serializers(self):
        csv_connector = self.connector.copy({"vendor": "csv", "site_vendor": "ajax"})
        payload = csv_connector._build_payload(now=NOW)
        self.assertEqual(payload["filename"], "2024-03-15-10-20-30.csv")
        lines = payload["content"].splitlines()
        self.assertEqual(
            lines[0], "hubId,subscriptionFee,balance,currency,blocked,paymentDate"
        )
        self.assertEqual(
            lines[1], "0000AF49,300.00,-300.00,%s,false,2024-02-01" % self.currency
        )
        self.assertEqual(len(lines), 4)
        hook = self.connector.copy({"vendor": "webhook", "site_vendor": "ajax"})
        data = json.loads(hook._build_payload(now=NOW)["content"])
        self.assertEqual(data["count"], 3)
        self.assertEqual(data["generatedAt"], "2024-03-15T10:20:30Z")
        self.assertEqual(
            data["records"], json.loads(self._golden().replace("USD", self.currency))
        )

    def test_serialize_dispatches_by_vendor(self):
        """``_serialize`` writes the format of the connector's vendor."""
        rows = [("0000AF49", 300.0, -12.5, "UAH", True, "2019-12-31")]
        ajax_line = (
            '{"hubId":"0000AF49","subscriptionFee":"300.00","balance":"-12.50",'
            '"currency":"UAH","blocked":"true","paymentDate":"2019-12-31"}'
        )
        Connector = self.env["security.app.connector"]
        company = self.env.company
        results = {
            vendor: Connector.new(
                {"name": vendor, "vendor": vendor, "company_id": company.id}
            )._serialize(rows, NOW)
            for vendor in ("ajax", "webhook", "csv")
        }
        self.assertEqual(
            results["ajax"], ("[\n%s\n]\n" % ajax_line, "json", "application/json")
        )
        content, ext, mimetype = results["webhook"]
        self.assertEqual((ext, mimetype), ("json", "application/json"))
        self.assertEqual(
            json.loads(content),
            {
                "company": company.name,
                "generatedAt": "2024-03-15T10:20:30Z",
                "mode": "full",
                "count": 1,
                "records": [json.loads(ajax_line)],
            },
        )
        self.assertEqual(
            results["csv"],
            (
                "hubId,subscriptionFee,balance,currency,blocked,paymentDate\n"
                "0000AF49,300.00,-12.50,UAH,true,2019-12-31\n",
                "csv",
                "text/csv",
            ),
        )

    def test_unknown_vendor_is_a_clear_error(self):
        """A vendor added without its ``_serialize`` (here written in SQL, as
        an addon adding only the selection value would leave it) names the
        vendor and the method to override; the export logs it as failed."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE security_app_connector SET vendor = 'acme' WHERE id = %s",
            [self.connector.id],
        )
        self.connector.invalidate_recordset(["vendor"])
        with self.assertRaisesRegex(UserError, r"vendor 'acme' .*_serialize\(\)"):
            self.connector._serialize([], NOW)
        server = self._serve([(200, "accepted", 0)])
        log = self.connector._export()
        self.assertEqual(log.state, "failed")
        self.assertIn("'acme'", log.error)
        self.assertFalse(server.requests)

    def test_csv_cells_cannot_become_formulas(self):
        """A device id a spreadsheet would run as a formula gets a leading
        apostrophe in the CSV file; amounts stay numbers."""
        for number, device in enumerate(("=1+2", "@SUM(A1)", "-3+4", "\tX")):
            self._create_site(
                self.partner_a,
                self.contract_a,
                vendor="paxton",
                device_id=device,
                name=f"Paxton {number}",
            )
        connector = self.connector.copy({"vendor": "csv", "site_vendor": "paxton"})
        content = connector._build_payload(now=NOW)["content"]
        parsed = list(csv.reader(io.StringIO(content)))
        self.assertEqual(
            sorted(row[0] for row in parsed[1:]),
            sorted(["'=1+2", "'@SUM(A1)", "'-3+4", "'\tX"]),
        )
        self.assertEqual(
            parsed[1][1:], ["300.00", "-300.00", self.currency, "false", "2024-02-01"]
        )

    def test_ajax_needs_full_file_and_valid_filter(self):
        with self.assertRaises(ValidationError):
            self.connector.export_mode = "changes"
        with self.assertRaises(ValidationError):
            self.connector.site_domain = "[('no_such_field', '=', 1)]"
        self.connector.site_domain = "[('device_id', '=', '0000AF49')]"
        payload = self.connector._build_payload(now=NOW)
        self.assertEqual(payload["records"], 1)

    # ----------------------------------------------------------------- upload
    def test_upload_500_then_200_is_retried_and_logged(self):
        server = self._serve([(500, "try later", 0), (200, "accepted", 0)])
        log = self.connector._export()
        self.assertEqual(log.state, "done")
        self.assertEqual(log.attempts, 2)
        self.assertEqual(
            (self.connector.log_count, self.connector.last_state), (1, "done")
        )
        self.assertEqual(log.http_status, 200)
        self.assertEqual(log.response_body, "accepted")
        self.assertFalse(log.error)
        self.assertEqual((log.record_count, log.skipped_count), (3, 3))
        self.assertIn("XYZ-12", log.skipped_details)
        self.assertEqual(len(server.requests), 2)
        content = base64.b64decode(log.attachment_id.datas)
        self.assertEqual(log.checksum, hashlib.sha256(content).hexdigest())
        self.assertEqual(log.filename, log.attachment_id.name)
        request = server.requests[-1]
        self.assertIn(b'filename="%s"' % log.filename.encode(), request["body"])
        self.assertIn(content, request["body"])
        auth = base64.b64encode(b"alarmco:s3cret").decode()
        self.assertEqual(request["headers"]["Authorization"], "Basic " + auth)

    def test_upload_401_is_not_retried(self):
        server = self._serve([(401, "bad credentials", 0)])
        log = self.connector._export()
        self.assertEqual(log.state, "failed")
        self.assertEqual(log.attempts, 1)
        self.assertEqual(log.http_status, 401)
        self.assertIn("401", log.error)
        self.assertEqual(log.response_body, "bad credentials")
        self.assertEqual(len(server.requests), 1)
        self.assertTrue(log.attachment_id, "the file is kept even when not accepted")

    def test_upload_read_timeout_is_retried_then_fails(self):
        self.connector.write({"read_timeout": 0.5, "retry_count": 1})
        server = self._serve([(200, "too late", 1.5)])
        log = self.connector._export()
        self.assertEqual(log.state, "failed")
        self.assertEqual(log.attempts, 2)
        self.assertIn("Timeout", log.error)
        self.assertEqual(log.http_status, 0)
        self.assertEqual(len(server.requests), 2)

    def test_response_body_is_truncated(self):
        self._serve([(200, "x" * 5000, 0)])
        log = self.connector._export()
        self.assertEqual(len(log.response_body), 1000)

    def test_bearer_webhook_posts_json(self):
        hook = self.connector.copy(
            {"vendor": "webhook", "site_vendor": "ajax", "auth_type": "bearer"}
        )
        hook.token = "tok-123"
        server = RecordingServer([(202, "", 0)]).start()
        self.addCleanup(server.stop)
        hook.upload_url = server.url
        log = hook._export()
        self.assertEqual(log.state, "done")
        request = server.requests[0]
        self.assertEqual(request["headers"]["Authorization"], "Bearer tok-123")
        self.assertTrue(
            request["headers"]["Content-Type"].startswith("application/json")
        )
        self.assertEqual(json.loads(request["body"])["count"], 3)

    def test_changes_only_sends_changed_sites(self):
        hook = self.connector.copy(
            {"vendor": "webhook", "site_vendor": "ajax", "export_mode": "changes"}
        )
        server = RecordingServer([(200, "ok", 0)]).start()
        self.addCleanup(server.stop)
        hook.upload_url = server.url
        self.assertEqual(hook._export().record_count, 3)
        second = hook._export()
        self.assertEqual((second.state, second.record_count), ("empty", 0))
        self._pay(self.partner_a, 300.0)
        third = hook._export()
        self.assertEqual(third.record_count, 1)
        records = json.loads(server.requests[-1]["body"])["records"]
        self.assertEqual(records[0]["hubId"], "0000AF49")
        self.assertEqual(records[0]["balance"], "0.00")
        self.assertEqual(len(server.requests), 2)

    # ------------------------------------------------------------- scheduling
    def test_cron_queues_then_job_uploads_due_connector(self):
        server = self._serve([(200, "ok", 0)])
        # the cron runs every due connector: only this one (not the demo's)
        self.env["security.app.connector"].sudo().search(
            [("id", "!=", self.connector.id)]
        ).active = False
        self.connector.next_export_at = fields.Datetime.now() - timedelta(minutes=1)
        Connector = self.env["security.app.connector"]
        with trap_jobs() as trap:
            queued = Connector._cron_export_app_status()
            self.assertEqual((queued.state, queued.trigger), ("queued", "cron"))
            self.assertGreater(self.connector.next_export_at, fields.Datetime.now())
            self.assertEqual(len(trap.enqueued_jobs), 1)
            self.assertFalse(server.requests, "the cron uploads nothing itself")
            trap.perform_enqueued_jobs()
        self.assertEqual(queued.state, "done")
        self.assertEqual(len(server.requests), 1)
        self.assertFalse(Connector._cron_export_app_status())

    def test_payment_on_blocked_contract_requests_export_debounced(self):
        cron = self.env.ref("security_billing.ir_cron_security_app_export")
        Trigger = self.env["ir.cron.trigger"].sudo()
        before = Trigger.search([("cron_id", "=", cron.id)])
        self.connector.next_export_at = fields.Datetime.now() + timedelta(hours=1)
        with freeze_time(NOW):
            self._pay(self.partner_c, 150.5)
            self.assertTrue(self.connector.export_requested)
            self.assertEqual(
                self.connector.requested_export_at, NOW + timedelta(seconds=60)
            )
            triggers = Trigger.search([("cron_id", "=", cron.id)]) - before
            self.assertEqual(triggers.mapped("call_at"), [NOW + timedelta(seconds=60)])
        with freeze_time(NOW + timedelta(seconds=20)):
            self._pay(self.partner_c, 10.0)
            self.assertEqual(
                len(Trigger.search([("cron_id", "=", cron.id)]) - before),
                1,
                "a second payment within the delay makes no second export",
            )
        self._serve([(200, "ok", 0)])
        Connector = self.env["security.app.connector"]
        with freeze_time(NOW + timedelta(seconds=61)), trap_jobs() as trap:
            log = Connector._cron_export_app_status()
            self.assertEqual(
                (log.connector_id, log.trigger), (self.connector, "requested")
            )
            self.assertFalse(self.connector.export_requested)
            trap.assert_jobs_count(1, only=log._upload_job)
            trap.perform_enqueued_jobs()
        self.assertEqual(log.state, "done")
        row = json.loads(base64.b64decode(log.attachment_id.datas))[1]
        self.assertEqual(row["hubId"], "00FF0001")
        self.assertEqual(row["balance"], "10.00")

    def test_payment_for_uncovered_contract_requests_nothing(self):
        other = self._create_subscriber("Echo")
        contract = self._contract(other)
        self._invoice_on_date(contract)
        self._pay(other, 30.0)
        self.assertFalse(self.connector.export_requested)

    # --------------------------------------------------------------- security
    def test_credentials_readable_by_admins_only(self):
        manager = self.env["res.users"].create(
            {
                "name": "Billing manager",
                "login": "app_export_manager",
                "groups_id": [
                    Command.set(
                        [
                            self.env.ref("base.group_user").id,
                            self.env.ref(
                                "security_billing.group_security_billing_manager"
                            ).id,
                        ]
                    )
                ],
                "company_id": self.env.company.id,
                "company_ids": [Command.set(self.env.company.ids)],
            }
        )
        connector = self.connector.with_user(manager)
        self.assertEqual(connector.read(["name"])[0]["name"], "Ajax billing")
        for fname in ("password", "token", "username"):
            with self.assertRaises(AccessError):
                connector.read([fname])
        with self.assertRaises(AccessError):
            connector.write({"password": "stolen"})
        # the manager can still build and download the file
        action = connector.action_download_file()
        self.assertIn("/web/content/", action["url"])

    def test_connector_multi_company_rule(self):
        other_company = self.setup_other_company()["company"]
        foreign = self.env["security.app.connector"].create(
            {"name": "Other", "company_id": other_company.id}
        )
        user = self.env.user
        self.assertNotIn(
            foreign,
            self.env["security.app.connector"]
            .with_user(user)
            .with_context(allowed_company_ids=self.env.company.ids)
            .search([]),
        )

    # -------------------------------------------------------------------- API
    def test_api_returns_same_payload_as_download(self):
        api = self.env["security.billing.api"]
        with freeze_time(NOW):
            result = api.export_app_status("ajax")
            action = self.connector.action_download_file()
        attachment = self.env["ir.attachment"].browse(
            int(action["url"].split("/")[3].split("?")[0])
        )
        self.assertEqual(result["filename"], "2024-03-15-10-20-30.json")
        self.assertEqual(attachment.name, result["filename"])
        self.assertEqual(attachment.raw.decode(), result["content"])
        self.assertEqual(
            result["content"], self._golden().replace("USD", self.currency)
        )
        self.assertEqual((result["records"], result["skipped"]), (3, 3))
        self.assertEqual(len(result["skipped_sites"]), 3)
        with self.assertRaises(UserError):
            api.export_app_status("nokia")

    def test_api_refuses_plain_users(self):
        user = self.env["res.users"].create(
            {
                "name": "Plain",
                "login": "app_export_plain",
                "groups_id": [Command.set([self.env.ref("base.group_user").id])],
            }
        )
        with self.assertRaises(AccessError):
            self.env["security.billing.api"].with_user(user).export_app_status("ajax")
