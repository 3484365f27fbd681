from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    security_portal_max_amount = fields.Monetary(
        related="company_id.security_portal_max_amount",
        currency_field="currency_id",
        readonly=False,
    )
