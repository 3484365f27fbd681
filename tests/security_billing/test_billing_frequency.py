"""Billing frequencies, in advance or in arrears, prorated first period,
per-user app lines and bundles (contract templates)."""

from datetime import timedelta

from odoo import Command
from odoo.tests import tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestBillingFrequency(BillingCase):
    def _periods(self, contract, count, date_ref="2030-01-01"):
        """Create ``count`` invoices; return [(start, end, invoice date, amount)]."""
        result = []
        for _i in range(count):
            invoice = contract._recurring_create_invoice(self._date(date_ref))
            invoice.action_post()
            result.append(
                (
                    str(invoice.security_period_start),
                    str(invoice.security_period_end),
                    str(invoice.invoice_date),
                    invoice.amount_total,
                )
            )
        return result

    def test_lines_created_by_code_take_the_contract_recurrence(self):
        partner = self._create_subscriber("Quarterly by code")
        contract = self._create_billing_contract(
            partner, rule="quarterly", invoicing="post-paid", date_start="2025-02-10"
        )
        line = contract.contract_line_ids
        self.assertEqual(line.recurring_rule_type, "quarterly")
        self.assertEqual(line.recurring_invoicing_type, "post-paid")
        self.assertEqual(str(line.date_start), "2025-02-10")
        self.assertEqual(str(contract.recurring_next_date), "2025-05-10")

    def test_each_frequency_in_advance(self):
        expected = {
            "monthly": [
                ("2025-01-01", "2025-01-31"),
                ("2025-02-01", "2025-02-28"),
                ("2025-03-01", "2025-03-31"),
            ],
            "quarterly": [
                ("2025-01-01", "2025-03-31"),
                ("2025-04-01", "2025-06-30"),
                ("2025-07-01", "2025-09-30"),
            ],
            "semesterly": [
                ("2025-01-01", "2025-06-30"),
                ("2025-07-01", "2025-12-31"),
                ("2026-01-01", "2026-06-30"),
            ],
            "yearly": [
                ("2025-01-01", "2025-12-31"),
                ("2026-01-01", "2026-12-31"),
                ("2027-01-01", "2027-12-31"),
            ],
        }
        for rule, periods in expected.items():
            with self.subTest(rule=rule):
                partner = self._create_subscriber(f"Advance {rule}")
                contract = self._create_billing_contract(partner, rule=rule)
                self.assertTrue(contract.security_is_mmr)
                result = self._periods(contract, 3)
                self.assertEqual([(s, e) for s, e, _d, _a in result], periods)
                self.assertEqual({a for _s, _e, _d, a in result}, {30.0})
                self.assertEqual(
                    contract.recurring_next_date,
                    self._date(periods[-1][1]) + timedelta(days=1),
                )

    def test_in_advance_and_in_arrears(self):
        partner = self._create_subscriber("Advance vs arrears")
        advance = self._create_billing_contract(partner, date_start="2025-03-01")
        arrears = self._create_billing_contract(
            partner, invoicing="post-paid", date_start="2025-03-01"
        )
        # In advance: invoiced on the first day of the period it covers.
        self.assertEqual(str(advance.recurring_next_date), "2025-03-01")
        # In arrears: invoiced the day after the period it covers.
        self.assertEqual(str(arrears.recurring_next_date), "2025-04-01")
        self.assertFalse(
            self.env["contract.contract"].search(
                [("id", "=", arrears.id)]
                + arrears._security_billing_run_domain(self._date("2025-03-31"))
            )
        )
        invoice = arrears._recurring_create_invoice(self._date("2025-04-01"))
        self.assertEqual(str(invoice.security_period_start), "2025-03-01")
        self.assertEqual(str(invoice.security_period_end), "2025-03-31")
        self.assertEqual(str(arrears.recurring_next_date), "2025-05-01")

    def test_arrears_each_frequency(self):
        expected = {
            "monthly": ("2025-01-31", "2025-02-01"),
            "quarterly": ("2025-03-31", "2025-04-01"),
            "semesterly": ("2025-06-30", "2025-07-01"),
            "yearly": ("2025-12-31", "2026-01-01"),
        }
        for rule, (period_end, invoice_date) in expected.items():
            with self.subTest(rule=rule):
                partner = self._create_subscriber(f"Arrears {rule}")
                contract = self._create_billing_contract(
                    partner, rule=rule, invoicing="post-paid"
                )
                self.assertEqual(str(contract.recurring_next_date), invoice_date)
                invoice = contract._recurring_create_invoice(self._date(invoice_date))
                self.assertEqual(str(invoice.security_period_start), "2025-01-01")
                self.assertEqual(str(invoice.security_period_end), period_end)
                self.assertEqual(str(invoice.invoice_date), invoice_date)

    def test_first_period_prorated_by_days_each_frequency(self):
        # Start on 2025-01-17: 15 of 31 days of January, then whole periods
        # aligned on the 1st of a month.
        expected = {
            "monthly": ("2025-01-31", 31, 15, "2025-02-01", "2025-02-28"),
            "quarterly": ("2025-03-31", 90, 74, "2025-04-01", "2025-06-30"),
            "semesterly": ("2025-06-30", 181, 165, "2025-07-01", "2025-12-31"),
            "yearly": ("2025-12-31", 365, 349, "2026-01-01", "2026-12-31"),
        }
        for rule, (end, period_days, days, next_start, next_end) in expected.items():
            with self.subTest(rule=rule):
                partner = self._create_subscriber(f"Prorated {rule}")
                contract = self._create_billing_contract(
                    partner, rule=rule, date_start="2025-01-17", prorate=True
                )
                first = contract._recurring_create_invoice(self._date("2030-01-01"))
                line = first.invoice_line_ids
                self.assertEqual(str(first.security_period_start), "2025-01-17")
                self.assertEqual(str(first.security_period_end), end)
                self.assertEqual(line.quantity, 1.0)
                self.assertEqual(line.price_unit, round(30.0 * days / period_days, 2))
                self.assertIn(f"prorated: {days} of {period_days} days", line.name)
                second = contract._recurring_create_invoice(self._date("2030-01-01"))
                self.assertEqual(str(second.security_period_start), next_start)
                self.assertEqual(str(second.security_period_end), next_end)
                self.assertEqual(second.amount_total, 30.0)

    def test_prorated_in_arrears(self):
        partner = self._create_subscriber("Prorated arrears")
        contract = self._create_billing_contract(
            partner,
            rule="quarterly",
            invoicing="post-paid",
            date_start="2025-02-15",
            prorate=True,
        )
        # Aligned quarter: February to April (89 days), billed from Feb 15.
        self.assertEqual(str(contract.recurring_next_date), "2025-05-01")
        invoice = contract._recurring_create_invoice(self._date("2025-05-01"))
        self.assertEqual(str(invoice.security_period_start), "2025-02-15")
        self.assertEqual(str(invoice.security_period_end), "2025-04-30")
        self.assertEqual(invoice.amount_total, round(30.0 * 75 / 89, 2))
        self.assertEqual(str(contract.recurring_next_date), "2025-08-01")

    def test_no_proration_without_the_option(self):
        partner = self._create_subscriber("Not prorated")
        contract = self._create_billing_contract(partner, date_start="2025-01-17")
        invoice = contract._recurring_create_invoice(self._date("2030-01-01"))
        self.assertEqual(str(invoice.security_period_end), "2025-02-16")
        self.assertEqual(invoice.amount_total, 30.0)

    def test_prorated_start_on_the_first_is_a_whole_period(self):
        partner = self._create_subscriber("Aligned start")
        contract = self._create_billing_contract(
            partner, rule="yearly", date_start="2025-03-01", prorate=True
        )
        invoice = contract._recurring_create_invoice(self._date("2030-01-01"))
        self.assertEqual(str(invoice.security_period_end), "2026-02-28")
        self.assertEqual(invoice.amount_total, 30.0)
        self.assertNotIn("prorated", invoice.invoice_line_ids.name)

    def test_yearly_customer_billing_whatever_the_vendor_bills(self):
        """Paxton Entry: billed yearly; the monthly fee is a twelfth."""
        partner = self._create_subscriber("Paxton yearly")
        contract = self._create_billing_contract(
            partner, rule="yearly", lines=[(self.mmr_product, 240.0, 1.0)]
        )
        self.assertEqual(contract.security_monthly_fee, 20.0)
        invoice = contract._recurring_create_invoice(self._date("2025-01-01"))
        self.assertEqual(invoice.amount_total, 240.0)
        self.assertEqual(str(contract.recurring_next_date), "2026-01-01")


@tagged("post_install", "-at_install")
class TestPerUserLines(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.app_product = cls._create_mmr_product(
            "App user", 2.0, security_per_app_user=True
        )

    def test_quantity_is_the_active_app_users_at_invoicing_time(self):
        partner = self._create_subscriber("Paxton per user")
        contract = self._create_billing_contract(
            partner,
            lines=[(self.mmr_product, 30.0, 1.0), (self.app_product, 2.0, 1.0)],
        )
        site_a = self._create_site(
            partner, contract, vendor="paxton", device_id="PX-1", app_user_count=3
        )
        self._create_site(
            partner, contract, vendor="paxton", device_id="PX-2", app_user_count=2
        )
        first = contract._recurring_create_invoice(self._date("2030-01-01"))
        app_line = first.invoice_line_ids.filtered(
            lambda line: line.product_id == self.app_product
        )
        self.assertEqual(app_line.quantity, 5.0)
        self.assertEqual(first.amount_total, 40.0)
        # Users added, and a site archived, before the next invoice.
        site_a.app_user_count = 7
        self._create_site(
            partner,
            contract,
            vendor="paxton",
            device_id="PX-3",
            app_user_count=4,
            active=False,
        )
        second = contract._recurring_create_invoice(self._date("2030-01-01"))
        app_line = second.invoice_line_ids.filtered(
            lambda line: line.product_id == self.app_product
        )
        self.assertEqual(app_line.quantity, 9.0)
        self.assertEqual(second.amount_total, 48.0)
        # The monitoring line keeps its own quantity.
        self.assertEqual((second.invoice_line_ids - app_line).mapped("quantity"), [1.0])

    def test_no_site_means_no_user(self):
        partner = self._create_subscriber("No site yet")
        contract = self._create_billing_contract(
            partner,
            lines=[(self.mmr_product, 30.0, 1.0), (self.app_product, 2.0, 1.0)],
        )
        invoice = contract._recurring_create_invoice(self._date("2030-01-01"))
        self.assertEqual(invoice.amount_total, 30.0)

    def test_per_user_line_prorated(self):
        partner = self._create_subscriber("Per user prorated")
        contract = self._create_billing_contract(
            partner,
            date_start="2025-01-17",
            prorate=True,
            lines=[(self.app_product, 3.1, 1.0)],
        )
        self._create_site(
            partner, contract, vendor="paxton", device_id="PX-9", app_user_count=2
        )
        invoice = contract._recurring_create_invoice(self._date("2030-01-01"))
        line = invoice.invoice_line_ids
        self.assertEqual(line.quantity, 2.0)
        self.assertEqual(line.price_unit, 1.5)  # 3.10 * 15 / 31
        self.assertEqual(invoice.amount_total, 3.0)


@tagged("post_install", "-at_install")
class TestBundles(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.app_access = cls.env["product.product"].create(
            {"name": "App access (included)", "type": "service", "list_price": 0.0}
        )
        cls.maintenance = cls.env["product.product"].create(
            {"name": "Maintenance (included)", "type": "service", "list_price": 0.0}
        )
        cls.bundle = cls.env["contract.template"].create(
            {
                "name": "Ajax Complete",
                "contract_type": "sale",
                "recurring_rule_type": "quarterly",
                "recurring_invoicing_type": "pre-paid",
                "security_prorate_first_period": True,
                "contract_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "name": product.name,
                            "quantity": 1.0,
                            "price_unit": price,
                            "uom_id": product.uom_id.id,
                        }
                    )
                    for product, price in (
                        (cls.mmr_product, 105.0),
                        (cls.app_access, 0.0),
                        (cls.maintenance, 0.0),
                    )
                ],
            }
        )

    def test_contract_from_bundle_gets_the_lines_and_is_mmr(self):
        partner = self._create_subscriber("Bundle buyer")
        contract = self.env["contract.contract"]._security_create_from_template(
            self.bundle, partner, self._date("2025-04-01")
        )
        self.assertEqual(contract.contract_template_id, self.bundle)
        self.assertTrue(contract.security_is_mmr)
        self.assertTrue(contract.security_prorate_first_period)
        self.assertEqual(
            contract.contract_line_ids.mapped("product_id"),
            self.mmr_product | self.app_access | self.maintenance,
        )
        self.assertEqual(
            set(contract.contract_line_ids.mapped("recurring_rule_type")),
            {"quarterly"},
        )
        self.assertEqual(contract.security_monthly_fee, 35.0)
        invoice = contract._recurring_create_invoice(self._date("2025-04-01"))
        invoice.action_post()
        self.assertTrue(invoice.security_is_mmr)
        self.assertEqual(invoice.amount_total, 105.0)
        self.assertEqual(len(invoice.invoice_line_ids), 3)
        self.assertEqual(str(invoice.security_period_end), "2025-06-30")

    def test_bundle_onchange_in_the_form(self):
        """The OCA form onchange fills the lines from the bundle too."""
        partner = self._create_subscriber("Bundle form")
        contract = self.env["contract.contract"].new(
            {"partner_id": partner.id, "contract_template_id": self.bundle.id}
        )
        contract._onchange_contract_template_id()
        self.assertEqual(len(contract.contract_line_ids), 3)
        self.assertEqual(contract.recurring_rule_type, "quarterly")
