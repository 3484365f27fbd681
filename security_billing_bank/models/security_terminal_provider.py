"""Payment terminal networks speaking the OSMP/QIWI check-pay protocol.

Result codes answered by ``_osmp_check`` / ``_osmp_pay`` (see README.md,
"Payment terminals (OSMP/QIWI)"):

===  =====================================================================
0    OK: the account can be paid (check) / the payment is recorded (pay,
     also when a pay is repeated with the same txn_id, sum and account).
1    Temporary error, retry later: payments of the provider are paused.
4    Invalid account format: the core ``_security_parse_account_ref``
     rejects the typed number (not digits, wrong length, bad check digit).
5    Account not found in the provider's company.
7    Payment refused: the recorded payment of this txn_id was cancelled by
     the accountant, or the billing refused it (the core registration raised
     a UserError/ValidationError; the comment gives the reason).
8    Refused for technical reasons: the provider is misconfigured (journal
     missing, archived or of another company).
79   Account not active: the subscriber is archived or no longer a
     subscriber, or all its MMR contracts are terminated and it owes nothing.
90   Payment not finished: the txn_id is recorded but its payment is back in
     draft (being corrected by the accountant).
241  Sum too small (below the provider's minimum, or not positive).
242  Sum too large (above the provider's maximum).
243  Cannot check the account: the number matches several subscribers.
300  Other error: unknown command, missing or malformed txn_id, sum or
     txn_date, or a txn_id reused with another sum or account (the
     accountant gets an alert).
===  =====================================================================
"""

import hashlib
import hmac
import ipaddress
import logging
import os
import re
from datetime import datetime
from decimal import Decimal

import pytz

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import consteq, float_compare, float_round

from odoo.addons.base.models.res_partner import _tz_get
from odoo.addons.base.models.res_users import CryptContext

_logger = logging.getLogger(__name__)

RESULT_OK = 0
RESULT_TEMPORARY = 1
RESULT_BAD_ACCOUNT_FORMAT = 4
RESULT_ACCOUNT_NOT_FOUND = 5
RESULT_REFUSED = 7
RESULT_TECHNICAL = 8
RESULT_ACCOUNT_INACTIVE = 79
RESULT_NOT_FINISHED = 90
RESULT_SUM_TOO_SMALL = 241
RESULT_SUM_TOO_LARGE = 242
RESULT_CANNOT_CHECK = 243
RESULT_OTHER = 300

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
TXN_ID_RE = re.compile(r"^\d{1,20}$")
SUM_RE = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
TXN_DATE_FORMAT = "%Y%m%d%H%M%S"
MIN_PASSWORD_LENGTH = 16

# Terminal passwords are long random secrets checked on every request (tens of
# requests a second): like Odoo's API keys (res_users.KEY_CRYPT_CONTEXT) they
# use pbkdf2_sha512 with few rounds, enough against leaks of random secrets.
TERMINAL_CRYPT_CONTEXT = CryptContext(["pbkdf2_sha512"], pbkdf2_sha512__rounds=6000)
# Each request of a network sends the same password: once it matched a hash,
# this worker remembers a keyed digest of it (the key never leaves the
# process) and checks the next requests against the digest instead of
# hashing again. Keyed by the stored hash, so a new password drops it; a
# wrong password still costs a full hash.
VERIFIED_KEY = os.urandom(32)
VERIFIED_PASSWORDS = {}  # password hash -> HMAC-SHA256 of the password
VERIFIED_MAX = 256


class OsmpError(Exception):
    """A request the protocol answers with a non-zero result code."""

    def __init__(self, result, comment):
        super().__init__(comment)
        self.result = result
        self.comment = comment


class SecurityTerminalProvider(models.Model):
    _name = "security.terminal.provider"
    _description = "Payment Terminal Provider (OSMP/QIWI)"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Endpoint name: /security_billing/terminal/<code>. Lower-case "
        "letters, digits, '-' and '_'. It is part of the payments' external "
        "ids, so it cannot change once payments were received.",
    )
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        tracking=True,
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Journal the terminal payments are posted in.",
    )
    category_id = fields.Many2one(
        "security.payment.category",
        string="Payment Category",
        required=True,
        default=lambda self: self.env["security.payment.category"]._get_by_code(
            "terminal"
        ),
    )
    allowed_networks = fields.Text(
        string="Allowed Source Networks",
        required=True,
        tracking=True,
        help="Addresses or CIDR networks the provider calls from, one per line "
        "(commas and spaces also separate). Other addresses get 403.",
    )
    login = fields.Char(required=True, help="HTTP Basic user name of the provider.")
    password = fields.Char(
        compute="_compute_password",
        inverse="_inverse_password",
        store=False,
        copy=False,
        help="Type a new password (at least 16 characters) to replace the stored "
        "one; only its hash is kept.",
    )
    password_hash = fields.Char(copy=False, readonly=True, groups="base.group_system")
    password_set = fields.Boolean(compute="_compute_password_set")
    min_amount = fields.Monetary(string="Minimum Sum", default=1.0, tracking=True)
    max_amount = fields.Monetary(
        string="Maximum Sum",
        default=15000.0,
        tracking=True,
        help="Zero means no maximum.",
    )
    tz = fields.Selection(
        _tz_get,
        string="Time Zone",
        required=True,
        default=lambda self: self.env.company.partner_id.tz or "Europe/Moscow",
        help="Time zone of the txn_date sent by the provider and of its daily "
        "registry.",
    )
    payments_paused = fields.Boolean(
        tracking=True,
        help="Pay requests answer 1 (temporary error) so the network retries "
        "later, e.g. during a closing; checks still work.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Technical User",
        help="User recorded as author of the terminal payments (access checks "
        "are bypassed for the protocol). Empty: the superuser.",
    )
    alert_user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        help="Accountant who gets an activity when something needs checking, "
        "e.g. a txn_id reused with another sum.",
    )
    terminal_payment_ids = fields.One2many(
        "security.terminal.payment", "provider_id", string="Terminal Payments"
    )
    terminal_payment_count = fields.Integer(compute="_compute_terminal_payment_count")

    _sql_constraints = [
        (
            "code_uniq",
            "unique (code)",
            "A provider code is its endpoint URL: it must be unique (so also "
            "per company).",
        ),
        (
            "amounts_check",
            "CHECK (min_amount >= 0 AND max_amount >= 0)",
            "Minimum and maximum sums cannot be negative.",
        ),
    ]

    # ------------------------------------------------------------------ compute
    def _compute_password(self):
        self.password = False

    def _inverse_password(self):
        for provider in self.filtered("password"):
            provider._check_password_strength(provider.password)
            provider.sudo().password_hash = provider._get_crypt_context().hash(
                provider.password
            )

    def _compute_password_set(self):
        hashes = {p.id: p.password_hash for p in self.sudo()}
        for provider in self:
            provider.password_set = bool(hashes.get(provider.id))

    def _compute_terminal_payment_count(self):
        groups = self.env["security.terminal.payment"]._read_group(
            [("provider_id", "in", self.ids)], ["provider_id"], ["__count"]
        )
        counts = {provider.id: count for provider, count in groups}
        for provider in self:
            provider.terminal_payment_count = counts.get(provider.id, 0)

    # -------------------------------------------------------------- constraints
    @api.constrains("code")
    def _check_code(self):
        for provider in self:
            if not CODE_RE.match(provider.code or ""):
                raise ValidationError(
                    _(
                        "Provider code %(code)r: use 1 to 32 lower-case letters, "
                        "digits, '-' or '_', starting with a letter or digit.",
                        code=provider.code,
                    )
                )

    @api.constrains("allowed_networks")
    def _check_allowed_networks(self):
        for provider in self:
            provider._get_allowed_networks()

    @api.constrains("min_amount", "max_amount")
    def _check_amounts(self):
        for provider in self:
            if provider.max_amount and provider.max_amount < provider.min_amount:
                raise ValidationError(
                    _(
                        "Provider %(name)s: the maximum sum is below the minimum.",
                        name=provider.name,
                    )
                )

    def write(self, vals):
        if "code" in vals:
            for provider in self.filtered(lambda p: p.code != vals["code"]):
                if provider.terminal_payment_ids:
                    raise UserError(
                        _(
                            "Provider %(name)s received payments: its code is in "
                            "their external ids and cannot change.",
                            name=provider.name,
                        )
                    )
        return super().write(vals)

    @api.model
    def _check_password_strength(self, password):
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationError(
                _(
                    "The terminal password must have at least %(count)s "
                    "characters (use a random secret).",
                    count=MIN_PASSWORD_LENGTH,
                )
            )

    # ------------------------------------------------------------ authentication
    @api.model
    def _get_crypt_context(self):
        return TERMINAL_CRYPT_CONTEXT

    def _get_allowed_networks(self):
        """Parse the CIDR list; raise ValidationError naming a bad entry."""
        self.ensure_one()
        networks = []
        for entry in re.split(r"[\s,;]+", self.allowed_networks or ""):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError as exc:
                raise ValidationError(
                    _(
                        "Provider %(name)s: %(entry)r is not an IP address or "
                        "CIDR network (%(error)s).",
                        name=self.name,
                        entry=entry,
                        error=exc,
                    )
                ) from exc
        if not networks:
            raise ValidationError(
                _(
                    "Provider %(name)s: list at least one source network.",
                    name=self.name,
                )
            )
        return networks

    def _osmp_address_allowed(self, address):
        """True when ``address`` (the request's remote address) is listed."""
        self.ensure_one()
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._get_allowed_networks())

    def _osmp_credentials_ok(self, login, password):
        """Check HTTP Basic credentials in (nearly) constant time."""
        self.ensure_one()
        password_hash = self.sudo().password_hash
        login_ok = consteq(login or "", self.login or "")
        if not password_hash or not password:
            return False
        password_ok = self._osmp_password_matches(password, password_hash)
        return login_ok and password_ok

    @api.model
    def _osmp_password_matches(self, password, password_hash):
        """Verify ``password`` against the stored hash, fast once it matched."""
        digest = hmac.new(VERIFIED_KEY, password.encode(), hashlib.sha256).digest()
        known = VERIFIED_PASSWORDS.get(password_hash)
        if known is not None and hmac.compare_digest(known, digest):
            return True
        if not self._get_crypt_context().verify(password, password_hash):
            return False
        if len(VERIFIED_PASSWORDS) >= VERIFIED_MAX:
            VERIFIED_PASSWORDS.clear()
        VERIFIED_PASSWORDS[password_hash] = digest
        return True

    @api.model
    def _osmp_get_provider(self, code):
        """Active provider of ``code`` in a protocol environment, or empty.

        The protocol runs as the provider's technical user (or the superuser)
        with access checks bypassed, in the provider's company.
        """
        provider = self.sudo().search([("code", "=", code or "")], limit=1)
        if not provider:
            return provider
        user = provider.user_id.id or SUPERUSER_ID
        return provider.with_user(user).sudo().with_company(provider.company_id)

    # ------------------------------------------------------------------ protocol
    def _osmp_check(self, params):
        """Answer a ``check``: can ``account`` be paid, and how much is owed."""
        self.ensure_one()
        answer = self._osmp_prepare_answer(params)
        try:
            self._osmp_parse_txn_id(params)
            amount = self._osmp_parse_sum(params, required=False)
            partner = self._osmp_find_partner(params.get("account"))
            if amount is not None:
                self._osmp_check_sum_limits(amount)
        except OsmpError as error:
            return dict(answer, result=error.result, comment=error.comment)
        return dict(
            answer,
            result=RESULT_OK,
            comment=_("OK"),
            fields=self._osmp_prepare_check_fields(partner),
        )

    def _osmp_pay(self, params):
        """Answer a ``pay``: record the payment once per txn_id.

        Database concurrency errors are not caught: Odoo's request layer
        (``odoo.service.model.retrying``) rolls back and replays the request,
        which then finds the first request's record.
        """
        self.ensure_one()
        answer = self._osmp_prepare_answer(params)
        try:
            txn_id = self._osmp_parse_txn_id(params)
            amount = self._osmp_parse_sum(params, required=True)
            txn_date = self._osmp_parse_txn_date(params)
            existing = self._osmp_find_terminal_payment(txn_id)
            if existing:
                return dict(answer, **existing._osmp_replay(params, amount))
            if self.payments_paused:
                raise OsmpError(
                    RESULT_TEMPORARY, _("Payments are paused, retry later.")
                )
            partner = self._osmp_find_partner(params.get("account"))
            self._osmp_check_sum_limits(amount)
            self._osmp_check_configuration()
            terminal_payment = self._osmp_register(
                txn_id, partner, amount, txn_date, params
            )
        except OsmpError as error:
            return dict(answer, result=error.result, comment=error.comment)
        return dict(answer, **terminal_payment._osmp_get_answer())

    def _osmp_unknown_command(self, params):
        return dict(
            self._osmp_prepare_answer(params),
            result=RESULT_OTHER,
            comment=_(
                "Unknown command %(command)r: use check or pay.",
                command=(params.get("command") or "")[:20],
            ),
        )

    def _osmp_prepare_answer(self, params):
        """Answer skeleton echoing the request's well-formed values."""
        txn_id = params.get("txn_id") or ""
        return {
            "osmp_txn_id": txn_id if TXN_ID_RE.match(txn_id) else None,
            "prv_txn": None,
            "sum": self._osmp_format_sum(params.get("sum")),
            "result": RESULT_OTHER,
            "comment": "",
            "fields": [],
        }

    @api.model
    def _osmp_format_sum(self, text):
        if text is None or not SUM_RE.match(text):
            return None
        return "%.2f" % Decimal(text)

    # ------------------------------------------------------------------ parsing
    @api.model
    def _osmp_parse_txn_id(self, params):
        txn_id = params.get("txn_id") or ""
        if not TXN_ID_RE.match(txn_id):
            raise OsmpError(
                RESULT_OTHER,
                _("txn_id %(txn)r must be 1 to 20 digits.", txn=txn_id[:40]),
            )
        return txn_id

    @api.model
    def _osmp_parse_sum(self, params, required):
        text = params.get("sum")
        if text is None and not required:
            return None
        if not SUM_RE.match(text or ""):
            raise OsmpError(
                RESULT_OTHER,
                _(
                    "sum %(sum)r must be a decimal with a point and at most two "
                    "decimals, e.g. 150.00.",
                    sum=(text or "")[:40],
                ),
            )
        return float(Decimal(text))

    def _osmp_parse_txn_date(self, params):
        """Parse txn_date (provider's local time) into a naive UTC datetime."""
        text = params.get("txn_date") or ""
        try:
            if not re.match(r"^\d{14}$", text):
                raise ValueError(text)
            local = datetime.strptime(text, TXN_DATE_FORMAT)
        except ValueError as exc:
            raise OsmpError(
                RESULT_OTHER,
                _("txn_date %(date)r must be YYYYMMDDHHMMSS.", date=text[:40]),
            ) from exc
        return self._osmp_local_to_utc(local)

    def _osmp_local_to_utc(self, local):
        self.ensure_one()
        aware = pytz.timezone(self.tz).localize(local)
        return aware.astimezone(pytz.utc).replace(tzinfo=None)

    def _osmp_utc_to_local(self, utc):
        self.ensure_one()
        aware = pytz.utc.localize(utc)
        return aware.astimezone(pytz.timezone(self.tz)).replace(tzinfo=None)

    # ---------------------------------------------------------------- business
    def _osmp_find_partner(self, account):
        """The subscriber of ``account`` or OsmpError (4, 5, 79 or 243)."""
        self.ensure_one()
        partners = self.env["res.partner"]
        try:
            ref = partners._security_parse_account_ref(account)
        except UserError as exc:
            raise OsmpError(RESULT_BAD_ACCOUNT_FORMAT, exc.args[0]) from exc
        found = partners.with_context(active_test=False).search(
            self._get_osmp_partner_domain(ref), limit=2
        )
        if not found:
            raise OsmpError(
                RESULT_ACCOUNT_NOT_FOUND,
                _("Account number %(ref)s was not found.", ref=ref),
            )
        if len(found) > 1:
            raise OsmpError(
                RESULT_CANNOT_CHECK,
                _("Account number %(ref)s matches several subscribers.", ref=ref),
            )
        if not self._osmp_partner_is_active(found):
            raise OsmpError(
                RESULT_ACCOUNT_INACTIVE,
                _("Account %(ref)s is not active.", ref=ref),
            )
        return found

    def _get_osmp_partner_domain(self, ref):
        return [
            ("security_account_ref", "=", ref),
            ("company_id", "in", [False, self.company_id.id]),
        ]

    @api.model
    def _osmp_partner_is_active(self, partner):
        """Archived or former subscribers are inactive; so are subscribers
        whose MMR contracts are all terminated, unless they still owe money."""
        if not partner.active or not partner.security_is_subscriber:
            return False
        contracts = partner.security_contract_ids
        if contracts and all(c.security_state == "terminated" for c in contracts):
            return bool(partner.security_balance_due)
        return True

    def _osmp_check_sum_limits(self, amount):
        self.ensure_one()
        rounding = self.currency_id.rounding
        too_small = (
            float_compare(amount, self.min_amount, precision_rounding=rounding) < 0
            or float_compare(amount, 0.0, precision_rounding=rounding) <= 0
        )
        if too_small:
            raise OsmpError(
                RESULT_SUM_TOO_SMALL,
                _("The sum is below the minimum %(min).2f.", min=self.min_amount),
            )
        if (
            self.max_amount
            and float_compare(amount, self.max_amount, precision_rounding=rounding) > 0
        ):
            raise OsmpError(
                RESULT_SUM_TOO_LARGE,
                _("The sum is above the maximum %(max).2f.", max=self.max_amount),
            )

    def _osmp_check_configuration(self):
        self.ensure_one()
        journal = self.journal_id
        if (
            not journal.active
            or journal.type not in ("bank", "cash")
            or journal.company_id not in self.company_id.parent_ids
            or not journal.inbound_payment_method_line_ids
            or not self.category_id.active
        ):
            _logger.error("Terminal provider %s is misconfigured", self.code)
            raise OsmpError(
                RESULT_TECHNICAL,
                _("The provider is misconfigured; the accountant was told."),
            )

    def _osmp_prepare_check_fields(self, partner):
        """Display fields of a successful check: masked name, amount owed."""
        if "security_recommended_amount" in partner._fields:
            owed = partner.security_recommended_amount
        else:
            owed = partner.security_balance_due
        owed = float_round(owed or 0.0, precision_rounding=self.currency_id.rounding)
        return [
            ("disp1", self._osmp_mask_name(partner.name)),
            ("disp2", "%.2f" % owed),
        ]

    @api.model
    def _osmp_mask_name(self, name):
        """'Ivan Petrov' -> 'I*** P***': enough to recognise, not to learn."""
        return " ".join(word[0] + "***" for word in (name or "").split())

    def _osmp_find_terminal_payment(self, txn_id):
        return self.env["security.terminal.payment"].search(
            [("provider_id", "=", self.id), ("txn_id", "=", txn_id)], limit=1
        )

    def _osmp_external_id(self, txn_id):
        self.ensure_one()
        return f"osmp:{self.code}:{txn_id}"

    def _osmp_register(self, txn_id, partner, amount, txn_date, params):
        """Post the payment through the core entry point, record the txn."""
        self.ensure_one()
        local_date = self._osmp_utc_to_local(txn_date).date()
        today = self._osmp_utc_to_local(fields.Datetime.now()).date()
        try:
            with self.env.cr.savepoint():
                result = self.env["account.payment"]._security_register_payment(
                    partner,
                    amount,
                    external_id=self._osmp_external_id(txn_id),
                    date=min(local_date, today),
                    journal=self.journal_id,
                    category=self.category_id,
                    memo=_(
                        "Terminal %(provider)s txn %(txn)s",
                        provider=self.name,
                        txn=txn_id,
                    ),
                )
        except (UserError, ValidationError) as exc:
            _logger.warning(
                "Terminal %s txn %s refused by the billing: %s", self.code, txn_id, exc
            )
            raise OsmpError(RESULT_REFUSED, exc.args[0]) from exc
        terminal_payments = self.env["security.terminal.payment"].with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True
        )
        return terminal_payments.create(
            self._prepare_terminal_payment_vals(
                txn_id, partner, amount, txn_date, local_date, params, result
            )
        )

    def _prepare_terminal_payment_vals(
        self, txn_id, partner, amount, txn_date, local_date, params, result
    ):
        return {
            "provider_id": self.id,
            "txn_id": txn_id,
            "account": partner.security_account_ref,
            "amount": amount,
            "txn_date": txn_date,
            "txn_day": local_date,
            "partner_id": partner.id,
            "payment_id": result["payment_id"],
            "company_id": self.company_id.id,
            "result": RESULT_OK,
        }

    # ------------------------------------------------------------------ actions
    def action_view_terminal_payments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "security_billing_bank.action_security_terminal_payment"
        )
        action["domain"] = [("provider_id", "=", self.id)]
        action["context"] = {"default_provider_id": self.id}
        return action
