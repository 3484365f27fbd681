from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    security_allow_payment_edit = fields.Boolean(
        related="company_id.security_allow_payment_edit", readonly=False
    )
    security_allow_cash_date = fields.Boolean(
        related="company_id.security_allow_cash_date", readonly=False
    )
    security_mmr_tax_id = fields.Many2one(
        related="company_id.security_mmr_tax_id", readonly=False
    )
    security_recommended_method = fields.Selection(
        related="company_id.security_recommended_method", readonly=False
    )
    security_recommended_months = fields.Integer(
        related="company_id.security_recommended_months", readonly=False
    )

