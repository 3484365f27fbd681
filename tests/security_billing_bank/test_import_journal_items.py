"""Imported statement lines get their journal items at creation: the same
statement lines, entries and items as Odoo's own creation of statement lines."""

from odoo import models
from odoo.tests import tagged

from odoo.addons.security_billing_bank.models import (
    account_bank_statement_line_import as line_import,
)

from .bank_common import IVAN, BankCase, read_sample

IMPORT_CONTEXT_KEY = line_import.IMPORT_CONTEXT_KEY

# Stored fields not compared: ids, timestamps, access tokens, and the sort keys
# holding a line's id. Names and journal-specific records are normalized.
SKIPPED_FIELDS = {
    "id",
    "create_date",
    "create_uid",
    "write_date",
    "write_uid",
    "access_token",
    "internal_index",
    "first_line_index",
}
# Records other than these are compared by role (journal, statement, its
# accounts) or presence (an entry, a reconciliation, ...).
SHARED_MODELS = {
    "res.partner",
    "res.partner.bank",
    "res.currency",
    "res.company",
    "res.users",
    "account.fiscal.position",
    "account.payment.term",
    "account.payment.method.line",
    "account.tax",
    "account.account.tag",
}


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
        cls.third = cls.env.ref(
            "base.GBP" if company_currency.name != "GBP" else "base.CHF"
        )
        (cls.foreign | cls.third).active = True
        cls.other_account = cls.company_data["default_account_revenue"]
        cls.fiscal_position = cls.env["account.fiscal.position"].create(
            {"name": "Abroad"}
        )
        cls.shield.write(
            {
                "property_account_position_id": cls.fiscal_position.id,
                "property_outbound_payment_method_line_id": (
                    cls.bank_journal.outbound_payment_method_line_ids[:1].id
                ),
            }
        )
        cls.company_payer = cls.env["res.partner"].create(
            {"name": "Payer LLC", "is_company": True}
        )
        cls.contact = cls.env["res.partner"].create(
            {"name": "Payer's accountant", "parent_id": cls.company_payer.id}
        )
        banks = cls.env["res.partner.bank"]
        cls.anna_banks = banks.create(
            [
                {"acc_number": "40817810000000000001", "partner_id": cls.anna.id},
                {"acc_number": "40817810000000000002", "partner_id": cls.anna.id},
            ]
        )
        cls.payer_bank = banks.create(
            {"acc_number": "40702810000000000009", "partner_id": cls.company_payer.id}
        )

    def vals_list(self, journal):
        statement = self.env["account.bank.statement"].create(
            {"name": f"Statement {journal.code}", "journal_id": journal.id}
        )
        common = {"statement_id": statement.id, "journal_id": journal.id}
        ivan, anna = self.ivan.id, self.anna.id
        return [
            {**common, "date": "2025-03-03", "payment_ref": "No partner", "amount": 30},
            {
                **common,
                "date": "2025-03-03",
                "payment_ref": "With partner",
                "amount": 45.5,
                "partner_id": ivan,
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
            {
                **common,
                "date": "2025-03-05",
                "payment_ref": "Outgoing with partner",
                "amount": -20,
                "partner_id": ivan,
            },
            {
                # as OCA's import finds the partner: by the payer's account,
                # its second bank account (not the one Odoo would pick)
                **common,
                "date": "2025-03-06",
                "payment_ref": "Partner by bank account",
                "ref": "PP 15",
                "amount": 30,
                "partner_id": anna,
                "partner_bank_id": self.anna_banks[1].id,
                "account_number": "40817810000000000002",
                "partner_name": "Anna Maria Sidorova",
                "transaction_type": "01",
                "unique_import_id": f"{journal.code}-15",
            },
            {
                **common,
                "date": "2025-03-06",
                "payment_ref": "Partner with bank accounts",
                "amount": 31,
                "partner_id": anna,
            },
            {
                **common,
                "date": "2025-03-06",
                "payment_ref": "Contact of a company",
                "amount": 32,
                "partner_id": self.contact.id,
            },
            {
                **common,
                "date": "2025-03-07",
                "payment_ref": "Partner with a fiscal position",
                "amount": 33,
                "partner_id": self.shield.id,
                "narration": "<p>Paid at the counter</p>",
            },
            {
                **common,
                "date": "2025-03-07",
                "payment_ref": False,
                "amount": 34,
                "partner_id": ivan,
            },
            {
                **common,
                "date": "2025-03-07",
                "payment_ref": "Foreign with partner",
                "amount": 110,
                "partner_id": ivan,
                "foreign_currency_id": self.foreign.id,
                "amount_currency": 99,
            },
            {
                **common,
                "date": "2025-03-08",
                "payment_ref": "Counterpart with partner",
                "amount": 8,
                "partner_id": ivan,
                "counterpart_account_id": self.other_account.id,
            },
            {
                **common,
                "date": "2025-03-08",
                "payment_ref": "Zero with partner",
                "amount": 0,
                "partner_id": ivan,
            },
            {
                **common,
                "date": "2025-03-08",
                "payment_ref": "Unrounded amounts",
                "amount": 10.004,
                "foreign_currency_id": self.foreign.id,
                "amount_currency": 9.996,
                "partner_id": ivan,
            },
        ]

    def other_currency_vals(self, journal):
        """Lines of a foreign-currency journal in the company's currency and
        in a third currency."""
        common = {"journal_id": journal.id, "date": "2025-03-09"}
        company_currency = self.env.company.currency_id
        return [
            {
                **common,
                "payment_ref": "In the company currency",
                "amount": 40,
                "partner_id": self.ivan.id,
                "foreign_currency_id": company_currency.id,
                "amount_currency": 50.3,
            },
            {
                **common,
                "payment_ref": "In a third currency",
                "amount": -41,
                "foreign_currency_id": self.third.id,
                "amount_currency": -55.55,
            },
            {
                **common,
                "payment_ref": "Third currency, no amount in it",
                "amount": 42,
                "partner_id": self.anna.id,
                "foreign_currency_id": self.third.id,
            },
        ]

    def create_lines(self, journal, imported, extra=()):
        """Create the lines as the import does (``imported``) or as Odoo
        does, with the chatter on (followers, messages, tracking)."""
        context = dict(
            self.env.context,
            tracking_disable=False,
            mail_notrack=False,
            mail_create_nolog=False,
            mail_create_nosubscribe=False,
        )
        model = self.st_lines.with_context(context)
        if imported:
            model = model.with_context(**{IMPORT_CONTEXT_KEY: True})
        return model.create(self.vals_list(journal) + list(extra))

    def normalize(self, record, name, roles):
        """The value of field ``name`` of ``record``, comparable between the
        two journals."""
        value = record[name]
        if isinstance(value, models.BaseModel):
            if value._name in SHARED_MODELS:
                return value
            return [roles.get(rec, bool(rec)) for rec in value]
        if isinstance(value, str) and name in ("name", "move_name", "sequence_prefix"):
            return value.replace(record.journal_id.code, "CODE")
        if name == "unique_import_id" and value:
            return value.replace(record.journal_id.code, "CODE")
        return value

    def record_values(self, record, roles):
        return {
            name: self.normalize(record, name, roles)
            for name, field in record._fields.items()
            if field.store
            and field.type != "one2many"
            and not field.inherited
            and name not in SKIPPED_FIELDS
        }

    def line_values(self, line):
        """All stored values of the statement line, its entry and its journal
        items; records of the line's own journal by their role."""
        move = line.move_id
        journal = line.journal_id
        roles = {
            journal: "journal",
            journal.default_account_id: "liquidity",
            journal.suspense_account_id: "suspense",
            line.statement_id: "statement",
            line: "statement line",
            move: "entry",
        }
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking values
        return {
            "line": self.record_values(line, roles),
            "move": self.record_values(move, roles),
            "followers": move.message_partner_ids,
            "messages": [
                (
                    message.message_type,
                    message.body,
                    [
                        (
                            value.field_id.name,
                            value.old_value_char,
                            value.new_value_char,
                        )
                        for value in message.tracking_value_ids
                    ],
                )
                for message in move.message_ids
            ],
            "items": [
                self.record_values(item, roles) for item in move.line_ids.sorted("id")
            ],
        }

    def assertSameAsOdoo(self, fast, odoo):
        self.assertEqual(len(fast), len(odoo))
        for fast_line, odoo_line in zip(fast, odoo, strict=True):
            with self.subTest(line=fast_line.payment_ref):
                self.assertEqual(
                    self.line_values(fast_line), self.line_values(odoo_line)
                )
                self.assertEqual(len(fast_line.move_id.line_ids), 2)
        statements = [
            self.record_values(lines.statement_id, {lines.journal_id: "journal"})
            for lines in (fast, odoo)
        ]
        self.assertEqual(statements[0], statements[1])

    def test_fast_path_for_lines_without_counterpart_account(self):
        vals_list = self.vals_list(self.fast_journal)
        prepared = [self.st_lines._security_prepare_import_vals(v) for v in vals_list]
        fast = [bool(vals.get("line_ids")) for vals in prepared]
        # counterpart account: Odoo's own path
        expected = [True, True, True, True, False, True, True]
        expected += [True, True, True, True, True, True, False, True, True]
        self.assertEqual(fast, expected)
        self.assertNotIn("partner_bank_id", prepared[7], "computed from the partner")
        self.assertIn("partner_bank_id", vals_list[7])
        given = {
            "fiscal_position_id": self.fiscal_position.id,
            "commercial_partner_id": self.shield.id,
            "invoice_payment_term_id": self.env.ref(
                "account.account_payment_term_30days"
            ).id,
        }
        for name, value in given.items():
            with self.subTest(field=name):
                vals = {**vals_list[1], name: value}
                with_field = self.st_lines._security_prepare_import_vals(vals)
                self.assertNotIn("line_ids", with_field, "Odoo would recompute it")
        items = prepared[1]["line_ids"]
        self.assertEqual(len(items), 2)
        self.assertNotIn("move_id", items[0][2])
        self.assertEqual(items[0][2]["partner_id"], self.ivan.id)
        self.assertEqual(vals_list[1].get("line_ids"), None, "vals not modified")

    def test_imported_lines_are_the_lines_odoo_makes(self):
        fast = self.create_lines(self.fast_journal, imported=True)
        odoo = self.create_lines(self.odoo_journal, imported=False)
        self.assertSameAsOdoo(fast, odoo)
        names = fast.sorted(lambda line: line.move_id.sequence_number).mapped("name")
        self.assertEqual(len(set(names)), 16)
        no_partner, with_partner = fast[:2]
        liquidity, suspense, other = no_partner._seek_for_lines()
        self.assertEqual((len(liquidity), len(suspense), len(other)), (1, 1, 0))
        self.assertFalse(suspense.partner_id)
        self.assertEqual(suspense.balance, -30)
        self.assertEqual(with_partner.move_id.line_ids.partner_id, self.ivan)
        self.assertEqual(with_partner.move_id.partner_id, self.ivan)
        by_bank, with_banks, contact, taxed = fast[7:11]
        # Odoo recomputes it from the partner: its first bank account
        self.assertEqual(by_bank.move_id.partner_bank_id, self.anna_banks[0])
        self.assertEqual(with_banks.move_id.partner_bank_id, self.anna_banks[0])
        self.assertEqual(contact.move_id.line_ids.partner_id, self.contact)
        self.assertEqual(contact.move_id.commercial_partner_id, self.company_payer)
        self.assertEqual(contact.move_id.partner_bank_id, self.payer_bank)
        self.assertEqual(taxed.move_id.fiscal_position_id, self.fiscal_position)
        self.assertTrue(taxed.move_id.preferred_payment_method_line_id)
        self.assertFalse(no_partner.is_reconciled)
        self.assertTrue(fast[4].is_reconciled, "counterpart account: reconciled")
        foreign, foreign_partner = fast[3], fast[12]
        self.assertEqual(foreign.move_id.currency_id, self.foreign)
        self.assertEqual(foreign_partner.move_id.currency_id, self.foreign)
        self.assertEqual(foreign_partner.move_id.partner_id, self.ivan)
        suspense = foreign_partner._seek_for_lines()[1]
        self.assertEqual(suspense.currency_id, self.foreign)
        self.assertEqual(suspense.amount_currency, -99)
        self.assertEqual(suspense.balance, -110)

    def test_journal_in_another_currency(self):
        """Lines of a journal in a foreign currency: the company amounts are
        converted at the line's date, as Odoo does; lines in the company's
        currency or in a third one too."""
        self.env["res.currency.rate"].create(
            [
                {"currency_id": self.foreign.id, "name": "2025-03-01", "rate": 0.8},
                {"currency_id": self.third.id, "name": "2025-03-01", "rate": 0.7},
            ]
        )
        fast_journal = self._create_bank_journal("Registry fast EUR", "RFSE")
        odoo_journal = self._create_bank_journal("Registry Odoo EUR", "RODE")
        (fast_journal | odoo_journal).currency_id = self.foreign
        fast = self.create_lines(
            fast_journal, True, self.other_currency_vals(fast_journal)
        )
        odoo = self.create_lines(
            odoo_journal, False, self.other_currency_vals(odoo_journal)
        )
        self.assertSameAsOdoo(fast, odoo)
        liquidity = fast[0]._seek_for_lines()[0]
        self.assertEqual(liquidity.amount_currency, 30)
        self.assertEqual(liquidity.currency_id, self.foreign)
        self.assertAlmostEqual(liquidity.balance, 37.5)
        in_company, in_third = fast[-3:-1]
        liquidity, suspense, _other = in_company._seek_for_lines()
        self.assertEqual(liquidity.amount_currency, 40)
        self.assertEqual((suspense.amount_currency, suspense.balance), (-50.3, -50.3))
        self.assertEqual(in_company.move_id.currency_id, self.env.company.currency_id)
        suspense = in_third._seek_for_lines()[1]
        self.assertEqual(suspense.currency_id, self.third)
        self.assertEqual(suspense.amount_currency, 55.55)
        self.assertAlmostEqual(suspense.balance, 51.25)
        self.assertEqual(in_third.move_id.currency_id, self.third)

    def test_edited_imported_line_resyncs_its_items(self):
        line = self.create_lines(self.fast_journal, imported=True)[0]
        line.write({"amount": 50, "partner_id": self.ivan.id})
        liquidity, suspense, _other = line._seek_for_lines()
        self.assertEqual(liquidity.balance, 50)
        self.assertEqual(suspense.balance, -50)
        self.assertEqual((liquidity | suspense).partner_id, self.ivan)
        self.assertEqual(line.move_id.partner_id, self.ivan)

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

    def test_1c_payers_known_by_their_bank_account(self):
        """OCA's import gives the lines of known bank accounts their partner:
        their entries and items carry it; matching still pays the subscriber
        named in the purpose."""
        banks = self.env["res.partner.bank"]
        banks.create({"acc_number": "40817810500001234567", "partner_id": self.ivan.id})
        payer = self.env["res.partner"].create({"name": "Петрова Мария Сергеевна"})
        banks.create({"acc_number": "40817810099910004321", "partner_id": payer.id})
        payee = self.env["res.partner"].create({"name": "Payee", "is_company": True})
        payee_bank = banks.create(
            {"acc_number": "70601810000002740203", "partner_id": payee.id}
        )
        self.import_file(
            read_sample("1c_windows.txt"), "kl_to_1c.txt", self.bank_journal
        )
        lines = {line.ref: line for line in self.journal_lines(self.bank_journal)}
        self.assertEqual(len(lines), 5)
        for line in lines.values():
            with self.subTest(line=line.ref):
                self.assertEqual(len(line.move_id.line_ids), 2)
                self.assertEqual(line.move_id.state, "posted")
                self.assertEqual(line.move_id.partner_id, line.partner_id)
                self.assertEqual(line.move_id.line_ids.partner_id, line.partner_id)
        outgoing = lines["3318"]
        self.assertEqual(outgoing.security_match_state, "ignored")
        self.assertEqual(outgoing.partner_id, payee)
        self.assertEqual(outgoing.move_id.partner_bank_id, payee_bank)
        self.assertEqual(lines["214"].security_payment_id.partner_id, self.ivan)
        self.assertTrue(lines["214"].is_reconciled)
        # the payer is not the subscriber of the purpose: the entry goes to
        # the subscriber paid
        self.assertEqual(lines["9"].security_payment_id.partner_id, self.shield)
        self.assertEqual(lines["9"].partner_id, self.shield)
        self.assertTrue(lines["9"].is_reconciled)
