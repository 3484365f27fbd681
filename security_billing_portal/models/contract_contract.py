import math
import re
from datetime import timedelta

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero, format_amount, format_date

AMOUNT_RE = re.compile(r"^\d{1,12}(?:[.,](\d+))?$")


class ContractContract(models.Model):
    _inherit = "contract.contract"

    # ------------------------------------------------------------ billing page
    def _security_portal_card_values(self):
        """One dict per contract for the portal Billing page, set-based.

        Balances come from the contracts' set-based computes; unpaid invoices,
        sites, debts (net of credit) and promised payments are read for all
        the contracts at once.
        """
        today = fields.Date.context_today(self)
        invoices = self._security_portal_unpaid_invoices()
        sites = self.env["security.site"].search([("contract_id", "in", self.ids)])
        states = dict(self._fields["security_state"]._description_selection(self.env))
        promises = (
            self.env["security.promised.payment"].sudo()._promise_data(self, today)
        )
        suspension_days = {}
        cards = []
        for contract in self:
            company = contract.company_id
            if company not in suspension_days and contract.security_past_due:
                suspension_days[company] = contract._security_portal_suspension_days()
            unpaid = invoices.filtered(
                lambda move, c=contract: move.security_contract_id == c
            )
            pay_option = contract._security_portal_pay_option()
            cards.append(
                {
                    "contract": contract,
                    "status": contract._security_portal_status(),
                    "banner": contract._security_portal_banner(
                        unpaid,
                        promises.get(contract.id, {}),
                        pay_option,
                        suspension_days.get(company),
                        today,
                    ),
                    "dates": contract._security_portal_dates(unpaid, today),
                    "pay_option": pay_option,
                    "state_label": states.get(contract.security_state),
                    "invoices": unpaid,
                    "sites": sites.filtered(
                        lambda site, c=contract: site.contract_id == c
                    ),
                    "amount_options": contract._security_portal_amount_options(),
                    "autopay_token": contract._security_autopay_token(),
                }
            )
        return cards

    def _security_portal_unpaid_invoices(self):
        """Open MMR invoices of these contracts, oldest due first."""
        return (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("security_contract_id", "in", self.ids),
                    ("security_is_mmr", "=", True),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                ],
                order="invoice_date_due, id",
            )
        )

    def _security_portal_status(self):
        """Payment status of the card: (code, label, Bootstrap colour)."""
        self.ensure_one()
        rounding = self._security_portal_currency().rounding
        if float_compare(self.security_past_due, 0.0, precision_rounding=rounding) > 0:
            return {"code": "past_due", "label": _("Past due"), "color": "danger"}
        if (
            float_compare(self.security_balance_due, 0.0, precision_rounding=rounding)
            > 0
        ):
            return {"code": "due_soon", "label": _("Payment due"), "color": "warning"}
        return {"code": "paid", "label": _("Paid"), "color": "success"}

    def _security_portal_pay_option(self):
        """The amount the card's Pay button pays: what restores or keeps the
        service (the past due amount), else the balance due, else None."""
        self.ensure_one()
        candidates = {
            option["key"]: option
            for option in self._security_portal_amount_candidates()
        }
        return candidates.get("past_due") or candidates.get("balance_due")

    def _security_portal_banner(
        self, unpaid, promise, pay_option, suspension_days, today
    ):
        """The service bar of the card: why, since when, what to pay.

        ``unpaid``: the open MMR invoices of this contract, oldest due first;
        ``promise``: this contract's ``_promise_data`` entry;
        ``suspension_days``: days past due that suspend (None: no such rule).
        Returns ``{code, color, title, message}``; the colours are those of
        the alarm apps (red suspended, amber warned or promised).
        """
        self.ensure_one()
        currency = self._security_portal_currency()
        state = self.security_state
        overdue_since = unpaid[:1].invoice_date_due
        past_due = format_amount(self.env, self.security_past_due, currency)
        pay = (
            format_amount(self.env, pay_option["amount"], currency)
            if pay_option
            else ""
        )
        if state == "terminated":
            return {
                "code": "terminated",
                "color": "secondary",
                "title": _("Service ended"),
                "message": self.security_status_note,
            }
        if state == "suspended":
            if promise.get("broken"):
                why = _(
                    "Your promised payment expired unpaid on %(date)s.",
                    date=format_date(self.env, promise["broken"]),
                )
            elif overdue_since:
                why = _(
                    "%(amount)s past due since %(date)s.",
                    amount=past_due,
                    date=format_date(self.env, overdue_since),
                )
            else:
                why = ""
            return {
                "code": "suspended",
                "color": "danger",
                "title": _(
                    "Service suspended since %(date)s",
                    date=format_date(self.env, self.security_state_since),
                )
                if self.security_state_since
                else _("Service suspended"),
                "message": " ".join(
                    part
                    for part in (
                        why,
                        self.security_status_note,
                        pay
                        and _("Pay %(amount)s to restore your service.", amount=pay),
                    )
                    if part
                ),
            }
        if promise.get("open_until") and pay_option:
            return {
                "code": "promised",
                "color": "warning",
                "title": _(
                    "Promised payment: service continues until %(date)s",
                    date=format_date(self.env, promise["open_until"]),
                ),
                "message": _(
                    "Pay %(amount)s by %(date)s to keep your service.",
                    amount=pay,
                    date=format_date(self.env, promise["open_until"]),
                ),
            }
        if state == "warning" or (pay_option and pay_option["key"] == "past_due"):
            deadline = (
                overdue_since + timedelta(days=suspension_days)
                if overdue_since and suspension_days is not None
                else False
            )
            message = _(
                "%(amount)s past due since %(date)s.",
                amount=past_due,
                date=format_date(self.env, overdue_since),
            )
            if deadline and deadline > today:
                message += " " + _(
                    "Pay %(amount)s by %(date)s to avoid a suspension.",
                    amount=pay,
                    date=format_date(self.env, deadline),
                )
            elif pay:
                message += " " + _("Pay %(amount)s to keep your service.", amount=pay)
            return {
                "code": "warning",
                "color": "warning",
                "title": _("Payment overdue"),
                "message": message,
            }
        if pay_option:
            return {
                "code": "due",
                "color": "info",
                "title": _("Payment due"),
                "message": _(
                    "%(amount)s due on %(date)s.",
                    amount=pay,
                    date=format_date(self.env, unpaid[:1].invoice_date_due or today),
                ),
            }
        return {
            "code": "paid",
            "color": "success",
            "title": _("Paid"),
            "message": _("Thank you, your account is up to date."),
        }

    def _security_portal_suspension_days(self):
        """Days past due after which the company's dunning rules suspend a
        contract (None when no rule suspends)."""
        self.ensure_one()
        rules = self.env["security.dunning.rule"].sudo()._get_rules(self.company_id)
        days = [rule["days_past_due"] for rule in rules if rule["state"] == "suspended"]
        return days[0] if days else None

    def _security_portal_dates(self, unpaid, today):
        """The dates of the card, each meaning what it says, as
        ``[{key, label, date, amount}]``:

        - *Overdue since*: the due date of the oldest unpaid bill, when past;
          else *Due on*: that date, when a bill is open;
        - *Paid until*: the end of the last period paid with all earlier ones
          paid (the core's paid-until; left out when no period is paid);
        - *Next charge*: the next invoice date (today when the billing run
          has not run yet), with the next period's fee; none once the
          service ended or no line runs.
        """
        self.ensure_one()
        dates = []
        oldest_due = unpaid[:1].invoice_date_due
        if oldest_due and oldest_due < today:
            dates.append(
                {
                    "key": "overdue_since",
                    "label": _("Overdue since"),
                    "date": oldest_due,
                }
            )
        elif oldest_due:
            dates.append({"key": "due_on", "label": _("Due on"), "date": oldest_due})
        if self.security_paid_until:
            dates.append(
                {
                    "key": "paid_until",
                    "label": _("Paid until"),
                    "date": self.security_paid_until,
                }
            )
        if (
            self.security_state != "terminated"
            and self.recurring_next_date
            and self._security_running_lines()
        ):
            dates.append(
                {
                    "key": "next_charge",
                    "label": _("Next charge"),
                    "date": max(self.recurring_next_date, today),
                    "amount": self._security_fee_with_taxes("price_subtotal"),
                }
            )
        return dates

    def _security_portal_currency(self):
        self.ensure_one()
        return self.currency_id or self.company_id.currency_id

    # ----------------------------------------------------------------- amounts
    def _security_portal_amount_candidates(self):
        """Every predefined amount of the Pay page (positive ones only), with
        its key; two keys may have the same amount."""
        self.ensure_one()
        currency = self._security_portal_currency()
        options = []
        for key, label, amount in (
            ("balance_due", _("Balance due"), self.security_balance_due),
            ("past_due", _("Past due only"), self.security_past_due),
            ("recommended", _("Recommended amount"), self.security_recommended_amount),
        ):
            amount = currency.round(amount or 0.0)
            if float_compare(amount, 0.0, precision_rounding=currency.rounding) > 0:
                options.append({"key": key, "label": label, "amount": amount})
        return options

    def _security_portal_amount_options(self):
        """The predefined amounts offered on the Pay page: one per amount (the
        first label of equal amounts wins)."""
        self.ensure_one()
        currency = self._security_portal_currency()
        options = []
        for option in self._security_portal_amount_candidates():
            if not any(
                currency.is_zero(option["amount"] - shown["amount"])
                for shown in options
            ):
                options.append(option)
        return options

    def _security_portal_resolve_amount(self, choice, custom_amount=None):
        """Amount of a Pay form: a predefined option or a typed custom amount.

        Raises ``UserError`` naming the problem; returns a checked float.
        """
        self.ensure_one()
        if choice == "custom":
            amount = self._security_portal_parse_amount(custom_amount)
        else:
            option = next(
                (
                    o
                    for o in self._security_portal_amount_candidates()
                    if o["key"] == choice
                ),
                None,
            )
            if not option:
                raise UserError(
                    _("Choose one of the amounts shown, or a custom amount.")
                )
            amount = option["amount"]
        self._security_portal_check_amount(amount)
        return amount

    def _security_portal_parse_amount(self, text):
        """Parse a typed amount: digits with an optional decimal part."""
        self.ensure_one()
        currency = self._security_portal_currency()
        text = (text or "").strip() if isinstance(text, str) else text
        if text in (None, ""):
            raise UserError(_("Enter the amount you want to pay."))
        match = AMOUNT_RE.match(str(text))
        if not match:
            raise UserError(
                _(
                    "%(amount)r is not an amount: type digits only, with at most "
                    "%(decimals)s decimals, e.g. 45.50.",
                    amount=str(text),
                    decimals=currency.decimal_places,
                )
            )
        if match.group(1) and len(match.group(1)) > currency.decimal_places:
            raise UserError(
                _(
                    "%(amount)s has too many decimals: at most %(decimals)s.",
                    amount=text,
                    decimals=currency.decimal_places,
                )
            )
        return float(str(text).replace(",", "."))

    def _security_portal_check_amount(self, amount):
        """Server-side rules of an online payment amount."""
        self.ensure_one()
        if (
            isinstance(amount, bool)
            or not isinstance(amount, int | float)
            or not math.isfinite(amount)
        ):
            raise UserError(_("Amount %(amount)r is not a number.", amount=amount))
        currency = self._security_portal_currency()
        if float_compare(amount, 0.0, precision_rounding=currency.rounding) <= 0:
            raise UserError(_("The amount to pay must be positive."))
        if not float_is_zero(
            amount - currency.round(amount), precision_rounding=currency.rounding / 10
        ):
            raise UserError(
                _(
                    "%(amount)s has too many decimals: at most %(decimals)s.",
                    amount=amount,
                    decimals=currency.decimal_places,
                )
            )
        maximum = self.company_id.security_portal_max_amount
        if (
            maximum
            and float_compare(amount, maximum, precision_rounding=currency.rounding) > 0
        ):
            raise UserError(
                _(
                    "%(amount)s is above the maximum of %(maximum)s you can pay "
                    "online at once.",
                    amount=format_amount(self.env, amount, currency),
                    maximum=format_amount(self.env, maximum, currency),
                )
            )
        return True

    def _security_portal_is_owned_by(self, partner):
        """True when ``partner``'s commercial entity owns this MMR contract."""
        self.ensure_one()
        return (
            self.security_is_mmr
            and self.partner_id.commercial_partner_id == partner.commercial_partner_id
        )
