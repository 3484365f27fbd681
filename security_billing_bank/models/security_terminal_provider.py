"""Payment terminal networks speaking the OSMP/QIWI check-pay protocol: their
configuration and credentials (source networks, HTTP Basic password).

The protocol itself: ``security_terminal_provider_osmp.py`` (check and pay)
and ``tools/osmp.py`` (result codes, parameter formats).
"""

import hashlib
import hmac
import ipaddress
import os
import re

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import consteq

from odoo.addons.base.models.res_partner import _lang_get, _tz_get
from odoo.addons.base.models.res_users import CryptContext

from ..tools.osmp import CODE_RE

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
    active = fields.Boolean(string="Provider Enabled", default=True, tracking=True)
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
        default=lambda self: self._default_tz(),
        help="Time zone of the txn_date sent by the provider and of its daily "
        "registry.",
    )
    lang = fields.Selection(
        _lang_get,
        string="Terminal Language",
        help="Language of the texts our answers show on the terminals' screens "
        "(refusal comments). A network's screens speak one language, whoever "
        "pays and for whichever subscriber; the amount owed is sent as a plain "
        "number the terminal formats. Empty: the company's language.",
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
    @api.model
    def _default_tz(self):
        """The company's time zone, else the user's, else UTC."""
        return self.env.company.partner_id.tz or self.env.user.tz or "UTC"

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
        """Whether the request comes from one of the allowed networks.

        :param str address: the request's remote address (IPv4 or IPv6; an
            IPv4-mapped IPv6 address counts as its IPv4 address)
        :return: True when ``address`` is in ``allowed_networks``
        :rtype: bool
        """
        self.ensure_one()
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._get_allowed_networks())

    def _osmp_credentials_ok(self, login, password):
        """Check HTTP Basic credentials in (nearly) constant time.

        :param str login: the request's user name, or None
        :param str password: the request's password, or None
        :return: True when both match the provider's login and password hash
        :rtype: bool
        """
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
        with access checks bypassed, in the provider's company and language
        (``_osmp_lang``).

        :param str code: the provider code of the endpoint's URL
        :return: the provider (``_osmp_check``, ``_osmp_pay`` then run on
            it), or an empty recordset
        """
        providers = self.sudo()
        provider = providers.search_fetch(
            [("code", "=", code or "")],
            self._osmp_prefetch_fields(providers),
            limit=1,
        )
        if not provider:
            return provider
        user = provider.user_id.id or SUPERUSER_ID
        return (
            provider.with_user(user)
            .sudo()
            .with_company(provider.company_id)
            .with_context(lang=provider._osmp_lang())
        )

    @api.model
    def _osmp_prefetch_fields(self, records):
        """The fields a first read of ``records``' model fetches (its stored
        prefetched fields the environment may read): a lookup of the protocol
        fetches them with its search (``search_fetch``), one query instead of
        a search and a read."""
        return [
            name
            for name, field in records._fields.items()
            if field.store
            and field.prefetch is True
            and field.is_accessible(records.env)
        ]

    def _osmp_lang(self):
        """Language of the texts sent to the terminals: the provider's, else
        its company's, else English."""
        self.ensure_one()
        return self.lang or self.company_id.partner_id.lang or "en_US"

    # ------------------------------------------------------------------ actions
    def action_view_terminal_payments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "security_billing_bank.action_security_terminal_payment"
        )
        action["domain"] = [("provider_id", "=", self.id)]
        action["context"] = {"default_provider_id": self.id}
        return action
