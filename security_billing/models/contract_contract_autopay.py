"""The saved method autopay charges for an MMR contract."""

from odoo import api, fields, models


class ContractContract(models.Model):
    _inherit = "contract.contract"  # pylint: disable=consider-merging-classes-inherited

    security_autopay_token_id = fields.Many2one(
        "payment.token",
        string="Autopay Method (this contract)",
        copy=False,
        domain="[('partner_id', 'child_of', partner_id)]",
        help="Charged instead of the subscriber's saved billing method.",
    )
    security_autopay_active = fields.Boolean(
        string="Autopay", compute="_compute_security_autopay_active"
    )
    security_autopay_attempt_ids = fields.One2many(
        "security.autopay.attempt", "contract_id", string="Autopay Attempts"
    )

    @api.depends(
        "security_autopay_token_id.active",
        "partner_id.commercial_partner_id.security_autopay_token_id.active",
        "partner_id.commercial_partner_id.security_autopay_enabled",
    )
    def _compute_security_autopay_active(self):
        for contract in self:
            contract.security_autopay_active = bool(contract._security_autopay_token())

    def _security_autopay_token(self):
        """The token autopay charges for this contract, or an empty record."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        token = (
            self.sudo().security_autopay_token_id
            or partner.sudo().security_autopay_token_id
        )
        if not token.active or not partner._security_autopay_on():
            return token.browse()
        return token

    @api.constrains("security_autopay_token_id", "partner_id")
    def _check_security_autopay_token_owner(self):
        partners = self.env["res.partner"]
        for contract in self.sudo().filtered("security_autopay_token_id"):
            partners._security_check_owns_token(
                contract.partner_id, contract.security_autopay_token_id
            )
