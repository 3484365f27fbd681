"""The balance searches count MMR invoices only.

``security_balance``, ``security_balance_due`` and ``security_past_due`` are
searched with their own grouped SQL (``_security_search_balance``), not with
the compute: a subscriber whose only open invoice is not an MMR invoice (an
equipment sale, a hosting contract) owes nothing on these balances and must
not be found by "owes money" searches, and must be found by "= 0".
"""

from odoo import Command
from odoo.tests import tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestBalanceSearchMmrOnly(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.equipment = cls.env["product.product"].create(
            {
                "name": "Ajax hub",
                "type": "consu",
                "list_price": 200.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.hosting = cls.env["product.product"].create(
            {
                "name": "Website hosting",
                "type": "service",
                "list_price": 10.0,
                "taxes_id": [Command.clear()],
            }
        )
        # owes for an MMR invoice due long ago: the positive control
        cls.mmr_debtor = cls._create_subscriber("MMR debtor")
        cls.mmr_contract = cls._create_billing_contract(
            cls.mmr_debtor, date_start="2025-01-01"
        )
        cls._invoice_contract(cls.mmr_contract)
        # owes only for equipment, past due for months
        cls.equipment_debtor = cls._create_subscriber("Equipment debtor")
        cls._equipment_invoice(cls.equipment_debtor)
        # owes only for a non-MMR contract (its invoice has a contract, too)
        cls.hosting_debtor = cls._create_subscriber("Hosting debtor")
        cls.hosting_contract = cls._create_billing_contract(
            cls.hosting_debtor,
            date_start="2025-01-01",
            lines=[(cls.hosting, 10.0, 1.0)],
        )
        cls.hosting_invoice = cls._invoice_contract(cls.hosting_contract)
        cls.subscribers = cls.mmr_debtor | cls.equipment_debtor | cls.hosting_debtor

    @classmethod
    def _equipment_invoice(cls, partner):
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": "2025-01-05",
                "invoice_date_due": "2025-01-05",
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": cls.equipment.id, "price_unit": 200.0}
                    )
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _partners(self, domain):
        return self.env["res.partner"].search(
            [("id", "in", self.subscribers.ids)] + domain
        )

    def _contracts(self, domain):
        return self.env["contract.contract"].search(
            [("id", "in", (self.mmr_contract | self.hosting_contract).ids)] + domain
        )

    def test_fixture_only_one_subscriber_owes_on_mmr(self):
        """The non-MMR invoices are open and past due, but not MMR."""
        self.assertEqual(self.hosting_invoice.payment_state, "not_paid")
        self.assertFalse(self.hosting_invoice.security_is_mmr)
        self.assertFalse(self.hosting_contract.security_is_mmr)
        for partner in self.equipment_debtor | self.hosting_debtor:
            self.assertFalse(partner.security_balance, partner.name)
            self.assertFalse(partner.security_balance_due, partner.name)
            self.assertFalse(partner.security_past_due, partner.name)
        self.assertEqual(self.mmr_debtor.security_past_due, 30.0)

    def test_partner_searches_ignore_non_mmr_invoices(self):
        self.assertEqual(
            self._partners([("security_balance", "<", 0)]),
            self.mmr_debtor,
            "balance < 0: only the MMR debtor",
        )
        self.assertEqual(
            self._partners([("security_balance_due", ">", 0)]),
            self.mmr_debtor,
            "balance due > 0: only the MMR debtor",
        )
        self.assertEqual(
            self._partners([("security_past_due", ">", 0)]),
            self.mmr_debtor,
            "past due > 0: only the MMR debtor",
        )

    def test_partner_zero_searches_include_non_mmr_debtors(self):
        """The '= 0' branch (records without lines count as 0) too."""
        others = self.equipment_debtor | self.hosting_debtor
        self.assertEqual(self._partners([("security_balance", "=", 0)]), others)
        self.assertEqual(self._partners([("security_balance_due", "=", 0)]), others)
        self.assertEqual(self._partners([("security_past_due", "<=", 0)]), others)

    def test_contract_searches_ignore_non_mmr_invoices(self):
        self.assertEqual(
            self._contracts([("security_balance", "<", 0)]), self.mmr_contract
        )
        self.assertEqual(
            self._contracts([("security_balance_due", ">", 0)]), self.mmr_contract
        )
        self.assertEqual(
            self._contracts([("security_past_due", ">", 0)]), self.mmr_contract
        )
        self.assertEqual(
            self._contracts([("security_balance", "=", 0)]), self.hosting_contract
        )
