import math
import re

from odoo import _, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero, format_amount

AMOUNT_RE = re.compile(r"^\d{1,12}(?:[.,](\d+))?$")


class ContractContract(models.Model):
    _inherit = "contract.contract"

    # ------------------------------------------------------------ billing page
    def _security_portal_card_values(self):
        """One dict per contract for the portal Billing page, set-based.

        Balances come from the contracts' set-based computes; unpaid invoices
        and sites are read for all the contracts at once.
        """
        invoices = self._security_portal_unpaid_invoices()
        sites = self.env["security.site"].search([("contract_id", "in", self.ids)])
        states = dict(self._fields["security_state"]._description_selection(self.env))
        cards = []
        for contract in self:
            cards.append(
                {
                    "contract": contract,
                    "status": contract._security_portal_status(),
                    "state_label": states.get(contract.security_state),
                    "invoices": invoices.filtered(
                        lambda move, c=contract: move.security_contract_id == c
                    ),
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
        """Status bar of the card: (code, label, Bootstrap colour)."""
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

    def _security_portal_currency(self):
        self.ensure_one()
        return self.currency_id or self.company_id.currency_id

    # ----------------------------------------------------------------- amounts
    def _security_portal_amount_options(self):
        """The predefined amounts offered on the Pay page (positive ones only)."""
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
                    for o in self._security_portal_amount_options()
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
