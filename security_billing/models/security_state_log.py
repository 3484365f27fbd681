from odoo import fields, models

from .contract_contract_dunning import SECURITY_STATES

ORIGINS = [
    ("cron", "Daily check"),
    ("payment", "Payment"),
    ("credit_note", "Credit note"),
    ("promise", "Promised payment"),
    ("override", "Manual override"),
    ("manual", "Manual"),
]


class SecurityStateLog(models.Model):
    """Every change of the service status of an MMR contract: who, why, when."""

    _name = "security.state.log"
    _description = "Security Billing Service Status Change"
    _order = "date desc, id desc"
    _rec_name = "contract_id"

    contract_id = fields.Many2one(
        "contract.contract",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    partner_id = fields.Many2one(
        related="contract_id.partner_id", store=True, string="Subscriber", index=True
    )
    company_id = fields.Many2one(
        related="contract_id.company_id", store=True, index=True
    )
    old_state = fields.Selection(SECURITY_STATES, string="From", readonly=True)
    new_state = fields.Selection(
        SECURITY_STATES, string="To", required=True, readonly=True, index=True
    )
    reason = fields.Char(readonly=True)
    origin = fields.Selection(
        ORIGINS, string="Triggered By", required=True, readonly=True, index=True
    )
    user_id = fields.Many2one(
        "res.users",
        readonly=True,
        default=lambda self: self.env.user,
    )
    date = fields.Datetime(
        string="When", required=True, readonly=True, default=fields.Datetime.now
    )
    date_ref = fields.Date(string="Effective Date", readonly=True)
