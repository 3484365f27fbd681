"""Payment-system registries (CSV and XLSX) through the OCA sheet import."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from .bank_common import ANNA, IVAN, SHIELD, UNKNOWN, BankCase, read_sample

# PaymentID -> (amount, account column, expected state, reason or payer ref)
EXPECTED = {
    "PS-0001": (1500.0, IVAN, "matched", IVAN),
    "PS-0002": (30.0, ANNA, "matched", ANNA),
    "PS-0003": (45.5, "10000-33", "matched", SHIELD),
    "PS-0004": (10.0, UNKNOWN, "to_match", f"{UNKNOWN}: no such subscriber"),
    "PS-0005": (20.0, "1000018", "to_match", "fails its check digit"),
    "PS-0006": (25.0, False, "matched", IVAN),
}


@tagged("post_install", "-at_install")
class TestRegistryImport(BankCase):
    def lines_by_payment_id(self):
        prefix = f"{self.registry_journal.id}-"
        result = {}
        for line in self.journal_lines(self.registry_journal):
            self.assertTrue(line.unique_import_id.startswith(prefix))
            result[line.unique_import_id[len(prefix) :]] = line
        return result

    def assert_registry_imported(self):
        lines = self.lines_by_payment_id()
        self.assertEqual(set(lines), set(EXPECTED))
        partners = {IVAN: self.ivan, ANNA: self.anna, SHIELD: self.shield}
        for payment_id, (amount, column, state, detail) in EXPECTED.items():
            with self.subTest(payment_id=payment_id):
                line = lines[payment_id]
                self.assertEqual(line.amount, amount)
                self.assertEqual(
                    (line.security_account_ref or "").strip(), column or ""
                )
                if state == "matched":
                    self.assertPaidBy(line, partners[detail])
                else:
                    self.assertLineState(line, state, detail)
        self.assertEqual(lines["PS-0001"].payment_ref, "Monitoring March")
        self.assertEqual(lines["PS-0002"].payment_ref, "Registry payment PS-0002")
        self.assertEqual(lines["PS-0001"].date.isoformat(), "2025-03-03")
        self.assertEqual(lines["PS-0006"].date.isoformat(), "2025-03-05")
        self.assertEqual(len(self.bank_payments(self.ivan)), 2)
        self.assertEqual(self.ivan.security_balance, 1500.0 + 25.0 - 30.0)
        self.assertEqual(len(self.bank_payments()), 4)

    def test_csv_registry(self):
        action = self.import_registry(read_sample("registry.csv"))
        self.assert_registry_imported()
        self.assertIn(
            "4 paid to subscribers, 2 to match by hand",
            self.notification_text(action),
        )
        statement = self.journal_lines(self.registry_journal).statement_id
        self.assertEqual(len(statement), 1)
        self.assertAlmostEqual(
            statement.balance_end_real - statement.balance_start, 1630.5
        )

    def test_xlsx_registry(self):
        self.import_registry(read_sample("registry.xlsx"), "registry.xlsx")
        self.assert_registry_imported()

    def test_reimport_imports_nothing(self):
        self.import_registry(read_sample("registry.csv"))
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_registry(read_sample("registry.csv"))
        # the same payments as XLSX are the same transactions
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_registry(read_sample("registry.xlsx"), "registry.xlsx")
        self.assertEqual(len(self.journal_lines(self.registry_journal)), 6)
        self.assertEqual(len(self.bank_payments()), 4)

    def test_partial_reimport_imports_the_new_payments_only(self):
        rows = read_sample("registry.csv").decode().split("\r\n")
        self.import_registry("\r\n".join(rows[:3]).encode())
        self.assertEqual(len(self.bank_payments()), 2)
        action = self.import_registry(read_sample("registry.csv"))
        message = self.notification_text(action)
        self.assertIn("2 transactions had already been imported", message)
        self.assertIn("2 paid to subscribers, 2 to match by hand", message)
        self.assert_registry_imported()

    def test_same_payment_with_another_date_is_a_duplicate(self):
        self.import_registry(read_sample("registry.csv"))
        data = read_sample("registry.csv").replace(b"03.03.2025", b"06.03.2025")
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_registry(data)

    def test_cp1251_registry_with_a_cp1251_mapping(self):
        self.mapping.file_encoding = "windows-1251"
        data = read_sample("registry.csv").decode().encode("cp1251")
        self.import_registry(data)
        line = self.lines_by_payment_id()["PS-0006"]
        self.assertEqual(line.payment_ref, "л/с 1000017 paid by a neighbour")
        self.assertPaidBy(line, self.ivan)

    def test_registry_needs_a_journal(self):
        message = self.import_broken(
            read_sample("registry.csv"), "registry.csv", mapping=self.mapping
        )
        self.assertIn("journal", message)
        self.assertFalse(self.bank_payments())


@tagged("post_install", "-at_install")
class TestBrokenRegistry(BankCase):
    """A broken row rejects the whole file, naming its line."""

    def assert_rejected(self, name, *fragments):
        message = self.import_broken(
            read_sample(name), name, self.registry_journal, self.mapping
        )
        for fragment in fragments:
            self.assertIn(fragment, message)
        self.assertFalse(self.journal_lines(self.registry_journal))
        self.assertFalse(self.bank_payments())
        return message

    def test_missing_column(self):
        self.assert_rejected(
            "registry_missing_column.csv", "line 1:", "lacks the column(s) 'Amount'"
        )

    def test_non_numeric_amount(self):
        self.assert_rejected(
            "registry_bad_amount.csv", "line 3:", "amount '3O.00' is not a number"
        )

    def test_bad_date(self):
        self.assert_rejected(
            "registry_bad_date.csv",
            "line 4:",
            "malformed date '2025-03-04'",
            "%d.%m.%Y",
        )

    def test_empty_payment_id(self):
        self.assert_rejected(
            "registry_empty_id.csv", "line 5:", "the payment id is empty"
        )

    def test_duplicate_payment_id(self):
        self.assert_rejected(
            "registry_duplicate_id.csv", "line 6:", "PS-0002 repeats line 3"
        )

    def test_short_row(self):
        self.assert_rejected(
            "registry_short_row.csv", "line 3:", "missing column(s) 'Amount'"
        )

    def test_wrong_encoding(self):
        """A Windows-1251 file for a UTF-8 mapping is refused, not guessed."""
        data = read_sample("registry.csv").decode().encode("cp1251")
        message = self.import_broken(
            data, "registry.csv", self.registry_journal, self.mapping
        )
        self.assertIn("line 7: byte 0xEB is not valid utf-8-sig", message)
        self.assertFalse(self.journal_lines(self.registry_journal))

    def test_truncated_xlsx(self):
        self.assert_rejected(
            "registry_truncated.xlsx", "cannot be read as XLSX", "truncated"
        )

    def test_zero_amount(self):
        data = read_sample("registry.csv").replace(b";45.50;", b";0.00;")
        message = self.import_broken(
            data, "registry.csv", self.registry_journal, self.mapping
        )
        self.assertIn("line 4: the amount is zero", message)
        self.assertFalse(self.journal_lines(self.registry_journal))

    def test_header_only(self):
        data = b"Account;PaymentID;Date;Amount;Comment\r\n"
        message = self.import_broken(
            data, "registry.csv", self.registry_journal, self.mapping
        )
        self.assertIn("holds no payment", message)

    def test_empty_file(self):
        message = self.import_broken(
            b"\r\n", "registry.csv", self.registry_journal, self.mapping
        )
        self.assertIn("empty", message)
