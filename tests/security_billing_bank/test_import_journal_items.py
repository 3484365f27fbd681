"""Imported statement lines get their journal items at creation: the same
entries and items as Odoo's own creation of statement lines."""

from odoo.tests import tagged

from odoo.addons.security_billing_bank.models.account_bank_statement_line import (
    IMPORT_CONTEXT_KEY,
)

from .bank_common import IVAN, BankCase, read_sample

ITEM_FIELDS = (
    "name",
    "partner_id",
    "currency_id",
    "amount_currency",
    "debit",
    "credit",
    "balance",
    "amount_residual",
    "amount_residual_currency",
    "reconciled",
    "date",
    "display_type",
    "parent_state",
)
MOVE_FIELDS = (
    "state",
    "move_type",
    "date",
    "partner_id",
    "currency_id",
    "amount_total",
    "sequence_number",
)
LINE_FIELDS = (
    "payment_ref",
    "partner_id",
    "amount",
    "amount_currency",
    "foreign_currency_id",
    "currency_id",
    "amount_residual",
    "is_reconciled",
)


@tagged("post_install", "-at_install")
class TestImportJournalItems(BankCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fast_journal = cls._create_bank_journal("Registry fast", "RFST")
        cls.odoo_journal = cls._create_bank_journal("Registry Odoo", "RODO")
        company_currency = cls.env.company.currency_id
        cls.foreign = cls.env.ref(
            "base.EUR" if company_currency.name != "EUR" else "base.USD"
        )
        cls.foreign.active = True
        cls.other_account = cls.company_data["default_account_revenue"]

    def vals_list(self, journal):
        statement = self.env["account.bank.statement"].create(
            {"name": f"Statement {journal.code}", "journal_id": journal.id}
        )
        common = {"statement_id": statement.id, "journal_id": journal.id}
        return [
            {**common, "date": "2025-03-03", "payment_ref": "No partner", "amount": 30},
            {
                **common,
                "date": "2025-03-03",
                "payment_ref": "With partner",
                "amount": 45.5,
                "partner_id": self.ivan.id,
            },
            {**common, "date": "2025-03-04", "payment_ref": "Outgoing", "amount": -12},
            {
                **common,
                "date": "2025-03-04",
                "payment_ref": "Foreign",
                "amount": 100,
                "foreign_currency_id": self.foreign.id,
                "amount_currency": 90,
            },
            {
                **common,
                "date": "2025-03-05",
                "payment_ref": "Counterpart",
                "amount": 7,
                "counterpart_account_id": self.other_account.id,
            },
            {**common, "date": "2025-03-05", "payment_ref": "Zero", "amount": 0},
        ]

    def create_lines(self, journal, imported):
        model = self.st_lines
        if imported:
            model = model.with_context(**{IMPORT_CONTEXT_KEY: True})
        return model.create(self.vals_list(journal))

    def item_values(self, item):
        journal = item.move_id.journal_id
        roles = {
            journal.default_account_id: "liquidity",
            journal.suspense_account_id: "suspense",
        }
        values = {name: item[name] for name in ITEM_FIELDS}
        values["account"] = roles.get(item.account_id, item.account_id)
        return values

    def line_values(self, line):
        move = line.move_id
        return {
            "line": {name: line[name] for name in LINE_FIELDS},
            "move": {name: move[name] for name in MOVE_FIELDS},
            "name": move.name.replace(line.journal_id.code, "CODE"),
            "statement_line": move.statement_line_id == line,
            "items": [self.item_values(item) for item in move.line_ids.sorted("id")],
        }

    def test_fast_path_for_lines_of_the_journal_currency_only(self):
        vals_list = self.vals_list(self.fast_journal)
        prepared = [self.st_lines._security_prepare_import_vals(v) for v in vals_list]
        fast = [bool(vals.get("line_ids")) for vals in prepared]
        # partner, foreign currency and counterpart account: Odoo's own path
        self.assertEqual(fast, [True, False, True, False, False, True])
        items = prepared[0]["line_ids"]
        self.assertEqual(len(items), 2)
        self.assertNotIn("move_id", items[0][2])
        self.assertEqual(vals_list[0].get("line_ids"), None, "vals not modified")

    def test_imported_lines_have_the_items_odoo_makes(self):
        fast = self.create_lines(self.fast_journal, imported=True)
        odoo = self.create_lines(self.odoo_journal, imported=False)
        self.assertEqual(len(fast), 6)
        for fast_line, odoo_line in zip(fast, odoo, strict=True):
            with self.subTest(line=fast_line.payment_ref):
                self.assertEqual(
                    self.line_values(fast_line), self.line_values(odoo_line)
                )
                self.assertEqual(len(fast_line.move_id.line_ids), 2)
        names = fast.sorted(lambda line: line.move_id.sequence_number).mapped("name")
        self.assertEqual(len(set(names)), 6)
        no_partner, with_partner = fast[:2]
        liquidity, suspense, other = no_partner._seek_for_lines()
        self.assertEqual((len(liquidity), len(suspense), len(other)), (1, 1, 0))
        self.assertFalse(suspense.partner_id)
        self.assertEqual(suspense.balance, -30)
        self.assertEqual(with_partner.move_id.line_ids.partner_id, self.ivan)
        self.assertEqual(with_partner.move_id.partner_id, self.ivan)
        self.assertFalse(no_partner.is_reconciled)
        self.assertTrue(fast[4].is_reconciled, "counterpart account: reconciled")
        self.assertEqual(fast[3].move_id.currency_id, self.foreign)

    def test_journal_in_another_currency(self):
        """Lines of a journal in a foreign currency: the company amounts are
        converted at the line's date, as Odoo does."""
        self.env["res.currency.rate"].create(
            {"currency_id": self.foreign.id, "name": "2025-03-01", "rate": 0.8}
        )
        fast_journal = self._create_bank_journal("Registry fast EUR", "RFSE")
        odoo_journal = self._create_bank_journal("Registry Odoo EUR", "RODE")
        (fast_journal | odoo_journal).currency_id = self.foreign
        fast = self.create_lines(fast_journal, imported=True)
        odoo = self.create_lines(odoo_journal, imported=False)
        for fast_line, odoo_line in zip(fast, odoo, strict=True):
            with self.subTest(line=fast_line.payment_ref):
                self.assertEqual(
                    self.line_values(fast_line), self.line_values(odoo_line)
                )
        liquidity = fast[0]._seek_for_lines()[0]
        self.assertEqual(liquidity.amount_currency, 30)
        self.assertEqual(liquidity.currency_id, self.foreign)
        self.assertAlmostEqual(liquidity.balance, 37.5)

    def test_edited_imported_line_resyncs_its_items(self):
        line = self.create_lines(self.fast_journal, imported=True)[0]
        line.write({"amount": 50, "partner_id": self.ivan.id})
        liquidity, suspense, _other = line._seek_for_lines()
        self.assertEqual(liquidity.balance, 50)
        self.assertEqual(suspense.balance, -50)
        self.assertEqual((liquidity | suspense).partner_id, self.ivan)

    def test_registry_import_pays_through_the_fast_path(self):
        self.import_registry(read_sample("registry.csv"))
        lines = self.journal_lines(self.registry_journal)
        self.assertEqual(len(lines), 6)
        for line in lines:
            self.assertEqual(len(line.move_id.line_ids), 2)
            self.assertEqual(line.move_id.state, "posted")
        self.assertEqual(len(set(lines.move_id.mapped("name"))), 6)
        paid = lines.filtered(lambda line: line.security_account_ref == IVAN)
        self.assertTrue(paid.is_reconciled)
