"""Daily reconciliation of a terminal provider's registry with our records.

Registry format (CSV, UTF-8 with or without BOM, ``,`` or ``;`` separated):

    txn_id,date,account,sum
    7000000001,2025-03-14 09:30:05,1000017,150.00

- the header line is required, columns in this order;
- ``txn_id``: 1 to 20 digits, once per file;
- ``date``: ``YYYY-MM-DD HH:MM:SS`` or ``YYYYMMDDHHMMSS`` in the provider's
  time zone, on the reconciled day;
- ``account``: the account number paid (digits; spaces and dashes ignored);
- ``sum``: decimal with a point, at most two decimals.

Blank lines are ignored. Any other problem stops the import with an error
naming the line; nothing is written.
"""

import base64
import csv
import io
from datetime import datetime
from decimal import Decimal

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.security_billing.tools import account_ref

from ..tools.osmp import SUM_RE, TXN_ID_RE

REGISTRY_COLUMNS = ["txn_id", "date", "account", "sum"]
REGISTRY_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S")


class SecurityTerminalReconciliation(models.Model):
    _name = "security.terminal.reconciliation"
    _description = "Payment Terminal Daily Reconciliation"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    provider_id = fields.Many2one(
        "security.terminal.provider", required=True, index=True, check_company=True
    )
    company_id = fields.Many2one(
        related="provider_id.company_id", store=True, index=True, precompute=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(
        required=True,
        default=lambda self: fields.Date.context_today(self),
        help="Day of the registry, in the provider's time zone.",
    )
    registry_file = fields.Binary(string="Registry (CSV)", attachment=True)
    registry_filename = fields.Char()
    state = fields.Selection(
        [("draft", "Draft"), ("done", "Compared")],
        string="Reconciliation Status",
        default="draft",
        required=True,
    )
    line_ids = fields.One2many(
        "security.terminal.reconciliation.line", "reconciliation_id", readonly=True
    )
    registry_count = fields.Integer(readonly=True)
    registry_total = fields.Monetary(readonly=True)
    recorded_count = fields.Integer(readonly=True)
    recorded_total = fields.Monetary(readonly=True)
    difference_count = fields.Integer(compute="_compute_difference_count")

    @api.depends("provider_id.name", "date")
    def _compute_name(self):
        for record in self:
            record.name = "%s %s" % (record.provider_id.name or "", record.date or "")

    @api.depends("line_ids")
    def _compute_difference_count(self):
        for record in self:
            record.difference_count = len(record.line_ids)

    # -------------------------------------------------------------------- parse
    def _parse_registry(self):
        """Registry rows as dicts; UserError naming the line on bad input."""
        self.ensure_one()
        if not self.registry_file:
            raise UserError(_("Upload the provider's registry file first."))
        try:
            text = base64.b64decode(self.registry_file).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UserError(
                _("The registry is not UTF-8 text (byte %(pos)s).", pos=exc.start)
            ) from exc
        lines = text.splitlines()
        if not any(line.strip() for line in lines):
            raise UserError(_("The registry file is empty."))
        header = lines[0]
        delimiter = ";" if header.count(";") > header.count(",") else ","
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        try:
            return self._parse_registry_rows(reader)
        except csv.Error as exc:
            raise UserError(
                _(
                    "Registry line %(line)s: %(error)s.",
                    line=reader.line_num,
                    error=exc,
                )
            ) from exc

    def _parse_registry_rows(self, reader):
        rows, seen = [], {}
        for line_no, row in enumerate(reader, start=1):
            if line_no == 1:
                self._check_registry_header(row)
                continue
            if not any(cell.strip() for cell in row):
                continue
            values = self._parse_registry_row(row, line_no)
            if values["txn_id"] in seen:
                raise UserError(
                    _(
                        "Registry line %(line)s: txn_id %(txn)s is already on "
                        "line %(first)s.",
                        line=line_no,
                        txn=values["txn_id"],
                        first=seen[values["txn_id"]],
                    )
                )
            seen[values["txn_id"]] = line_no
            rows.append(values)
        return rows

    @api.model
    def _check_registry_header(self, row):
        header = [cell.strip().lower() for cell in row]
        if header != REGISTRY_COLUMNS:
            raise UserError(
                _(
                    "Registry line 1: the header must be %(expected)s, got %(got)s.",
                    expected=",".join(REGISTRY_COLUMNS),
                    got=",".join(row) or _("an empty line"),
                )
            )

    def _parse_registry_row(self, row, line_no):
        if len(row) != len(REGISTRY_COLUMNS):
            raise UserError(
                _(
                    "Registry line %(line)s: expected %(expected)s columns, "
                    "got %(got)s.",
                    line=line_no,
                    expected=len(REGISTRY_COLUMNS),
                    got=len(row),
                )
            )
        txn_id, date_text, account, amount = (cell.strip() for cell in row)
        if not TXN_ID_RE.match(txn_id):
            raise UserError(
                _(
                    "Registry line %(line)s: txn_id %(txn)r must be 1 to 20 digits.",
                    line=line_no,
                    txn=txn_id,
                )
            )
        txn_date = self._parse_registry_date(date_text, line_no)
        if not account:
            raise UserError(
                _("Registry line %(line)s: the account is empty.", line=line_no)
            )
        account = account_ref.normalize(account)
        if not TXN_ID_RE.match(account):
            raise UserError(
                _(
                    "Registry line %(line)s: account %(account)r must be 1 to 20 "
                    "digits.",
                    line=line_no,
                    account=account,
                )
            )
        if not SUM_RE.match(amount):
            raise UserError(
                _(
                    "Registry line %(line)s: sum %(sum)r must be a decimal with a "
                    "point and at most two decimals, e.g. 150.00.",
                    line=line_no,
                    sum=amount,
                )
            )
        return {
            "txn_id": txn_id,
            "date": txn_date,
            "account": account,
            "amount": float(Decimal(amount)),
            "line": line_no,
        }

    def _parse_registry_date(self, text, line_no):
        for date_format in REGISTRY_DATE_FORMATS:
            try:
                txn_date = datetime.strptime(text, date_format)
                break
            except ValueError:
                continue
        else:
            raise UserError(
                _(
                    "Registry line %(line)s: date %(date)r must be "
                    "YYYY-MM-DD HH:MM:SS or YYYYMMDDHHMMSS.",
                    line=line_no,
                    date=text,
                )
            )
        if txn_date.date() != self.date:
            raise UserError(
                _(
                    "Registry line %(line)s: date %(date)s is not the registry "
                    "day %(day)s.",
                    line=line_no,
                    date=text,
                    day=self.date,
                )
            )
        return txn_date

    # ------------------------------------------------------------------ compare
    def action_compare(self):
        """Parse the registry and list its differences with our records."""
        for record in self:
            rows = record._parse_registry()
            recorded = record._get_recorded_payments(rows)
            record.line_ids.unlink()
            record.write(record._prepare_compare_vals(rows, recorded))
        return True

    def _get_recorded_payments(self, rows):
        """Paid terminal payments of the day plus those the registry names."""
        self.ensure_one()
        return self.env["security.terminal.payment"].search(
            [
                ("provider_id", "=", self.provider_id.id),
                ("state", "=", "done"),
                "|",
                ("txn_day", "=", self.date),
                ("txn_id", "in", [row["txn_id"] for row in rows]),
            ]
        )

    def _prepare_compare_vals(self, rows, recorded):
        self.ensure_one()
        by_txn = {payment.txn_id: payment for payment in recorded}
        registry_txns = {row["txn_id"] for row in rows}
        lines = []
        for row in rows:
            vals = self._prepare_registry_line_vals(row, by_txn.get(row["txn_id"]))
            if vals:
                lines.append(vals)
        lines += [
            self._prepare_line_vals("extra", payment=payment)
            for payment in recorded
            if payment.txn_id not in registry_txns and payment.txn_day == self.date
        ]
        day = recorded.filtered(lambda p: p.txn_day == self.date)
        return {
            "state": "done",
            "registry_count": len(rows),
            "registry_total": sum(row["amount"] for row in rows),
            "recorded_count": len(day),
            "recorded_total": sum(day.mapped("amount")),
            "line_ids": [fields.Command.create(vals) for vals in lines],
        }

    def _prepare_registry_line_vals(self, row, payment):
        """Line for a registry row, or None when it matches our record."""
        if not payment:
            return self._prepare_line_vals("missing", row=row)
        if self.currency_id.compare_amounts(row["amount"], payment.amount):
            return self._prepare_line_vals("amount", row=row, payment=payment)
        if row["account"] != payment.account:
            return self._prepare_line_vals("account", row=row, payment=payment)
        return None

    @api.model
    def _prepare_line_vals(self, line_type, row=None, payment=None):
        row = row or {}
        return {
            "type": line_type,
            "txn_id": row.get("txn_id") or payment.txn_id,
            "registry_line": row.get("line"),
            "registry_account": row.get("account"),
            "registry_amount": row.get("amount", 0.0),
            "terminal_payment_id": payment.id if payment else False,
            "recorded_account": payment.account if payment else False,
            "recorded_amount": payment.amount if payment else 0.0,
        }
