"""The full address a payment network calls: given to the provider when the
terminal protocol is set up, copied from the provider form."""

from odoo import api, fields, models

TERMINAL_ROUTE = "/security_billing/terminal/%s"


class SecurityTerminalProvider(models.Model):
    _inherit = "security.terminal.provider"  # pylint: disable=consider-merging-classes-inherited

    endpoint_url = fields.Char(
        string="Endpoint URL",
        compute="_compute_endpoint_url",
        help="The address the payment network calls for checks and payments "
        "(HTTP Basic with the login and password below). It follows the "
        "server's base URL (web.base.url).",
    )

    @api.depends("code")
    def _compute_endpoint_url(self):
        for provider in self:
            provider.endpoint_url = (
                provider.get_base_url().rstrip("/") + TERMINAL_ROUTE % provider.code
                if provider.code
                else False
            )
