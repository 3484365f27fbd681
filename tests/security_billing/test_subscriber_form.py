"""The subscriber and contract forms: the service status of a subscriber
(its worst MMR contract), the next charge, readable frequencies and line
descriptions, and the header strip of both forms."""

from lxml import etree

from odoo import fields
from odoo.tests import tagged

from ..common import SecurityBillingCase


@tagged("post_install", "-at_install")
class TestSubscriberForm(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls._create_subscriber("Strip Subscriber")
        cls.contract_a = cls._create_mmr_contract(cls.partner, date_start="2025-01-01")
        cls.contract_b = cls._create_mmr_contract(cls.partner, date_start="2025-03-01")
        cls.bare = cls._create_subscriber("No Contract Yet")

    def _set_states(self, *states):
        for contract, state in zip(
            (self.contract_a, self.contract_b), states, strict=True
        ):
            contract.sudo().security_state = state
        self.partner.invalidate_recordset()

    def test_service_state_is_the_worst_contract_state(self):
        cases = [
            (("active", "active"), "active"),
            (("active", "warning"), "warning"),
            (("suspended", "warning"), "suspended"),
            (("suspended", "terminated"), "terminated"),
        ]
        for states, expected in cases:
            with self.subTest(states=states):
                self._set_states(*states)
                self.assertEqual(self.partner.security_service_state, expected)
        self.assertFalse(self.bare.security_service_state)

    def test_search_by_service_state(self):
        self._set_states("active", "suspended")
        partners = self.env["res.partner"]
        scope = [("id", "in", (self.partner | self.bare).ids)]
        self.assertEqual(
            partners.search(scope + [("security_service_state", "=", "suspended")]),
            self.partner,
        )
        self.assertFalse(
            partners.search(scope + [("security_service_state", "=", "active")]),
            "an active contract does not make a suspended subscriber active",
        )
        self.assertEqual(
            partners.search(scope + [("security_service_state", "=", False)]),
            self.bare,
        )
        self.assertEqual(
            partners.search(scope + [("security_service_state", "!=", "suspended")]),
            self.bare,
        )
        self.assertEqual(
            partners.search(
                scope + [("security_service_state", "in", ["warning", "suspended"])]
            ),
            self.partner,
        )

    def test_next_charge_is_the_earliest_running_contract(self):
        self._set_states("active", "active")
        self.contract_a.recurring_next_date = fields.Date.to_date("2025-06-01")
        self.contract_b.recurring_next_date = fields.Date.to_date("2025-05-01")
        self.partner.invalidate_recordset()
        self.assertEqual(
            self.partner.security_next_charge_date, fields.Date.to_date("2025-05-01")
        )
        self._set_states("active", "terminated")
        self.assertEqual(
            self.partner.security_next_charge_date,
            fields.Date.to_date("2025-06-01"),
            "a terminated contract is not charged again",
        )
        self.assertFalse(self.bare.security_next_charge_date)

    def test_frequency_labels_are_readable(self):
        contract = self.contract_a
        self.assertEqual(contract.security_frequency_label, "Monthly")
        contract.recurring_interval = 2
        self.assertEqual(contract.security_frequency_label, "Every 2 months")
        contract.write({"recurring_rule_type": "quarterly", "recurring_interval": 1})
        self.assertEqual(contract.security_frequency_label, "Quarterly")
        contract.recurring_rule_type = "yearly"
        self.assertEqual(contract.security_frequency_label, "Yearly")
        self.assertNotIn("(s)", contract.security_frequency_label)

    def test_line_shows_its_next_invoice_description(self):
        line = self.contract_a.contract_line_ids
        line.name = "Alarm monitoring #START# - #END#"
        line.invalidate_recordset(["security_invoice_name"])
        self.assertNotIn("#", line.security_invoice_name)
        self.assertEqual(
            line.security_invoice_name,
            line._insert_markers(
                line.next_period_date_start, line.next_period_date_end
            ),
        )
        self.assertIn(
            line.next_period_date_start.strftime("%m/%d/%Y"),
            line.security_invoice_name,
        )

    def _form_arch(self, model, view_ref):
        view = self.env.ref(view_ref)
        arch = self.env[model].get_views([(view.id, "form")])["views"]["form"]["arch"]
        return etree.fromstring(arch)

    def test_forms_open_on_billing_with_the_header_strip(self):
        arch = self._form_arch("res.partner", "base.view_partner_form")
        strip = arch.xpath("//div[@name='security_billing_strip']")
        self.assertTrue(strip, "the subscriber form has the billing strip")
        names = strip[0].xpath(".//field/@name")
        self.assertEqual(
            names,
            [
                "security_service_state",
                "security_balance",
                "security_past_due",
                "security_paid_until",
                "security_next_charge_date",
            ],
        )
        pages = arch.xpath("//notebook/page/@name")
        self.assertEqual(pages[0], "security_billing", "billing is the first tab")
        self.assertFalse(arch.xpath("//page[@autofocus]"))
        self.assertEqual(
            arch.xpath("//page[@name='security_billing']//separator/@string"),
            ["Sites", "Contracts"],
        )
        autopay = arch.xpath(
            "//field[@name='security_autopay_token_id' or "
            "@name='security_autopay_enabled']"
        )
        self.assertEqual(len(autopay), 2, "autopay is shown once")
        contract_arch = self._form_arch(
            "contract.contract", "contract.contract_contract_customer_form_view"
        )
        names = contract_arch.xpath(
            "//div[@name='security_billing_strip']//field/@name"
        )
        self.assertEqual(
            names,
            [
                "security_state",
                "security_balance",
                "security_past_due",
                "security_paid_until",
                "recurring_next_date",
            ],
        )
