"""The billing run: invoices and posts due MMR contracts in batches, never
twice for a period, logs and skips failing contracts."""

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestBillingRun(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.subscribers, cls.contracts = cls._create_due_subscribers("Run", 3)
        cls.other_product = cls.env["product.product"].create(
            {"name": "Website hosting", "type": "service", "list_price": 10.0}
        )

    def test_run_invoices_and_posts_due_contracts(self):
        run = self._run_billing("2025-03-01")
        self.assertEqual(run.state, "done")
        self.assertEqual(run.trigger, "manual")
        self.assertEqual(run.user_id, self.env.user)
        self.assertTrue(run.date_started and run.date_finished)
        self.assertEqual(run.contract_count, 3)
        self.assertEqual(run.invoice_count, 3)
        self.assertEqual(run.error_count, 0)
        self.assertEqual(run.invoice_amount, 90.0)
        invoices = run.invoice_ids
        self.assertEqual(len(invoices), 3)
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        self.assertTrue(all(invoices.mapped("security_is_mmr")))
        self.assertEqual(invoices.security_contract_id, self.contracts)
        self.assertEqual(
            set(invoices.mapped("invoice_date")), {self._date("2025-03-01")}
        )
        self.assertEqual(
            set(self.contracts.mapped("recurring_next_date")),
            {self._date("2025-04-01")},
        )
        self.assertEqual(
            self.subscribers[0].security_balance_due, 30.0, "posted: in the balance"
        )

    def test_run_twice_on_the_same_day_creates_nothing_the_second_time(self):
        first = self._run_billing("2025-03-01")
        second = self._run_billing("2025-03-01")
        self.assertEqual(first.invoice_count, 3)
        self.assertEqual(second.state, "done")
        self.assertEqual(second.contract_count, 0)
        self.assertEqual(second.invoice_count, 0)
        self.assertEqual(second.error_count, 0)
        for contract in self.contracts:
            self.assertEqual(len(self._contract_invoices(contract)), 1)
        self.assertEqual(
            self.runs.search_count([("id", "in", (first | second).ids)]), 2
        )

    def test_nothing_due_before_the_next_invoice_date(self):
        run = self._run_billing("2025-02-28")
        self.assertEqual(run.invoice_count, 0)
        self.assertFalse(self._contract_invoices(self.contracts[0]))

    def test_overdue_periods_are_caught_up_one_invoice_each(self):
        run = self._run_billing("2025-05-15")
        self.assertEqual(run.invoice_count, 9)
        invoices = self._contract_invoices(self.contracts[0])
        self.assertEqual(
            [str(d) for d in invoices.mapped("security_period_start")],
            ["2025-03-01", "2025-04-01", "2025-05-01"],
        )
        again = self._run_billing("2025-05-15")
        self.assertEqual(again.invoice_count, 0)

    def test_small_batches_bill_everything(self):
        self.env["ir.config_parameter"].set_param(
            "security_billing.billing_run_batch_size", "2"
        )
        run = self._run_billing("2025-03-01")
        self.assertEqual(run.contract_count, 3)
        self.assertEqual(run.invoice_count, 3)

    def test_non_mmr_contracts_are_left_to_the_stock_cron(self):
        partner = self._create_subscriber("Hosting only")
        hosting = self._create_billing_contract(
            partner, lines=[(self.other_product, 10.0, 1.0)], date_start="2025-03-01"
        )
        self.assertFalse(hosting.security_is_mmr)
        run = self._run_billing("2025-03-01")
        self.assertNotIn(hosting, run.invoice_ids.security_contract_id)
        self.assertFalse(hosting._get_related_invoices())
        # The stock OCA cron bills it, and leaves the MMR contracts to the run.
        self.env["contract.contract"].cron_recurring_create_invoice(
            self._date("2025-03-01")
        )
        self.assertEqual(len(hosting._get_related_invoices()), 1)
        for contract in self.contracts:
            self.assertEqual(len(self._contract_invoices(contract)), 1)

    def test_stock_cron_leaves_mmr_contracts_to_the_run(self):
        self.env["contract.contract"].cron_recurring_create_invoice(
            self._date("2025-03-01")
        )
        self.assertFalse(self._contract_invoices(self.contracts[0]))
        run = self._run_billing("2025-03-01")
        self.assertEqual(run.invoice_count, 3)

    def test_failing_contract_is_skipped_and_logged(self):
        broken_account = self.company_data["default_account_revenue"].copy(
            {"code": "700999", "name": "Old revenue"}
        )
        broken_product = self._create_mmr_product(
            "Legacy monitoring",
            25.0,
            property_account_income_id=broken_account.id,
        )
        partner = self._create_subscriber("Broken")
        broken = self._create_billing_contract(
            partner,
            date_start="2025-03-01",
            lines=[(broken_product, 25.0, 1.0)],
        )
        broken_account.deprecated = True
        run = self._run_billing("2025-03-01")
        self.assertEqual(run.state, "done")
        self.assertEqual(run.invoice_count, 3)
        self.assertEqual(run.error_count, 1)
        self.assertEqual(run.error_ids.contract_id, broken)
        self.assertEqual(run.error_ids.partner_id, partner)
        self.assertIn("Old revenue (700999) is deprecated", run.error_ids.message)
        # Nothing half-done for the broken contract: no invoice, date kept.
        self.assertFalse(self._contract_invoices(broken))
        self.assertEqual(str(broken.recurring_next_date), "2025-03-01")
        self.assertEqual(set(run.invoice_ids.mapped("state")), {"posted"})
        # Fixed, the next run bills it (and only it).
        broken_account.deprecated = False
        rerun = self._run_billing("2025-03-01")
        self.assertEqual(rerun.invoice_count, 1)
        self.assertEqual(rerun.invoice_ids.security_contract_id, broken)
        self.assertEqual(rerun.error_count, 0)

    def test_period_already_invoiced_is_never_billed_again(self):
        self._run_billing("2025-03-01")
        contract = self.contracts[0]
        line = contract.contract_line_ids
        # Someone puts the dates back by hand: the period is already invoiced.
        line.write({"last_date_invoiced": False, "recurring_next_date": "2025-03-01"})
        contract.recurring_next_date = "2025-03-01"
        run = self._run_billing("2025-03-01")
        self.assertEqual(run.invoice_count, 0)
        self.assertEqual(run.error_count, 1)
        self.assertEqual(run.error_ids.contract_id, contract)
        self.assertIn("already invoiced", run.error_ids.message)
        self.assertEqual(len(self._contract_invoices(contract)), 1)

    def test_open_credit_pays_the_new_invoice_at_posting(self):
        partner = self.subscribers[0]
        self._pay(partner, 50.0)
        self.assertEqual(partner.security_balance, 50.0)
        run = self._run_billing("2025-03-01")
        invoice = run.invoice_ids.filtered(lambda m: m.partner_id == partner)
        self.assertEqual(invoice.payment_state, "paid")
        partner.invalidate_recordset()
        self.assertEqual(partner.security_balance, 20.0)

    def test_cron_bills_every_company(self):
        runs = self.runs._cron_security_billing_run().sudo()  # every company's
        self.assertIn(self.company, runs.company_id)
        ours = runs.filtered(lambda run: run.company_id == self.company)
        self.assertEqual(ours.state, "running", "its chunks are jobs")
        for run in runs:
            self._perform_run_jobs(run)
        self.assertEqual(set(runs.mapped("trigger")), {"cron"})
        self.assertEqual(set(runs.mapped("state")), {"done"})
        cron = self.env.ref("security_billing.ir_cron_security_billing_run")
        self.assertEqual(cron.code.strip(), "model._cron_security_billing_run()")
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "days"))

    def test_run_billing_now_button(self):
        accountant = self._create_company_user(
            "sb_run_accountant", company=self.company
        )
        action = self.runs.with_user(accountant).action_security_run_billing_now()
        run = self.runs.browse(action["res_id"])
        self.assertEqual(action["res_model"], "security.billing.run")
        self.assertEqual(run.user_id, accountant)
        # it answers at once: the chunks are jobs, nothing billed yet
        self.assertEqual(run.state, "running")
        self.assertEqual(run.contract_total, 3)
        self.assertFalse(run.invoice_ids)
        self._perform_run_jobs(run)
        self.assertEqual(run.state, "done")
        self.assertEqual(run.contract_count, 3)
        self.assertEqual(run.invoice_ids.security_contract_id, self.contracts)
        # Accountants see the runs but cannot edit them.
        self.assertTrue(run.with_user(accountant).read(["invoice_count"]))
        with self.assertRaises(UserError):
            self.runs.with_user(
                new_test_user(self.env, login="sb_no_billing", groups="base.group_user")
            ).action_security_run_billing_now()

    def test_interrupted_run_is_marked_and_rerun_bills_the_rest(self):
        """A worker that died left a run 'running' and some contracts unbilled."""
        dead = self.runs.create({"company_id": self.company.id, "trigger": "cron"})
        self.contracts[:1]._security_bill_due(self._date("2025-03-01"))
        run = self._run_billing("2025-03-01")
        self.assertEqual(dead.state, "interrupted")
        self.assertEqual(run.invoice_count, 2)
        for contract in self.contracts:
            self.assertEqual(len(self._contract_invoices(contract)), 1)
