"""Every list the addons open explains, when empty, what goes there and how
to start; no raw domain is left on a form."""

from lxml import etree

from odoo.tests import TransactionCase, tagged

MODULES = ("security_billing", "security_billing_portal", "security_billing_bank")


@tagged("post_install", "-at_install")
class TestActionHelp(TransactionCase):
    def test_every_window_action_of_ours_has_a_help(self):
        data = self.env["ir.model.data"].search(
            [("module", "in", MODULES), ("model", "=", "ir.actions.act_window")]
        )
        actions = self.env["ir.actions.act_window"].browse(data.mapped("res_id"))
        lists = actions.filtered(
            lambda a: a.target != "new" and a.res_model != "res.config.settings"
        )
        self.assertGreater(len(lists), 10)
        missing = [
            action.xml_id
            for action in lists
            if "o_view_nocontent_smiling_face" not in (action.help or "")
        ]
        self.assertEqual(missing, [])

    def test_connector_site_filter_is_a_domain_editor(self):
        arch = self.env["security.app.connector"].get_views([(False, "form")])
        field = etree.fromstring(arch["views"]["form"]["arch"]).xpath(
            "//field[@name='site_domain']"
        )[0]
        self.assertEqual(field.get("widget"), "domain")
