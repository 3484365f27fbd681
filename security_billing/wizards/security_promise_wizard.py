from odoo import api, fields, models


class SecurityPromiseWizard(models.TransientModel):
    """An accountant requests a promised payment for a subscriber: the
    company rules apply as for the portal and the API."""

    _name = "security.promise.wizard"
    _description = "Grant a Promised Payment"

    partner_id = fields.Many2one(
        "res.partner",
        string="Subscriber",
        required=True,
        domain=[("security_is_subscriber", "=", True)],
    )
    currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.company.currency_id
    )
    amount = fields.Monetary(
        currency_field="currency_id", help="Empty: the maximum the rules allow."
    )
    rules_text = fields.Text(string="Rules", compute="_compute_rules_text")

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        model = self.env.context.get("active_model")
        active_id = self.env.context.get("active_id")
        if model == "res.partner" and active_id:
            res["partner_id"] = active_id
        elif model == "contract.contract" and active_id:
            res["partner_id"] = self.env[model].browse(active_id).partner_id.id
        return res

    @api.depends("partner_id")
    def _compute_rules_text(self):
        for wizard in self:
            if not wizard.partner_id:
                wizard.rules_text = False
                continue
            rules = wizard.partner_id._security_promise_rules()
            wizard.rules_text = rules["reason"] or self.env._(
                "Up to %(amount)s until %(date)s (amount due: %(due)s).",
                amount=rules["max_amount"],
                date=rules["due_date"],
                due=rules["amount_due"],
            )

    def action_request(self):
        self.ensure_one()
        result = self.partner_id._security_request_promised_payment(
            amount=self.amount or None, channel="backend"
        )
        message = (
            self.env._(
                "Promised payment of %(amount)s granted until %(date)s.",
                amount=result["amount"],
                date=result["due_date"],
            )
            if result["ok"]
            else self.env._("Refused: %(reason)s", reason=result["reason"])
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "success" if result["ok"] else "warning",
                "sticky": not result["ok"],
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
