"""The billing run posts its invoices by batch: the same invoices, numbers,
followers and contract dates as OCA's invoices posted by Odoo one by one."""

from odoo import Command
from odoo.tests import tagged

from odoo.addons.security_billing.models.security_billing_run import BILLING_CONTEXT

from .billing_common import BillingCase

DATE_REF = "2025-03-17"

MOVE_FIELDS = (
    "name",
    "state",
    "partner_id",
    "ref",
    "invoice_origin",
    "date",
    "invoice_date",
    "invoice_date_due",
    "invoice_payment_term_id",
    "amount_untaxed",
    "amount_tax",
    "amount_total",
    "amount_residual",
    "payment_state",
    "currency_id",
    "journal_id",
    "checked",
    "posted_before",
    "sequence_prefix",
    "sequence_number",
    "made_sequence_gap",
    "payment_reference",
    "security_contract_id",
    "security_is_mmr",
    "security_in_balance",
    "security_period_start",
    "security_period_end",
)
LINE_FIELDS = (
    "display_type",
    "name",
    "move_name",
    "account_id",
    "product_id",
    "quantity",
    "price_unit",
    "discount",
    "price_subtotal",
    "price_total",
    "balance",
    "amount_currency",
    "tax_ids",
    "tax_line_id",
    "tax_tag_ids",
    "date_maturity",
    "partner_id",
    "contract_line_id",
    "security_period_start",
    "security_period_end",
    "parent_state",
)


class Rollback(Exception):
    """Undo the reference billing (savepoint)."""


@tagged("post_install", "-at_install")
class TestBillingRunBatch(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Tax = cls.env["account.tax"]
        tax_excluded = Tax.create(
            {"name": "VAT 15", "amount": 15.0, "type_tax_use": "sale"}
        )
        tax_included = Tax.create(
            {
                "name": "VAT 20 incl.",
                "amount": 20.0,
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
            }
        )
        monitoring = cls._create_mmr_product(
            "Monitoring (taxed)", 30.0, taxes_id=[Command.set(tax_excluded.ids)]
        )
        app_user = cls._create_mmr_product(
            "App user (tax incl.)",
            2.5,
            taxes_id=[Command.set(tax_included.ids)],
            security_per_app_user=True,
        )
        maintenance = cls.env["product.product"].create(
            {
                "name": "Maintenance",
                "type": "service",
                "list_price": 10.0,
                "taxes_id": [Command.set((tax_excluded | tax_included).ids)],
            }
        )
        term = cls.env.ref("account.account_payment_term_30days")
        cls.contracts = cls.env["contract.contract"]
        variants = [
            # rule, invoicing, start, prorate, lines, contract values
            ("monthly", "pre-paid", "2025-03-01", False, None, {}),
            (
                "monthly",
                "pre-paid",
                "2025-03-17",
                True,
                [(monitoring, 31.0, 1.0), (maintenance, 10.0, 2.0)],
                {"code": "B-2"},
            ),
            (
                "quarterly",
                "pre-paid",
                "2025-03-01",
                False,
                [(monitoring, 90.0, 1.0), (app_user, 2.5, 1.0)],
                {"code": "A-1", "payment_term_id": term.id},
            ),
            ("yearly", "pre-paid", "2025-03-01", False, None, {"code": "A-1"}),
            # without taxes, prorated, with a discount
            (
                "monthly",
                "pre-paid",
                "2025-03-05",
                True,
                [(cls.mmr_product, 29.99, 3.0)],
                {"code": "A-0"},
            ),
            ("monthly", "post-paid", "2025-02-01", False, None, {}),
            (
                "semesterly",
                "pre-paid",
                "2025-03-10",
                True,
                [(cls.mmr_product, 180.0, 1.0), (maintenance, 0.0, 1.0)],
                {},
            ),
        ]
        for i, (rule, invoicing, start, prorate, lines, vals) in enumerate(variants):
            partner = cls._create_subscriber(f"Batch {i}")
            contract = cls._create_billing_contract(
                partner,
                rule=rule,
                invoicing=invoicing,
                date_start=start,
                prorate=prorate,
                lines=lines,
                **vals,
            )
            if lines and lines[-1][0] == app_user:
                cls._create_site(partner, contract, app_user_count=3)
            cls.contracts |= contract
        lines = cls.contracts.contract_line_ids
        lines.filtered(lambda line: line.product_id == maintenance).discount = 10.0
        lines.filtered(lambda line: line.price_unit == 29.99).discount = 12.5

    # ----------------------------------------------------------------- helpers
    def _snapshot(self, moves):
        """What an accountant sees of ``moves``, by contract, comparable."""

        def value(record, fname):
            val = record[fname]
            return sorted(val.ids) if hasattr(val, "_name") else val

        def line_key(line):
            return (line.display_type, line.name or "", line.balance)

        snapshot = {}
        for move in moves:
            snapshot[move.security_contract_id.id] = {
                "move": {fname: value(move, fname) for fname in MOVE_FIELDS},
                "lines": [
                    {fname: value(line, fname) for fname in LINE_FIELDS}
                    for line in move.line_ids.sorted(line_key)
                ],
                "followers": sorted(
                    (follower.partner_id.id, tuple(sorted(follower.subtype_ids.ids)))
                    for follower in move.message_follower_ids
                ),
            }
        snapshot["contracts"] = [
            (
                contract.recurring_next_date,
                [
                    (line.last_date_invoiced, line.recurring_next_date)
                    for line in contract.contract_line_ids
                ],
            )
            for contract in self.contracts
        ]
        partners = moves.partner_id | moves.commercial_partner_id
        snapshot["customer_ranks"] = {p.id: p.customer_rank for p in partners}
        return snapshot

    def _reference_billing(self, date_ref):
        """Snapshot of OCA's invoices of the due contracts posted by Odoo's
        ``_post`` (the billing run before batch posting), then undone."""
        try:
            with self.env.cr.savepoint():
                contracts = self.contracts.with_context(**BILLING_CONTEXT).filtered(
                    lambda c: c.recurring_next_date <= self._date(date_ref)
                )
                moves = contracts._recurring_create_invoice(self._date(date_ref))
                moves._post(soft=False)
                self.env.flush_all()
                expected = self._snapshot(moves)
                raise Rollback()
        except Rollback:
            pass
        self.env.invalidate_all()
        return expected

    # ------------------------------------------------------------------- tests
    def test_batch_invoices_equal_oca_invoices_posted_one_by_one(self):
        # an invoice already numbered in the journal: the run continues it
        self._invoice_contract(
            self._create_billing_contract(
                self._create_subscriber("Earlier"), date_start="2025-03-01"
            )
        )
        expected = self._reference_billing(DATE_REF)
        self.assertEqual(len(expected), len(self.contracts) + 2)
        run = self._run_billing(DATE_REF)
        self.assertEqual(run.error_count, 0)
        self.assertEqual(run.invoice_count, len(self.contracts))
        self.env.flush_all()
        got = self._snapshot(run.invoice_ids)
        self.assertEqual(got, expected)
        # numbered in Odoo's order (date, reference, id), without gap
        numbers = sorted(run.invoice_ids.mapped("sequence_number"))
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + len(numbers))))
        by_ref = run.invoice_ids.sorted(lambda m: (m.ref or "", m.id))
        self.assertEqual(by_ref.mapped("sequence_number"), numbers)
        # posting did not subscribe anyone twice nor log a message per invoice
        for invoice in run.invoice_ids:
            self.assertEqual(
                invoice.message_follower_ids.partner_id, invoice.partner_id
            )
            self.assertFalse(invoice.message_ids)

    def test_number_taken_meanwhile_is_skipped_as_odoo_does(self):
        """A number another transaction took (unique per journal) makes the
        batch fall back to Odoo's numbering one by one, which skips it."""
        taken = self._invoice_contract(
            self._create_billing_contract(
                self._create_subscriber("Other"), date_start="2025-03-01"
            )
        )
        # It holds the 3rd number of 2025 but is dated 2024: invisible to the
        # search of the last number of 2025, as a concurrent posting would be.
        self.assertEqual(taken.sequence_number, 1)
        format_string, values = taken._get_sequence_format_param(taken.name)
        self.env.cr.execute(
            "UPDATE account_move SET name = %s, sequence_number = 3, "
            "date = '2024-12-31' WHERE id = %s",
            [format_string.format(**dict(values, seq=3)), taken.id],
        )
        self.env.invalidate_all()
        expected = self._reference_billing(DATE_REF)
        run = self._run_billing(DATE_REF)
        self.assertEqual(run.error_count, 0)
        self.assertEqual(run.invoice_count, len(self.contracts))
        self.env.flush_all()
        self.assertEqual(self._snapshot(run.invoice_ids), expected)
        numbers = run.invoice_ids.mapped("sequence_number")
        self.assertNotIn(3, numbers)
        self.assertEqual(sorted(numbers), [1, 2] + list(range(4, len(numbers) + 2)))

    def test_catch_up_rounds_number_each_batch_after_the_previous(self):
        contract = self.contracts[0]
        contract.recurring_next_date = "2025-01-01"
        contract.contract_line_ids.write(
            {"date_start": "2025-01-01", "recurring_next_date": "2025-01-01"}
        )
        run = self._run_billing("2025-03-01")
        self.assertEqual(run.error_count, 0)
        invoices = run.invoice_ids.filtered(
            lambda m: m.security_contract_id == contract
        )
        self.assertEqual(
            invoices.sorted("security_period_start").mapped("security_period_start"),
            [self._date(d) for d in ("2025-01-01", "2025-02-01", "2025-03-01")],
        )
        numbers = sorted(run.invoice_ids.mapped("sequence_number"))
        self.assertEqual(numbers, list(range(1, len(numbers) + 1)))
        self.assertEqual(set(run.invoice_ids.mapped("state")), {"posted"})
        self.assertTrue(all(run.invoice_ids.mapped("checked")))

    def test_journal_without_auto_check_leaves_invoices_unchecked(self):
        self.company_data["default_journal_sale"].autocheck_on_post = False
        run = self._run_billing("2025-03-01")
        self.assertEqual(set(run.invoice_ids.mapped("state")), {"posted"})
        self.assertFalse(any(run.invoice_ids.mapped("checked")))

    def test_customer_ranks_raised_once_per_batch_as_one_by_one(self):
        """Odoo raises each customer's rank as it posts each invoice; the
        batch raises them at the end, by one update per increment."""
        partner = self._create_subscriber("Two contracts")
        both = self.contracts.browse()
        for _i in range(2):
            both |= self._create_billing_contract(partner, date_start="2025-03-01")
        self.contracts |= both
        expected = self._reference_billing(DATE_REF)
        before = partner.customer_rank
        run = self._run_billing(DATE_REF)
        self.assertEqual(run.error_count, 0)
        self.env.flush_all()
        self.assertEqual(self._snapshot(run.invoice_ids), expected)
        self.assertEqual(partner.customer_rank, before + 2)
