"""The saved billing method autopay charges for a subscriber, and who may
change it."""

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .res_partner import BILLING_GROUPS


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    security_autopay_token_id = fields.Many2one(
        "payment.token",
        string="Autopay Method",
        copy=False,
        domain="[('partner_id', 'child_of', id)]",
        groups=BILLING_GROUPS,
        help="Saved billing method (a provider token: no card data is stored) "
        "charged automatically for MMR invoices.",
    )
    security_autopay_enabled = fields.Boolean(
        string="Autopay Enabled",
        default=True,
        copy=False,
        groups=BILLING_GROUPS,
        help="Only used when the company lets customers switch autopay off.",
    )
    security_autopay_active = fields.Boolean(
        string="Autopay", compute="_compute_security_autopay_active"
    )

    @api.depends("security_autopay_token_id.active", "security_autopay_enabled")
    def _compute_security_autopay_active(self):
        for partner in self:
            partner.security_autopay_active = bool(
                partner._security_partner_autopay_token()
            )

    @api.constrains("security_autopay_token_id", "parent_id")
    def _check_security_autopay_token_owner(self):
        for partner in self.sudo().filtered("security_autopay_token_id"):
            self._security_check_owns_token(partner, partner.security_autopay_token_id)

    @api.model
    def _security_owns_token(self, partner, token):
        """True when the saved method ``token`` belongs to the customer billed
        as ``partner`` (same commercial partner): one customer's card never
        pays another customer's bills."""
        token = token.sudo()
        return bool(token) and (
            token.partner_id.commercial_partner_id == partner.commercial_partner_id
        )

    @api.model
    def _security_check_owns_token(self, partner, token):
        """Raise naming the owner when ``token`` is not ``partner``'s."""
        if not self._security_owns_token(partner, token):
            token = token.sudo()
            raise ValidationError(
                self.env._(
                    "The autopay method %(method)s belongs to %(owner)s, not to "
                    "%(partner)s: a saved method only pays its owner's bills.",
                    method=token.display_name,
                    owner=token.partner_id.commercial_partner_id.display_name,
                    partner=partner.commercial_partner_id.display_name,
                )
            )

    def _security_autopay_on(self):
        """Autopay is on: always once a method is on file (company rule),
        otherwise as the customer chose."""
        self.ensure_one()
        company = self.company_id or self.env.company
        return (
            company.security_autopay_mandatory or self.sudo().security_autopay_enabled
        )

    def _security_partner_autopay_token(self):
        self.ensure_one()
        token = self.sudo().security_autopay_token_id
        if not token.active or not self._security_autopay_on():
            return token.browse()
        return token

    def _security_set_autopay_token(self, token):
        """Save ``token`` as this subscriber's autopay method (replacing any).

        Callable from the portal: checks the token belongs to the subscriber.
        Returns ``{"ok", "token_id", "autopay"}``.
        """
        self.ensure_one()
        partner = self.commercial_partner_id
        token = token.sudo()
        if not token.exists() or not token.active:
            raise UserError(self.env._("This payment method no longer exists."))
        if token.partner_id.commercial_partner_id != partner:
            raise UserError(
                self.env._("This payment method belongs to another customer.")
            )
        if not token.provider_id.allow_tokenization:
            raise UserError(
                self.env._(
                    "%(provider)s cannot charge saved methods.",
                    provider=token.provider_id.name,
                )
            )
        partner.sudo().write(
            {"security_autopay_token_id": token.id, "security_autopay_enabled": True}
        )
        return {
            "ok": True,
            "token_id": token.id,
            "autopay": partner.security_autopay_active,
        }

    def _security_check_autopay_change(self):
        """Customers may not switch autopay off or remove the method when
        the company makes autopay mandatory; managers may."""
        self.ensure_one()
        company = self.company_id or self.env.company
        if company.security_autopay_mandatory and not self.env.user.has_group(
            "security_billing.group_security_billing_manager"
        ):
            raise UserError(
                self.env._(
                    "Autopay stays on while a billing method is on file: you "
                    "can replace the method but not remove it."
                )
            )

    def _security_set_autopay_enabled(self, enabled):
        """Switch autopay on or off (refused for customers when mandatory)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        if not enabled:
            partner._security_check_autopay_change()
        partner.sudo().security_autopay_enabled = bool(enabled)
        return {"ok": True, "autopay": partner.security_autopay_active}

    def _security_remove_autopay_token(self):
        """Remove the saved method (refused for customers when mandatory)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        partner._security_check_autopay_change()
        partner.sudo().security_autopay_token_id = False
        return {"ok": True, "autopay": False}
