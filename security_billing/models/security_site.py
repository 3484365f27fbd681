import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

VENDORS = [
    ("ajax", "Ajax"),
    ("alarm_com", "Alarm.com"),
    ("paxton", "Paxton"),
    ("other", "Other"),
]
AJAX_HUB_RE = re.compile(r"^[0-9A-F]{8}$")


class SecuritySite(models.Model):
    _name = "security.site"
    _description = "Protected Site"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "partner_id, name, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(string="Site in Use", default=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Subscriber",
        required=True,
        index=True,
        tracking=True,
        domain=[("security_is_subscriber", "=", True)],
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    street = fields.Char()
    street2 = fields.Char()
    city = fields.Char()
    zip = fields.Char()
    state_id = fields.Many2one("res.country.state")
    country_id = fields.Many2one("res.country")
    vendor = fields.Selection(VENDORS, required=True, default="ajax", tracking=True)
    device_id = fields.Char(
        string="Vendor Device ID",
        tracking=True,
        help="Ajax: the hub id, exactly 8 hexadecimal characters.",
    )
    app_user_count = fields.Integer(string="Active App Users", default=0, tracking=True)
    life_safety = fields.Boolean(
        help="Fire or panic monitoring: monitoring continues while suspended."
    )
    contract_id = fields.Many2one(
        "contract.contract",
        string="Billed On",
        index=True,
        tracking=True,
        domain="[('partner_id', '=', partner_id)]",
    )
    security_state = fields.Selection(related="contract_id.security_state")

    _sql_constraints = [
        (
            "vendor_device_uniq",
            "unique (vendor, device_id, company_id)",
            "This vendor device is already registered on another site.",
        ),
        ("app_user_count_positive", "check (app_user_count >= 0)", "App users >= 0."),
    ]

    @api.model
    def _normalize_device_id(self, vendor, device_id):
        if device_id and vendor == "ajax":
            return device_id.strip().upper()
        return device_id

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("device_id"):
                vals["device_id"] = self._normalize_device_id(
                    vals.get("vendor", "ajax"), vals["device_id"]
                )
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("device_id"):
            vendors = set(self.mapped("vendor")) | (
                {vals["vendor"]} if vals.get("vendor") else set()
            )
            if "ajax" in vendors:
                vals["device_id"] = vals["device_id"].strip().upper()
        return super().write(vals)

    @api.constrains("vendor", "device_id")
    def _check_device_id(self):
        for site in self:
            if site.vendor == "ajax" and site.device_id:
                if not AJAX_HUB_RE.match(site.device_id):
                    raise ValidationError(
                        _(
                            "Ajax hub id %(hub)s is not valid: it must be exactly "
                            "8 hexadecimal characters, e.g. 0000AF49.",
                            hub=site.device_id,
                        )
                    )
