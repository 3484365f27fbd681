"""A whole billing run rerun on the same day bills nothing again.

A mix of contracts (monthly, quarterly, yearly, in arrears, prorated, one
behind by three periods, one not due yet, a non-MMR one) in batches of 2:
the first run bills each due period once; a second run the same day
processes nothing; a third run after someone put every next invoice date
back by hand refuses every contract with the reason and bills nothing.
"""

from odoo.tests import tagged

from .billing_common import BillingCase

DAY = "2025-05-01"


@tagged("post_install", "-at_install")
class TestBillingRunRerun(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param(
            "security_billing.billing_run_batch_size", "2"
        )
        cls.hosting = cls.env["product.product"].create(
            {"name": "Website hosting", "type": "service", "list_price": 10.0}
        )

        def contract(name, **kwargs):
            return cls._create_billing_contract(cls._create_subscriber(name), **kwargs)

        # name: (contract, expected invoices on DAY, expected amount)
        cls.expected = {
            "monthly": (contract("Monthly", date_start=DAY), 1, 30.0),
            "quarterly": (
                contract("Quarterly", rule="quarterly", date_start=DAY),
                1,
                30.0,
            ),
            "yearly": (
                contract(
                    "Yearly",
                    rule="yearly",
                    date_start=DAY,
                    lines=[(cls.mmr_product, 300.0, 1.0)],
                ),
                1,
                300.0,
            ),
            "arrears": (
                contract("Arrears", invoicing="post-paid", date_start="2025-04-01"),
                1,
                30.0,
            ),
            "prorated": (
                # 2025-04-17 to 04-30: 14 of 30 days, then May in full
                contract("Prorated", date_start="2025-04-17", prorate=True),
                2,
                44.0,
            ),
            "behind": (contract("Behind", date_start="2025-03-01"), 3, 90.0),
            "not_due": (contract("Not due", date_start="2025-05-02"), 0, 0.0),
        }
        cls.non_mmr = cls._create_billing_contract(
            cls._create_subscriber("Hosting only"),
            date_start=DAY,
            lines=[(cls.hosting, 10.0, 1.0)],
        )
        cls.mmr_contracts = cls.env["contract.contract"].browse(
            [c.id for c, _n, _a in cls.expected.values()]
        )

    def _snapshot(self):
        """Per contract: (invoice count, total invoiced, next invoice date,
        balance due)."""
        self.env.invalidate_all()
        result = {}
        for name, (contract, _n, _a) in self.expected.items():
            invoices = self._contract_invoices(contract)
            result[name] = (
                len(invoices),
                sum(invoices.mapped("amount_total")),
                str(contract.recurring_next_date),
                contract.security_balance_due,
            )
        return result

    def test_rerun_same_day_bills_nothing(self):
        first = self._run_billing(DAY)
        self.assertEqual(first.state, "done")
        self.assertEqual(first.contract_count, 6, "every due MMR contract")
        self.assertEqual(first.invoice_count, 9)
        self.assertEqual(first.invoice_amount, 524.0)
        self.assertEqual(first.error_count, 0)
        self.assertEqual(
            first.invoice_ids.security_contract_id,
            self.mmr_contracts - self.expected["not_due"][0],
        )
        self.assertEqual(set(first.invoice_ids.mapped("state")), {"posted"})
        after_first = self._snapshot()
        self.assertEqual(
            {name: counts[:2] for name, counts in after_first.items()},
            {name: (n, amount) for name, (_c, n, amount) in self.expected.items()},
        )
        self.assertFalse(self.non_mmr._get_related_invoices(), "left to OCA's cron")

        second = self._run_billing(DAY)
        self.assertEqual(second.state, "done")
        self.assertEqual(
            (
                second.contract_count,
                second.invoice_count,
                second.invoice_amount,
                second.error_count,
            ),
            (0, 0, 0.0, 0),
            "the rerun found nothing due",
        )
        self.assertFalse(second.invoice_ids)
        self.assertEqual(self._snapshot(), after_first, "nothing changed")
        self.assertEqual(
            self.runs.search_count([("id", "in", (first | second).ids)]), 2
        )

    def test_rerun_after_dates_put_back_refuses_every_contract(self):
        first = self._run_billing(DAY)
        after_first = self._snapshot()
        billed = first.invoice_ids.security_contract_id
        # Someone puts every billed contract back on its first period
        for contract in billed:
            start = contract.date_start
            contract.contract_line_ids.write(
                {"last_date_invoiced": False, "recurring_next_date": start}
            )
            contract.recurring_next_date = start
        rerun = self._run_billing(DAY)
        self.assertEqual(rerun.state, "done")
        self.assertEqual(rerun.invoice_count, 0)
        self.assertFalse(rerun.invoice_ids)
        self.assertEqual(rerun.error_count, len(billed))
        self.assertEqual(rerun.error_ids.contract_id, billed)
        for error in rerun.error_ids:
            self.assertIn("already invoiced", error.message, error.contract_id.name)
        self.assertEqual(
            {name: counts[:2] for name, counts in self._snapshot().items()},
            {name: counts[:2] for name, counts in after_first.items()},
            "no second invoice for any period",
        )
