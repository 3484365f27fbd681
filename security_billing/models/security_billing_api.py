import math
import re
from datetime import date as Date
from datetime import datetime as DateTime
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import float_compare, float_round

from ..tools.user_lang import in_user_lang

API_GROUPS = (
    "security_billing.group_security_billing_api",
    "security_billing.group_security_billing_manager",
)
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EXTERNAL_ID_MAX_LEN = 100
DEFAULT_API_CATEGORY = "online"
# worst first: the account's status is the worst of its running contracts
STATUS_ORDER = ("suspended", "warning", "active", "terminated")


class SecurityBillingApi(models.AbstractModel):
    """The documented integration surface for XML-RPC integrators.

    Public ``@api.model`` methods only; each checks the caller belongs to the
    API or manager group, validates its arguments with a clear error naming
    the problem, and writes nothing on bad input.
    """

    _name = "security.billing.api"
    _description = "Security Billing Integrator API"

    # ------------------------------------------------------------ public API
    @api.model
    @in_user_lang
    def account_status(self, account_ref):
        """Balance, dates, status and sites of one subscriber account.

        :param account_ref: the account number printed on invoices (string
            or integer, with its check digit).
        :return: ``{"account_ref", "name", "currency", "balance",
            "balance_due", "past_due", "paid_until", "next_payment_date",
            "status", "recommended_amount", "autopay", "sites": [...]}`` (see
            README.md, "Integrator API (XML-RPC)").
        :rtype: dict
        :raises AccessError: the caller is not in the API or manager group.
        :raises UserError: the account number is malformed or unknown.
        """
        self._check_api_access()
        partner = self._get_subscriber(account_ref)
        return self._api_status_dicts(partner)[0]

    @api.model
    @in_user_lang
    def register_payment(
        self, account_ref, amount, external_id, date=None, category=None
    ):
        """Register a payment, idempotent per ``external_id``, through the
        payment entry point (allocated oldest first).

        :param account_ref: the subscriber's account number (string or
            integer).
        :param amount: positive number (int, float or string such as
            ``"25.50"``), at most 2 decimals.
        :param str external_id: the integrator's unique id of the payment
            (stored as ``api:<external_id>``).
        :param str date: ISO date ``YYYY-MM-DD``, not in the future (default:
            today).
        :param str category: payment category code (default ``online``).
        :return: ``{"payment_id", "duplicate", "allocations": [{"invoice",
            "invoice_id", "amount"}]}``; a repeated ``external_id`` returns
            the first result with ``duplicate: True`` and writes nothing.
        :rtype: dict
        :raises AccessError: the caller is not in the API or manager group.
        :raises UserError: an argument is invalid (nothing is written), or
            ``external_id`` was used for another account or amount.
        """
        self._check_api_access()
        partner = self._get_subscriber(account_ref)
        amount = self._parse_amount(amount)
        external_id = self._parse_external_id(external_id)
        pay_date = self._parse_date(date)
        category = self._parse_category(category)
        # the API group may not write idempotency keys itself: sudo after the
        # checks above (create_uid stays the API user)
        result = (
            self.env["account.payment"]
            .sudo()
            ._security_register_payment(
                partner,
                amount,
                external_id=f"api:{external_id}",
                date=pay_date,
                category=category,
            )
        )
        if result["duplicate"]:
            self._check_duplicate_matches(external_id, partner, amount)
        return self._prepare_payment_result(result)

    @api.model
    @in_user_lang
    def list_debtors(self, min_days_overdue=1):
        """``account_status`` of every subscriber with an MMR invoice overdue
        by at least ``min_days_overdue`` days, by account number.

        :param int min_days_overdue: whole number >= 0 (0: due today or
            earlier).
        :return: the ``account_status`` dicts of the debtors.
        :rtype: list
        :raises AccessError: the caller is not in the API or manager group.
        :raises UserError: ``min_days_overdue`` is not a whole number >= 0.
        """
        self._check_api_access()
        days = self._parse_days(min_days_overdue)
        return self._api_status_dicts(self._get_debtors(days))

    @api.model
    @in_user_lang
    def export_app_status(self, vendor):
        """The device-app status file the company's connector of ``vendor``
        (``ajax``, ``webhook`` or ``csv``) would upload now, as the connector's
        "Download file" button gives it; nothing is sent or logged.

        :param str vendor: ``ajax``, ``webhook`` or ``csv``.
        :return: ``{"filename", "content", "records", "skipped",
            "skipped_sites": [{"site_id", "site", "hub_id", "reason"}]}``.
        :rtype: dict
        :raises AccessError: the caller is not in the API or manager group.
        :raises UserError: the vendor is unknown.
        """
        self._check_api_access()
        Connector = self.env["security.app.connector"]
        connector = Connector._get_for_vendor(vendor)
        payload = connector.sudo()._build_payload()
        return Connector._public_payload(payload)

    @api.model
    @in_user_lang
    def request_promised_payment(self, account_ref, amount=None):
        """Ask for a promised payment (temporary credit) for a subscriber.

        :param account_ref: the subscriber's account number (string or
            integer).
        :param amount: positive number; empty: the maximum the company rules
            allow.
        :return: ``{"ok", "amount", "due_date", "reason"}``: a refusal is not
            an error, ``ok`` is False and ``reason`` says which rule refused
            it.
        :rtype: dict
        :raises AccessError: the caller is not in the API or manager group.
        :raises UserError: the account number or the amount is invalid.
        """
        self._check_api_access()
        partner = self._get_subscriber(account_ref)
        if amount is not None:
            amount = self._parse_amount(amount)
        result = partner.sudo()._security_request_promised_payment(
            amount=amount, channel="api"
        )
        return {key: result[key] for key in ("ok", "amount", "due_date", "reason")}

    # ------------------------------------------------------ access and input
    @api.model
    def _check_api_access(self):
        if self.env.su or any(self.env.user.has_group(g) for g in API_GROUPS):
            return
        raise AccessError(
            _(
                "User %(user)s may not use the Security Billing API: add the "
                "user to the group 'Security Billing / API'.",
                user=self.env.user.login,
            )
        )

    @api.model
    def _get_subscriber(self, account_ref):
        """The subscriber of an account number (string or integer)."""
        if isinstance(account_ref, bool) or not isinstance(account_ref, str | int):
            raise ValidationError(
                _(
                    "Invalid account number %(ref)r: expected digits as a "
                    "string or an integer.",
                    ref=account_ref,
                )
            )
        partner = self.env["res.partner"]._security_find_by_account_ref(
            str(account_ref)
        )
        if not partner.security_is_subscriber:
            raise ValidationError(
                _(
                    "Account number %(ref)s is not a subscriber account.",
                    ref=account_ref,
                )
            )
        return partner

    @api.model
    def _parse_amount(self, amount):
        """A positive amount with at most the currency's decimals."""
        value = amount
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                value = None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValidationError(
                _(
                    "Invalid amount %(amount)r: not a number (use digits and a "
                    "dot, e.g. 25.50).",
                    amount=amount,
                )
            )
        currency = self.env.company.currency_id
        if float_compare(value, 0.0, precision_rounding=currency.rounding) <= 0:
            raise ValidationError(
                _("Invalid amount %(amount)r: it must be positive.", amount=amount)
            )
        rounded = float_round(value, precision_rounding=currency.rounding)
        if not math.isclose(rounded, value, abs_tol=1e-9):
            raise ValidationError(
                _(
                    "Invalid amount %(amount)r: more than %(digits)s decimals.",
                    amount=amount,
                    digits=currency.decimal_places,
                )
            )
        return rounded

    @api.model
    def _parse_external_id(self, external_id):
        """The caller's unique id of the payment, as a non-empty string."""
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if not isinstance(external_id, str) or not external_id.strip():
            raise ValidationError(
                _(
                    "Missing external_id: give your unique id of the payment "
                    "so that a repeated call does not pay twice."
                )
            )
        external_id = external_id.strip()
        if len(external_id) > EXTERNAL_ID_MAX_LEN or not external_id.isprintable():
            raise ValidationError(
                _(
                    "Invalid external_id %(id)r: at most %(max)s printable characters.",
                    id=external_id,
                    max=EXTERNAL_ID_MAX_LEN,
                )
            )
        return external_id

    @api.model
    def _parse_date(self, value):
        """An ISO date (YYYY-MM-DD) not in the future; empty means today."""
        today = fields.Date.context_today(self)
        if value in (None, False, ""):
            return today
        if isinstance(value, DateTime):
            value = value.date()
        parsed = self._parse_iso_date(value) if isinstance(value, str) else value
        if not isinstance(parsed, Date):
            raise ValidationError(
                _(
                    "Invalid date %(date)r: expected an ISO date YYYY-MM-DD.",
                    date=value,
                )
            )
        if parsed > today:
            raise ValidationError(
                _(
                    "Invalid date %(date)s: it is in the future (today is %(today)s).",
                    date=parsed,
                    today=today,
                )
            )
        return parsed

    @api.model
    def _parse_iso_date(self, text):
        """The date of a strict ``YYYY-MM-DD`` string, else None."""
        text = text.strip()
        if not ISO_DATE_RE.match(text):
            return None
        try:
            return Date.fromisoformat(text)
        except ValueError:
            return None

    @api.model
    def _parse_category(self, code):
        """The payment category of ``code`` (default: online)."""
        categories = self.env["security.payment.category"]
        if code in (None, False, ""):
            code = DEFAULT_API_CATEGORY
        category = categories._get_by_code(code) if isinstance(code, str) else None
        if not category:
            codes = sorted(set(categories.search([]).mapped("code")))
            raise ValidationError(
                _(
                    "Unknown payment category %(code)r: use one of %(codes)s.",
                    code=code,
                    codes=", ".join(codes),
                )
            )
        return category

    @api.model
    def _parse_days(self, days):
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValidationError(
                _(
                    "Invalid min_days_overdue %(days)r: expected a whole number >= 0.",
                    days=days,
                )
            )
        return days

    @api.model
    def _check_duplicate_matches(self, external_id, partner, amount):
        """A repeated external_id must repeat the same payment."""
        request = (
            self.env["security.payment.request"]
            .sudo()
            .search(
                [
                    ("external_id", "=", f"api:{external_id}"),
                    ("company_id", "=", self.env.company.id),
                ],
                limit=1,
            )
        )
        currency = self.env.company.currency_id
        if (
            request.partner_id != partner.commercial_partner_id
            or currency.compare_amounts(request.amount, amount)
        ):
            raise ValidationError(
                _(
                    "external_id %(id)s was already used for another payment "
                    "(account %(ref)s, amount %(amount)s).",
                    id=external_id,
                    ref=request.partner_id.security_account_ref,
                    amount=request.amount,
                )
            )

    # -------------------------------------------------------------- builders
    @api.model
    def _prepare_payment_result(self, result):
        return {
            "payment_id": result["payment_id"],
            "duplicate": bool(result["duplicate"]),
            "allocations": [
                {
                    "invoice": alloc["invoice"],
                    "invoice_id": alloc.get("invoice_id", False),
                    "amount": alloc["amount"],
                }
                for alloc in result.get("allocations", [])
            ],
        }

    @api.model
    def _api_status_dicts(self, partners):
        """``account_status`` dicts of many subscribers in a few queries."""
        if not partners:
            return []
        recommended = partners._security_recommended_amount()
        contracts = self.env["contract.contract"].search(
            [("partner_id", "in", partners.ids), ("security_is_mmr", "=", True)]
        )
        sites = self.env["security.site"].search([("partner_id", "in", partners.ids)])
        currency = self.env.company.currency_id
        result = []
        for partner in partners:
            result.append(
                self._prepare_account_status(
                    partner,
                    currency,
                    recommended.get(partner.id, 0.0),
                    contracts.filtered(lambda c, p=partner: c.partner_id == p),
                    sites.filtered(lambda s, p=partner: s.partner_id == p),
                )
            )
        return result

    @api.model
    def _prepare_account_status(self, partner, currency, recommended, contracts, sites):
        return {
            "account_ref": partner.security_account_ref,
            "name": partner.name,
            "currency": currency.name,
            "balance": currency.round(partner.security_balance or 0.0),
            "balance_due": currency.round(partner.security_balance_due or 0.0),
            "past_due": currency.round(partner.security_past_due or 0.0),
            "paid_until": fields.Date.to_string(partner.security_paid_until),
            "next_payment_date": fields.Date.to_string(
                partner.security_next_payment_date
            ),
            "status": self._api_status(contracts),
            "recommended_amount": recommended,
            "autopay": bool(self._api_autopay(partner)),
            "sites": [self._prepare_site_status(site) for site in sites],
        }

    @api.model
    def _prepare_site_status(self, site):
        return {
            "name": site.name,
            "vendor": site.vendor,
            "device_id": site.device_id or False,
            "status": site.security_state or False,
        }

    @api.model
    def _api_status(self, contracts):
        """Worst service status of the contracts; ``none`` without contract."""
        states = set(contracts.mapped("security_state"))
        return next((s for s in STATUS_ORDER if s in states), "none")

    @api.model
    def _api_autopay(self, partner):
        """Whether the subscriber's MMR invoices are charged automatically."""
        return bool(partner.commercial_partner_id.security_autopay_active)

    @api.model
    def _get_debtors(self, days):
        """Subscribers with an open MMR debt due ``days`` days ago or earlier."""
        self.env["account.move.line"].flush_model()
        limit = fields.Date.context_today(self) - timedelta(days=days)
        self.env.cr.execute(
            """
            SELECT DISTINCT l.partner_id
              FROM account_move_line l
             WHERE l.security_in_balance
               AND l.parent_state = 'posted'
               AND l.amount_residual > 0
               AND l.date_maturity <= %s
               AND l.company_id = %s
            """,
            [limit, self.env.company.id],
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        return self.env["res.partner"].search(
            [("id", "in", ids), ("security_is_subscriber", "=", True)],
            order="security_account_ref, id",
        )
