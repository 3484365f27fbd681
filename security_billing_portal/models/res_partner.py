from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date

PAYMENT_STATES_SHOWN = ("in_process", "paid")


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Portal helpers: ``self`` is the commercial partner of the portal user.
    # The controller reads contracts and sites with the user's rights; the
    # accounting records below are read in sudo, bounded to this partner.

    def _security_portal_contract_domain(self):
        self.ensure_one()
        return [
            ("partner_id.commercial_partner_id", "=", self.commercial_partner_id.id),
            ("security_is_mmr", "=", True),
        ]

    def _security_portal_bills_domain(self):
        self.ensure_one()
        return [
            ("commercial_partner_id", "=", self.commercial_partner_id.id),
            ("security_is_mmr", "=", True),
            ("state", "=", "posted"),
        ]

    def _security_portal_payments_domain(self):
        self.ensure_one()
        return [
            ("partner_id", "=", self.commercial_partner_id.id),
            ("partner_type", "=", "customer"),
            ("payment_type", "=", "inbound"),
            ("state", "in", PAYMENT_STATES_SHOWN),
        ]

    def _security_portal_payment_rows(self, payments):
        """History rows of ``payments`` (sudo): method, category, invoices paid."""
        # One read of the reconciliations for the whole page.
        payments.move_id.line_ids.matched_debit_ids.debit_move_id.move_id.mapped("name")
        return [
            {
                "payment": payment,
                "method": payment._security_portal_method_label(),
                "category": payment.security_category_id.name or "",
                "allocations": payment._security_get_allocations(),
            }
            for payment in payments
        ]

    # ------------------------------------------------------ automatic payments
    def _security_portal_autopay_token(self):
        """The method autopay charges for this subscriber, or an empty record."""
        self.ensure_one()
        return self.commercial_partner_id.sudo()._security_partner_autopay_token()

    def _security_portal_can_remove_autopay(self):
        """A remove button only while the company lets customers remove it."""
        self.ensure_one()
        partner = self.commercial_partner_id.sudo()
        company = partner.company_id or self.env.company
        return bool(partner.security_autopay_token_id) and not (
            company.security_autopay_mandatory
        )

    def _security_portal_set_autopay_token(self, token):
        self.ensure_one()
        return self.commercial_partner_id.sudo()._security_set_autopay_token(token)

    def _security_portal_remove_autopay_token(self):
        self.ensure_one()
        return self.commercial_partner_id.sudo()._security_remove_autopay_token()

    # -------------------------------------------------------- promised payment
    def _security_portal_promise_values(self):
        """Rules of a promised payment, as shown on the Billing page."""
        self.ensure_one()
        rules = self.commercial_partner_id.sudo()._security_promise_rules()
        amount = min(rules["max_amount"], rules["amount_due"])
        return dict(
            rules,
            amount=amount,
            due_date=fields.Date.to_date(rules["due_date"]),
        )

    def _security_portal_request_promise(self):
        """Request a promised payment; returns ``{"ok", "message"}``."""
        self.ensure_one()
        partner = self.commercial_partner_id.sudo()
        try:
            result = partner._security_request_promised_payment(channel="portal")
        except UserError as exc:
            return {"ok": False, "message": exc.args[0]}
        if not result.get("ok"):
            return {
                "ok": False,
                "message": _(
                    "Your promised payment was refused: %(reason)s",
                    reason=result.get("reason"),
                ),
            }
        return {
            "ok": True,
            "message": _(
                "Your promised payment of %(amount)s is recorded: please pay it "
                "by %(date)s.",
                amount=format_amount(
                    self.env, result["amount"], self.env.company.currency_id
                ),
                date=format_date(self.env, result["due_date"]),
            ),
        }
