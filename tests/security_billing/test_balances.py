"""Balances, oldest-first allocation, credit, paid-until, idempotent payments,
account numbers, search filters."""

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestAllocation(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls._create_subscriber("Oldest first")
        cls.contract = cls._create_billing_contract(
            cls.partner, date_start="2025-01-01"
        )
        cls.jan, cls.feb, cls.mar = (
            cls._invoice_contract(cls.contract) for _i in range(3)
        )

    def _residuals(self):
        return [inv.amount_residual for inv in (self.jan, self.feb, self.mar)]

    def test_invoices_are_one_per_period(self):
        self.assertEqual(
            [str(inv.security_period_start) for inv in (self.jan, self.feb, self.mar)],
            ["2025-01-01", "2025-02-01", "2025-03-01"],
        )
        self.assertEqual(self.partner.security_balance, -90.0)
        self.assertEqual(self.partner.security_balance_due, 90.0)

    def test_partial_payment_pays_the_oldest_first(self):
        result = self._pay(self.partner, 45.0)
        self.assertFalse(result["duplicate"])
        self.assertEqual(
            [(a["invoice_id"], a["amount"]) for a in result["allocations"]],
            [(self.jan.id, 30.0), (self.feb.id, 15.0)],
        )
        self.assertEqual(self._residuals(), [0.0, 15.0, 30.0])
        self.assertEqual(self.jan.payment_state, "paid")
        self.assertEqual(self.feb.payment_state, "partial")
        self.assertEqual(self.partner.security_balance, -45.0)

    def test_exact_payment_leaves_no_credit(self):
        result = self._pay(self.partner, 90.0)
        self.assertEqual(len(result["allocations"]), 3)
        self.assertEqual(self._residuals(), [0.0, 0.0, 0.0])
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.security_balance, 0.0)
        self.assertEqual(self.partner.security_balance_due, 0.0)

    def test_overpayment_stays_as_credit_used_by_the_next_invoice(self):
        self._pay(self.partner, 100.0)
        self.assertEqual(self._residuals(), [0.0, 0.0, 0.0])
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.security_balance, 10.0)
        self.assertEqual(self.contract.security_balance, 10.0)
        apr = self._invoice_contract(self.contract)  # posting applies the credit
        self.assertEqual(apr.amount_residual, 20.0)
        self.assertEqual(apr.payment_state, "partial")
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.security_balance, -20.0)
        self._pay(self.partner, 50.0)
        may = self._invoice_contract(self.contract)
        self.assertEqual(may.payment_state, "paid")
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.security_balance, 0.0)

    def test_contract_payment_pays_that_contract_only(self):
        other = self._create_billing_contract(self.partner, date_start="2025-01-01")
        other_jan = self._invoice_contract(other)
        result = self._pay(self.partner, 30.0, contract=other)
        self.assertEqual(
            [a["invoice_id"] for a in result["allocations"]], [other_jan.id]
        )
        self.assertEqual(self.jan.amount_residual, 30.0)
        self.assertEqual(other.security_balance, 0.0)
        self.assertEqual(self.contract.security_balance, -90.0)
        self.assertEqual(self.partner.security_balance, -90.0)


@tagged("post_install", "-at_install")
class TestBalances(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls._create_subscriber("Balance")
        cls.contract = cls._create_billing_contract(
            cls.partner, date_start="2025-01-01"
        )
        cls.equipment = cls.env["product.product"].create(
            {
                "name": "Ajax hub",
                "type": "consu",
                "list_price": 200.0,
                "taxes_id": [Command.clear()],
            }
        )

    def _equipment_invoice(self):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner.id,
                "invoice_date": "2025-01-05",
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": self.equipment.id, "price_unit": 200.0}
                    )
                ],
            }
        )
        invoice.action_post()
        return invoice

    def test_balance_counts_mmr_invoices_only(self):
        mmr = self._invoice_contract(self.contract)
        sale = self._equipment_invoice()
        self.assertTrue(mmr.security_is_mmr)
        self.assertFalse(sale.security_is_mmr)
        self.assertEqual(self.partner.security_balance, -30.0)
        self.assertEqual(self.partner.security_balance_due, 30.0)
        # A payment through the allocation function pays MMR invoices only;
        # the rest is MMR credit, the equipment invoice stays open.
        result = self._pay(self.partner, 100.0)
        self.assertEqual([a["invoice_id"] for a in result["allocations"]], [mmr.id])
        self.assertEqual(sale.amount_residual, 200.0)
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.security_balance, 70.0)

    def test_paid_until_and_next_payment_date(self):
        jan = self._invoice_contract(self.contract)
        feb = self._invoice_contract(self.contract)
        mar = self._invoice_contract(self.contract)
        self.assertFalse(self.contract.security_paid_until)
        self.assertEqual(self.contract.security_next_payment_date, jan.invoice_date_due)
        self._pay(self.partner, 60.0)
        self.contract.invalidate_recordset()
        self.partner.invalidate_recordset()
        self.assertEqual(str(self.contract.security_paid_until), "2025-02-28")
        self.assertEqual(self.contract.security_next_payment_date, mar.invoice_date_due)
        self.assertEqual(str(self.partner.security_paid_until), "2025-02-28")
        # A partial payment of March does not move paid-until.
        self._pay(self.partner, 10.0)
        self.contract.invalidate_recordset()
        self.assertEqual(str(self.contract.security_paid_until), "2025-02-28")
        self._pay(self.partner, 20.0)
        self.contract.invalidate_recordset()
        self.assertEqual(str(self.contract.security_paid_until), "2025-03-31")
        # Nothing open: the next payment is the next invoice date.
        self.assertEqual(str(self.contract.security_next_payment_date), "2025-04-01")
        self.assertEqual(feb.payment_state, "paid")

    def test_past_due_is_the_part_past_its_due_date(self):
        self._invoice_contract(self.contract)  # January 2025: long past due
        future = self._create_billing_contract(self.partner, date_start="2099-01-01")
        self._invoice_contract(future)  # due in 2099
        self.assertEqual(self.partner.security_balance_due, 60.0)
        self.assertEqual(self.partner.security_past_due, 30.0)
        self.assertEqual(future.security_past_due, 0.0)

    def test_balance_rows_at_a_date_and_dunning_debts(self):
        jan = self._invoice_contract(self.contract)
        feb = self._invoice_contract(self.contract)
        self.assertEqual(str(jan.invoice_date_due), "2025-01-01")
        self.assertEqual(str(feb.invoice_date_due), "2025-02-01")
        credit_only = self._create_billing_contract(
            self.partner, date_start="2099-01-01"
        )
        self._pay(self.partner, 50.0, contract=credit_only)
        ids = (self.contract | credit_only).ids
        moves = self.env["account.move"]
        dunning = self.env["security.dunning"]
        for day, past_due in (
            ("2025-01-01", 0.0),  # due that day: not past due yet
            ("2025-01-15", 30.0),
            ("2025-03-01", 60.0),
        ):
            with self.subTest(day=day):
                rows = moves._security_balance_rows(
                    "security_contract_id", ids, date_ref=self._date(day)
                )
                row = rows[self.contract.id]
                self.assertEqual(row["security_balance"], -60.0)
                self.assertEqual(row["security_balance_due"], 60.0)
                self.assertEqual(row["security_past_due"], past_due)
                self.assertEqual(row["security_oldest_due_date"], jan.invoice_date_due)
                self.assertEqual(row["security_credit"], 0.0)
                credit = rows[credit_only.id]
                self.assertEqual(credit["security_balance"], 50.0)
                self.assertEqual(credit["security_credit"], 50.0)
                self.assertEqual(credit["security_past_due"], 0.0)
                self.assertFalse(credit["security_oldest_due_date"])
                debts = dunning._debt_rows(self.contract | credit_only, self._date(day))
                self.assertEqual(
                    debts[self.contract.id],
                    {
                        "oldest_due": jan.invoice_date_due,
                        "balance_due": 60.0,
                        "past_due": past_due,
                    },
                )
                self.assertEqual(
                    debts[credit_only.id],
                    {"oldest_due": None, "balance_due": 0.0, "past_due": 0.0},
                )
        # without a date: today
        today = moves._security_balance_rows("security_contract_id", ids)
        self.assertEqual(today[self.contract.id]["security_past_due"], 60.0)

    def test_search_filters_past_due_credit_vendor(self):
        late = self.partner
        self._invoice_contract(self.contract)
        credit = self._create_subscriber("In credit")
        self._pay(credit, 25.0)
        clean = self._create_subscriber("Nothing yet")
        self._create_site(clean, vendor="alarm_com", device_id="ADC-77")
        self._create_site(late, self.contract, device_id="00ab12cd")
        subscribers = late | credit | clean
        Partner = self.env["res.partner"]

        def found(domain):
            return Partner.search([("id", "in", subscribers.ids)] + domain)

        self.assertEqual(found([("security_past_due", ">", 0)]), late)
        self.assertEqual(found([("security_balance", ">", 0)]), credit)
        self.assertEqual(found([("security_balance", "<", 0)]), late)
        self.assertEqual(found([("security_balance", "=", 0)]), clean)
        self.assertEqual(found([("security_balance_due", "=", 0)]), credit | clean)
        self.assertEqual(found([("security_site_ids.vendor", "=", "ajax")]), late)
        self.assertEqual(found([("security_site_ids.vendor", "=", "alarm_com")]), clean)
        contracts = self.env["contract.contract"].search(
            [("partner_id", "in", subscribers.ids), ("security_past_due", ">", 0)]
        )
        self.assertEqual(contracts, self.contract)
        with self.assertRaises(UserError):
            found([("security_balance", "ilike", "x")])


@tagged("post_install", "-at_install")
class TestPaymentEntryPoint(BillingCase):
    def test_same_external_id_twice_makes_one_payment(self):
        partner = self._create_subscriber("Idempotent")
        contract = self._create_billing_contract(partner, date_start="2025-01-01")
        invoice = self._invoice_contract(contract)
        first = self._pay(partner, 30.0, external_id="test:txn-1")
        second = self._pay(partner, 30.0, external_id="test:txn-1")
        self.assertFalse(first["duplicate"])
        self.assertTrue(second["duplicate"])
        self.assertEqual(first["payment_id"], second["payment_id"])
        self.assertEqual(second["allocations"][0]["invoice_id"], invoice.id)
        payments = self.env["account.payment"].search(
            [("security_external_id", "=", "test:txn-1")]
        )
        self.assertEqual(len(payments), 1)
        self.assertEqual(invoice.payment_state, "paid")
        partner.invalidate_recordset()
        self.assertEqual(partner.security_balance, 0.0)

    def test_bad_amounts_are_refused_and_nothing_written(self):
        partner = self._create_subscriber("Bad amount")
        count = self.env["account.payment"].search_count([])
        for amount in (0, -5, "10", True):
            with self.subTest(amount=amount), self.assertRaises(UserError):
                self._pay(partner, amount, external_id=f"test:bad-{amount}")
        self.assertEqual(self.env["account.payment"].search_count([]), count)


@tagged("post_install", "-at_install")
class TestAccountNumbers(BillingCase):
    def test_numbers_carry_a_check_digit(self):
        partner = self._create_subscriber("Numbered")
        ref = partner.security_account_ref
        self.assertTrue(ref.isdigit())
        Partner = self.env["res.partner"]
        self.assertEqual(Partner._security_parse_account_ref(ref), ref)
        self.assertEqual(Partner._security_find_by_account_ref(f" {ref} "), partner)
        # One mistyped digit, two swapped digits: rejected by the check digit.
        typo = ref[:-2] + str((int(ref[-2]) + 1) % 10) + ref[-1]
        with self.assertRaisesRegex(UserError, "fails its check digit"):
            Partner._security_find_by_account_ref(typo)
        with self.assertRaisesRegex(UserError, "digits only"):
            Partner._security_parse_account_ref("10O0017")
        with self.assertRaisesRegex(UserError, "it is empty"):
            Partner._security_parse_account_ref("  ")

    def test_valid_but_unknown_number_is_reported_as_not_found(self):
        with self.assertRaisesRegex(UserError, "was not found"):
            self.env["res.partner"]._security_find_by_account_ref("9999999999")

    def test_duplicates_and_invalid_numbers_are_refused(self):
        first = self._create_subscriber("First")
        second = self._create_subscriber("Second")
        self.assertNotEqual(first.security_account_ref, second.security_account_ref)
        with self.assertRaisesRegex(ValidationError, "already used"):
            second.security_account_ref = first.security_account_ref
        with self.assertRaisesRegex(ValidationError, "check digit"):
            second.security_account_ref = "1000018"
