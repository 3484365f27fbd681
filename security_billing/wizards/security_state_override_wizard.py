from odoo import api, fields, models

from ..models.contract_contract_dunning import SECURITY_STATES


class SecurityStateOverrideWizard(models.TransientModel):
    """Managers force a service status until an end date, with a reason."""

    _name = "security.state.override.wizard"
    _description = "Override the Service Status"

    contract_ids = fields.Many2many("contract.contract", string="Contracts")
    state = fields.Selection(SECURITY_STATES, string="Service Status", required=True)
    date_until = fields.Date(string="Until", required=True)
    reason = fields.Char(required=True)

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if self.env.context.get("active_model") == "contract.contract":
            res["contract_ids"] = [
                fields.Command.set(self.env.context.get("active_ids", []))
            ]
        return res

    def action_apply(self):
        self.ensure_one()
        for contract in self.contract_ids:
            contract._security_set_override(self.state, self.date_until, self.reason)
        return {"type": "ir.actions.act_window_close"}
