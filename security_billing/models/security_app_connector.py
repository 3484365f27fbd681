import json
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from ..tools import app_status
from ..tools.app_status import FILENAME_FORMAT, ROW_FIELDS
from .security_app_export_log import LOG_STATES
from .security_site import AJAX_HUB_RE, VENDORS

CONNECTOR_VENDORS = [
    ("ajax", "Ajax billing server (JSON file)"),
    ("webhook", "Generic JSON webhook"),
    ("csv", "CSV file"),
]
# connector vendor -> site vendor it exports by default
DEFAULT_SITE_VENDOR = {"ajax": "ajax", "webhook": "alarm_com", "csv": "other"}
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class SecurityAppConnector(models.Model):
    """Uploads each site's billing status to a device vendor's app server."""

    _name = "security.app.connector"
    _description = "Device App Status Connector"
    _order = "company_id, sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(string="Connector Enabled", default=True)
    vendor = fields.Selection(CONNECTOR_VENDORS, required=True, default="ajax")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    site_vendor = fields.Selection(
        VENDORS,
        string="Sites Of Vendor",
        compute="_compute_site_vendor",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
        help="The sites whose devices this connector reports.",
    )
    site_domain = fields.Char(
        string="Site Filter",
        default="[]",
        help="Optional extra domain on protected sites, e.g. "
        "[('life_safety', '=', False)].",
    )
    upload_url = fields.Char(string="Upload URL")
    auth_type = fields.Selection(
        [
            ("none", "None"),
            ("basic", "Basic (login and password)"),
            ("bearer", "Bearer token"),
        ],
        string="Authentication",
        required=True,
        default="basic",
    )
    username = fields.Char(string="Login", groups="base.group_system", copy=False)
    password = fields.Char(groups="base.group_system", copy=False)
    token = fields.Char(string="API Token", groups="base.group_system", copy=False)
    interval_minutes = fields.Integer(
        string="Upload Every (Minutes)", default=5, required=True
    )
    debounce_seconds = fields.Integer(
        string="Delay After Payment (Seconds)",
        default=60,
        required=True,
        help="A payment requests an export this long after it; further payments "
        "within that delay are sent with it.",
    )
    export_mode = fields.Selection(
        [("full", "Full file"), ("changes", "Changed sites only")],
        required=True,
        default="full",
        help="Ajax expects the full file every time.",
    )
    value_style = fields.Selection(
        [("string", "Strings (Ajax specification)"), ("native", "Native JSON types")],
        string="JSON Values",
        required=True,
        default="string",
    )
    connect_timeout = fields.Float(string="Connect Timeout (s)", default=5.0)
    read_timeout = fields.Float(string="Read Timeout (s)", default=30.0)
    retry_count = fields.Integer(
        string="Retries",
        default=3,
        help="Further attempts after a timeout, connection error or HTTP 5xx. "
        "HTTP 4xx is never retried.",
    )
    retry_backoff = fields.Float(
        string="Retry Backoff (s)",
        default=2.0,
        help="Wait before retry n: backoff x 2^(n-1) seconds.",
    )
    next_export_at = fields.Datetime(
        string="Next Scheduled Export", default=fields.Datetime.now, copy=False
    )
    export_requested = fields.Boolean(readonly=True, copy=False)
    requested_export_at = fields.Datetime(
        string="Requested For", readonly=True, copy=False
    )
    sync_state = fields.Text(
        copy=False,
        prefetch=False,
        help="Technical: digest of each site's last sent row (changes-only mode).",
    )
    log_ids = fields.One2many("security.app.export.log", "connector_id")
    log_count = fields.Integer(compute="_compute_log_info")
    last_log_id = fields.Many2one(
        "security.app.export.log", string="Last Export", compute="_compute_log_info"
    )
    last_state = fields.Selection(
        LOG_STATES, string="Last Result", compute="_compute_log_info"
    )

    _sql_constraints = [
        (
            "interval_positive",
            "check (interval_minutes > 0)",
            "The upload interval must be at least one minute.",
        ),
        (
            "debounce_positive",
            "check (debounce_seconds >= 0)",
            "The delay after a payment cannot be negative.",
        ),
        (
            "retry_count_positive",
            "check (retry_count >= 0 and retry_count <= 10)",
            "Retries must be between 0 and 10.",
        ),
    ]

    # ------------------------------------------------------------------ compute
    @api.depends("vendor")
    def _compute_site_vendor(self):
        for connector in self:
            connector.site_vendor = DEFAULT_SITE_VENDOR.get(connector.vendor, "other")

    def _compute_log_info(self):
        groups = self.env["security.app.export.log"]._read_group(
            [("connector_id", "in", self.ids)],
            ["connector_id"],
            ["__count", "id:max"],
        )
        data = {connector.id: (count, last) for connector, count, last in groups}
        Log = self.env["security.app.export.log"]
        for connector in self:
            count, last = data.get(connector.id, (0, False))
            connector.log_count = count
            connector.last_log_id = Log.browse(last)
            connector.last_state = connector.last_log_id.state

    # ------------------------------------------------------------------- checks
    @api.constrains("vendor", "export_mode")
    def _check_export_mode(self):
        for connector in self:
            if connector.vendor == "ajax" and connector.export_mode != "full":
                raise ValidationError(
                    _(
                        "Ajax needs the full file on every upload: %(name)s.",
                        name=connector.name,
                    )
                )

    @api.constrains("site_domain")
    def _check_site_domain(self):
        for connector in self:
            try:
                connector._get_site_domain()
            except Exception as exc:
                raise ValidationError(
                    _(
                        "Site filter of %(name)s is not a valid domain: %(error)s",
                        name=connector.name,
                        error=exc,
                    )
                ) from exc

    @api.constrains("connect_timeout", "read_timeout", "retry_backoff")
    def _check_timeouts(self):
        for connector in self:
            if connector.connect_timeout <= 0 or connector.read_timeout <= 0:
                raise ValidationError(_("Timeouts must be positive."))
            if connector.retry_backoff < 0:
                raise ValidationError(_("The retry backoff cannot be negative."))

    # --------------------------------------------------------------- the rows
    def _get_site_domain(self):
        self.ensure_one()
        extra = safe_eval(self.site_domain or "[]")
        if not isinstance(extra, list | tuple):
            raise ValueError(
                _("a domain is a list, e.g. [('life_safety', '=', False)]")
            )
        domain = [
            ("company_id", "=", self.company_id.id),
            ("vendor", "=", self.site_vendor),
            ("active", "=", True),
        ] + list(extra)
        # validate it against the model now rather than at the next export
        self.env["security.site"].sudo()._search(domain)
        return domain

    def _fetch_site_rows(self):
        """Sites with contract, blocked flag, currency and monthly fee, in one
        query over the connector's sites (``_get_site_domain``).

        The monthly fee is the sum of the stored OCA ``monthly_recurring`` of
        the contract's lines (``security_monthly_fee``), rounded half-up to 2
        decimals; blocked is the stored ``contract.contract.security_blocked``.

        :return: list of ``(site_id, name, device_id, contract_id, blocked,
            currency, monthly_fee)`` ordered by device id; contract, currency
            and device id may be empty (the caller skips those sites)
        """
        self.ensure_one()
        Site = self.env["security.site"].sudo()
        site_query = Site._search(self._get_site_domain())
        self.env["contract.line"].flush_model()
        self.env["contract.contract"].flush_model()
        Site.flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT x.site_id, x.name, x.device_id, x.contract_id, x.blocked,
                       cur.name, x.fee
                  FROM (
                    SELECT s.id AS site_id, s.name, s.device_id,
                           c.id AS contract_id,
                           COALESCE(c.security_blocked, FALSE) AS blocked,
                           COALESCE(ROUND(SUM(l.monthly_recurring)::numeric, 2), 0)
                               ::float8 AS fee,
                           COALESCE(
                               c.manual_currency_id,
                               CASE WHEN BOOL_OR(l.automatic_price)
                                    THEN pl.currency_id END,
                               j.currency_id,
                               co.currency_id) AS currency_id
                      FROM security_site s
                      LEFT JOIN contract_contract c ON c.id = s.contract_id
                      LEFT JOIN contract_line l ON l.contract_id = c.id
                      LEFT JOIN res_company co ON co.id = c.company_id
                      LEFT JOIN account_journal j ON j.id = c.journal_id
                      LEFT JOIN product_pricelist pl ON pl.id = c.pricelist_id
                     WHERE s.id IN %(sites)s
                     GROUP BY s.id, c.id, pl.currency_id, j.currency_id,
                              co.currency_id
                  ) x
                  LEFT JOIN res_currency cur ON cur.id = x.currency_id
                """,
                sites=site_query.subselect(),
            )
        )
        rows = self.env.cr.fetchall()
        # sorting here is cheaper than a database sort spilling to disk
        rows.sort(key=lambda row: (row[2] or "", row[0]))
        return rows

    def _collect_rows(self):
        """Validated status rows of the connector's sites, set-based.

        Three queries whatever the number of sites: sites with contracts,
        fees and blocked flags (``_fetch_site_rows``), the core balance sums
        and the core date data.

        :return: ``(rows, skipped)``: rows are tuples ``(hubId,
            subscriptionFee, balance, currency, blocked, paymentDate)``
            (amounts rounded to 2 decimals, date as yyyy-mm-dd, see
            ``tools.app_status.ROW_FIELDS``); skipped are dicts ``{site_id,
            site, hub_id, reason}`` of the sites left out
        """
        self.ensure_one()
        sites = self._fetch_site_rows()
        contract_ids = list({row[3] for row in sites if row[3]})
        balances = self.env["account.move"]._security_balance_rows(
            "security_contract_id", contract_ids
        )
        contracts = self.env["contract.contract"].sudo().browse(contract_ids)
        dates = contracts._security_date_data()
        hub_re = AJAX_HUB_RE if self.site_vendor == "ajax" else None
        good_currencies = {}
        rows, skipped = [], []
        for site_id, name, device, contract_id, blocked, currency, fee in sites:
            balance = balances.get(contract_id)
            # amounts are numeric sums: rounding only drops float noise
            balance = (
                round(balance["security_balance"] or 0.0, 2) + 0.0 if balance else 0.0
            )
            next_date = dates.get(contract_id)
            next_date = next_date and next_date["security_next_payment_date"]
            row = (
                device,
                fee,
                balance,
                currency,
                blocked,
                next_date.isoformat() if next_date else None,
            )
            if currency not in good_currencies:
                good_currencies[currency] = bool(
                    currency and CURRENCY_RE.match(currency)
                )
            if (
                device
                and contract_id
                and fee > 0
                and next_date
                and good_currencies[currency]
                and (hub_re is None or hub_re.match(device))
            ):
                rows.append(row)
                continue
            skipped.append(
                {
                    "site_id": site_id,
                    "site": name,
                    "hub_id": device,
                    "reason": self._check_row(
                        dict(zip(ROW_FIELDS, row)), contract_id, hub_re is not None
                    ),
                }
            )
        return rows, skipped

    @api.model
    def _check_row(self, row, contract_id, is_ajax):
        """Why this row cannot be sent, or None: never send a malformed row."""
        if not row["hubId"]:
            return _("no device id")
        if is_ajax and not AJAX_HUB_RE.match(row["hubId"]):
            return _(
                "invalid hub id %(hub)r (8 hexadecimal characters)", hub=row["hubId"]
            )
        if not contract_id:
            return _("no contract")
        if not row["currency"] or not CURRENCY_RE.match(row["currency"]):
            return _("missing currency")
        if row["subscriptionFee"] <= 0:
            return _("monthly fee is not positive")
        if not row["paymentDate"]:
            return _("no next payment date")
        return None

    # ---------------------------------------------------------------- the file
    def _build_payload(self, now=None):
        """Build the file of the connector: collect the rows, keep the changed
        ones in changes-only mode, write them (``_serialize``).

        :param now: creation time of the file, a naive UTC datetime (default:
            now); the file name is this time, ``yyyy-mm-dd-hh-mm-ss.<ext>``
        :return: ``{filename, content, mimetype, records, skipped,
            skipped_sites, digests}``: ``records`` rows written, ``skipped``
            sites left out and why (``skipped_sites``), ``digests`` the rows'
            digests to remember after a successful upload (changes-only mode;
            else None)
        """
        self.ensure_one()
        now = now or fields.Datetime.now()
        rows, skipped = self._collect_rows()
        digests = None
        if self.export_mode == "changes":
            rows, digests = self._filter_changed_rows(rows)
        content, ext, mimetype = self._serialize(rows, now)
        return {
            "filename": f"{now.strftime(FILENAME_FORMAT)}.{ext}",
            "content": content,
            "mimetype": mimetype,
            "records": len(rows),
            "skipped": len(skipped),
            "skipped_sites": skipped,
            "digests": digests,
        }

    def _serialize(self, rows, now):
        """Write ``rows`` in the file format of the connector's vendor.

        The extension point for alarm vendors: an addon adds its vendor to
        ``vendor`` (``selection_add``) and overrides this method, writing
        the file of its vendor and calling ``super()`` for the others.

        :param rows: the validated rows, tuples in
            ``tools.app_status.ROW_FIELDS`` order
        :param now: creation time of the file, a naive UTC datetime
        :return: ``(content, extension, mimetype)``: the text of the file,
            its file name extension (without the dot) and its MIME type
        :raise UserError: no format is known for the vendor (the addon that
            adds it does not override this method)
        """
        self.ensure_one()
        if self.vendor == "ajax":
            return app_status.serialize_ajax(rows, self.value_style)
        if self.vendor == "webhook":
            return app_status.serialize_webhook(
                rows, now, self.company_id.name, self.export_mode, self.value_style
            )
        if self.vendor == "csv":
            return app_status.serialize_csv(rows)
        raise UserError(
            _(
                "No app status file format is known for the vendor %(vendor)r of "
                "the connector %(name)s: the addon that adds this vendor must "
                "override _serialize().",
                vendor=self.vendor,
                name=self.name,
            )
        )

    def _filter_changed_rows(self, rows):
        """Rows whose content changed since the last successful upload."""
        previous = json.loads(self.sudo().sync_state or "{}")
        digests, changed = {}, []
        for row in rows:
            digest = app_status.row_digest(row)
            digests[row[0]] = digest
            if previous.get(row[0]) != digest:
                changed.append(row)
        return changed, digests

    # ----------------------------------------------------------------- actions
    def action_export_now(self):
        """Build and upload now. The upload runs as superuser with the stored
        credentials: only users who may change the connector (write access,
        the billing managers) may trigger it."""
        self.ensure_one()
        self.check_access("write")
        log = self._export(trigger="manual")
        return {
            "type": "ir.actions.act_window",
            "res_model": "security.app.export.log",
            "res_id": log.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_download_file(self):
        """The file as it would be uploaded now (nothing is sent or logged);
        for those who may read the connector."""
        self.ensure_one()
        self.check_access("read")
        payload = self._build_payload()
        attachment = self._attach_download(payload)
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def _attach_download(self, payload):
        Attachment = self.env["ir.attachment"].sudo()
        Attachment.search(
            [
                ("res_model", "=", self._name),
                ("res_id", "=", self.id),
                ("description", "=", "app-status-download"),
            ]
        ).unlink()
        return Attachment.create(
            {
                "name": payload["filename"],
                "raw": payload["content"].encode(),
                "mimetype": payload["mimetype"],
                "res_model": self._name,
                "res_id": self.id,
                "description": "app-status-download",
            }
        )

    def action_view_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "security_billing.action_security_app_export_log"
        )
        action["domain"] = [("connector_id", "=", self.id)]
        return action

    @api.model
    def _get_for_vendor(self, vendor, company=None):
        """The company's first active connector of ``vendor``, or an unsaved
        default one so a file can be built before any connector is set up."""
        valid = self._fields["vendor"].get_values(self.env)
        if not isinstance(vendor, str) or vendor not in valid:
            raise UserError(
                _(
                    "Unknown app vendor %(vendor)r: use one of %(valid)s.",
                    vendor=vendor,
                    valid=", ".join(valid),
                )
            )
        company = company or self.env.company
        connector = self.search(
            [("vendor", "=", vendor), ("company_id", "=", company.id)], limit=1
        )
        return connector or self.new({"vendor": vendor, "company_id": company.id})

    @api.model
    def _public_payload(self, payload):
        """What the API and the download button hand out."""
        return {
            "filename": payload["filename"],
            "content": payload["content"],
            "records": payload["records"],
            "skipped": payload["skipped"],
            "skipped_sites": payload["skipped_sites"],
        }
