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

    # ------------------------------ autopay, dunning, promised payments
    security_autopay_trigger = fields.Selection(
        related="company_id.security_autopay_trigger", readonly=False
    )
    security_autopay_mandatory = fields.Boolean(
        related="company_id.security_autopay_mandatory", readonly=False
    )
    security_autopay_retry_days = fields.Char(
        related="company_id.security_autopay_retry_days", readonly=False
    )
    security_autopay_notice_days = fields.Integer(
        related="company_id.security_autopay_notice_days", readonly=False
    )
    security_low_balance_threshold = fields.Monetary(
        related="company_id.security_low_balance_threshold", readonly=False
    )
    security_notify_email = fields.Boolean(
        related="company_id.security_notify_email", readonly=False
    )
    security_notify_sms = fields.Boolean(
        related="company_id.security_notify_sms", readonly=False
    )
    security_promise_amount_type = fields.Selection(
        related="company_id.security_promise_amount_type", readonly=False
    )
    security_promise_fee_share = fields.Float(
        related="company_id.security_promise_fee_share", readonly=False
    )
    security_promise_max_amount = fields.Monetary(
        related="company_id.security_promise_max_amount", readonly=False
    )
    security_promise_days = fields.Integer(
        related="company_id.security_promise_days", readonly=False
    )
    security_promise_max_count = fields.Integer(
        related="company_id.security_promise_max_count", readonly=False
    )
    security_promise_period_days = fields.Integer(
        related="company_id.security_promise_period_days", readonly=False
    )
    security_promise_max_suspended_days = fields.Integer(
        related="company_id.security_promise_max_suspended_days", readonly=False
    )
    security_promise_cooldown_days = fields.Integer(
        related="company_id.security_promise_cooldown_days", readonly=False
    )
