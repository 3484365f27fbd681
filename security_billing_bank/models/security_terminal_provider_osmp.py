"""The OSMP/QIWI check-pay protocol of the terminal providers: answering a
``check`` and recording a ``pay`` (result codes in ``tools/osmp.py``)."""

import logging
from datetime import datetime
from decimal import Decimal

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_round

from ..tools.osmp import (
    RESULT_ACCOUNT_INACTIVE,
    RESULT_ACCOUNT_NOT_FOUND,
    RESULT_BAD_ACCOUNT_FORMAT,
    RESULT_CANNOT_CHECK,
    RESULT_OK,
    RESULT_OTHER,
    RESULT_REFUSED,
    RESULT_SUM_TOO_LARGE,
    RESULT_SUM_TOO_SMALL,
    RESULT_TECHNICAL,
    RESULT_TEMPORARY,
    SUM_RE,
    TXN_DATE_FORMAT,
    TXN_DATE_RE,
    TXN_ID_RE,
    OsmpError,
    format_sum,
    mask_name,
)

_logger = logging.getLogger(__name__)


class SecurityTerminalProvider(models.Model):
    _inherit = "security.terminal.provider"

    # ------------------------------------------------------------------ protocol
    def _osmp_check(self, params):
        """Answer a ``check``: can ``account`` be paid, and how much is owed.

        Writes nothing. Runs in the protocol environment of
        ``_osmp_get_provider`` (technical user, access checks bypassed).

        :param dict params: the request's values of ``tools.osmp.PARAMS``
            (strings, or None when absent): ``txn_id`` and ``account``
            required, ``sum`` optional (checked against the limits if given)
        :return: the answer for ``tools.osmp.render_xml``: ``result`` 0 with
            ``fields`` (masked name, amount owed), else the result code of
            the refusal and its ``comment``
        :rtype: dict
        """
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

        The payment is posted and allocated through the core entry point
        (``_osmp_record_payment``); a repeated txn_id answers the recorded
        payment (``security.terminal.payment._osmp_replay``). The endpoint
        calls ``_osmp_wait_for_account`` first, so that a pay does not fail
        to serialize on the lines of another pay of the same subscriber.
        Database concurrency errors left (e.g. the same txn_id sent twice at
        once) are not caught: Odoo's request layer
        (``odoo.service.model.retrying``) rolls back and replays the request,
        which then finds the first request's record.

        :param dict params: the request's values of ``tools.osmp.PARAMS``
            (strings, or None when absent): ``txn_id``, ``account``, ``sum``
            and ``txn_date`` required
        :return: the answer for ``tools.osmp.render_xml``: ``result`` 0 with
            ``prv_txn`` (the payment's id), else the result code of the
            refusal and its ``comment``
        :rtype: dict
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
            terminal_payment = self._osmp_record_payment(
                txn_id, partner, amount, txn_date, params
            )
        except OsmpError as error:
            return dict(answer, result=error.result, comment=error.comment)
        return dict(answer, **terminal_payment._osmp_get_answer())

    def _osmp_unknown_command(self, params):
        """Answer a request whose ``command`` is neither check nor pay.

        :param dict params: the request's values of ``tools.osmp.PARAMS``
        :return: the answer for ``tools.osmp.render_xml``, ``result`` 300
        :rtype: dict
        """
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
            "sum": format_sum(params.get("sum")),
            "result": RESULT_OTHER,
            "comment": "",
            "fields": [],
        }

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
            if not TXN_DATE_RE.match(text):
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
        partners = partners.with_context(active_test=False)
        found = partners.search_fetch(
            self._get_osmp_partner_domain(ref),
            self._osmp_prefetch_fields(partners),
            limit=2,
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
        # the MMR contracts (``security_contract_ids``, its domain) and their
        # status, by one query
        field = partner._fields["security_contract_ids"]
        contracts = partner.env[field.comodel_name].search_fetch(
            [(field.inverse_name, "=", partner.id), *field.get_domain_list(partner)],
            ["security_state"],
        )
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
            ("disp1", mask_name(partner.name)),
            ("disp2", "%.2f" % owed),
        ]

    def _osmp_find_terminal_payment(self, txn_id):
        return self.env["security.terminal.payment"].search(
            [("provider_id", "=", self.id), ("txn_id", "=", txn_id)], limit=1
        )

    def _osmp_wait_for_account(self, params):
        """Before a pay: wait until no other pay of the subscriber of
        ``account`` is in progress, and go on in a new transaction holding
        its payment lock (``account.payment._security_hold_subscriber``).

        Called by the endpoint, which owns the request's transaction, before
        anything is written in it: the pay then reads the database as it is
        once the previous pay of the account committed, and neither waits on
        its lines nor fails to serialize. Does nothing when the account is
        refused (``_osmp_pay`` answers the refusal).

        :param dict params: the request's values of ``tools.osmp.PARAMS``
        :return: None
        """
        self.ensure_one()
        try:
            partner = self._osmp_find_partner(params.get("account"))
        except OsmpError:
            return
        self.env["account.payment"]._security_hold_subscriber(partner)

    def _osmp_external_id(self, txn_id):
        self.ensure_one()
        return f"osmp:{self.code}:{txn_id}"

    def _osmp_record_payment(self, txn_id, partner, amount, txn_date, params):
        """Post the payment through the core entry point, record the txn.

        :param str txn_id: the network's transaction id (1 to 20 digits)
        :param partner: the subscriber paid (``_osmp_find_partner``)
        :param float amount: the sum paid, within the provider's limits
        :param datetime txn_date: the terminal's date, naive UTC
        :param dict params: the request's values
        :return: the new ``security.terminal.payment``
        :raise OsmpError: result 7 when the billing refuses the payment
        """
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
