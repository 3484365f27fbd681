# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Assign bank lines the matching could not place to a subscriber."""

from odoo import api, fields, models
from odoo.exceptions import UserError


class SecurityBankLineAssign(models.TransientModel):
    _name = "security.bank.line.assign"
    _description = "Assign bank statement lines to a subscriber"

    line_ids = fields.Many2many(
        "account.bank.statement.line",
        "security_bank_line_assign_line_rel",
        "wizard_id",
        "line_id",
        string="Bank Lines",
        required=True,
    )
    candidate_ids = fields.Many2many(
        "res.partner",
        string="Suggested Subscribers",
        compute="_compute_candidate_ids",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Subscriber",
        required=True,
        domain=[("security_is_subscriber", "=", True)],
    )
    currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.company.currency_id
    )
    amount = fields.Monetary(compute="_compute_amount", currency_field="currency_id")

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        context = self.env.context
        if (
            "line_ids" in fields_list
            and not res.get("line_ids")
            and context.get("active_model") == "account.bank.statement.line"
        ):
            res["line_ids"] = [fields.Command.set(context.get("active_ids", []))]
        return res

    @api.depends("line_ids")
    def _compute_candidate_ids(self):
        for wizard in self:
            wizard.candidate_ids = wizard.line_ids.security_candidate_ids

    @api.depends("line_ids")
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = sum(wizard.line_ids.mapped("amount"))

    @api.onchange("line_ids")
    def _onchange_line_ids(self):
        if len(self.candidate_ids) == 1 and not self.partner_id:
            self.partner_id = self.candidate_ids

    def action_assign(self):
        self.ensure_one()
        if not self.line_ids:
            raise UserError(self.env._("Select the bank lines to assign."))
        lines = self.line_ids._security_check_match_access()
        lines._security_assign_subscriber(self.partner_id)
        return lines._security_notification(
            self.env._(
                "%(count)s bank line(s) paid to %(partner)s.",
                count=len(lines),
                partner=self.partner_id.display_name,
            ),
            kind="success",
        )
