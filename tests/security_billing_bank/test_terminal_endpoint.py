"""The provider form shows the full address the payment network calls, and a
new provider's time zone follows the company (else the user)."""

from odoo.tests import tagged

from .test_terminal import TerminalCase


@tagged("post_install", "-at_install")
class TestTerminalEndpoint(TerminalCase):
    def test_endpoint_url_is_the_base_url_and_the_route(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "web.base.url", "https://billing.example.com/"
        )
        self.provider.invalidate_recordset(["endpoint_url"])
        self.assertEqual(
            self.provider.endpoint_url,
            "https://billing.example.com/security_billing/terminal/qiwi-test",
        )
        self.provider.code = "osmp-2"
        self.assertEqual(
            self.provider.endpoint_url,
            "https://billing.example.com/security_billing/terminal/osmp-2",
        )

    def test_endpoint_url_answers_the_protocol(self):
        """The route of the shown address is the one the controller serves."""
        routes = [
            rule.rule
            for rule in self.env["ir.http"].routing_map().iter_rules()
            if rule.rule.startswith("/security_billing/terminal/")
        ]
        self.assertEqual(routes, ["/security_billing/terminal/<string:provider_code>"])

    def test_time_zone_follows_the_company_then_the_user(self):
        providers = self.env["security.terminal.provider"]
        company_partner = self.env.company.partner_id
        company_partner.tz = "America/Chicago"
        self.env.user.tz = "Europe/Paris"
        self.assertEqual(providers.default_get(["tz"])["tz"], "America/Chicago")
        company_partner.tz = False
        self.assertEqual(providers.default_get(["tz"])["tz"], "Europe/Paris")
        self.env.user.tz = False
        self.assertEqual(providers.default_get(["tz"])["tz"], "UTC")
