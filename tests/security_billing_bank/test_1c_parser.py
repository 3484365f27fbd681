# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Tests of the 1CClientBankExchange statement parser and its import."""

import base64
import datetime
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

SAMPLES = Path(__file__).parent / "samples"
OUR_ACCOUNT = "40702810900000000001"
CAMT_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
    b"<BkToCstmrStmt/></Document>\n"
)
EXPECTED_LINES = [
    # (ref, amount, unique_import_id without the journal prefix)
    ("214", 1500.0, "in:2025-03-03:214:1500.00:40817810500001234567:771234567890"),
    ("57", 4200.0, "in:2025-03-03:57:4200.00:40702810338000012345:7701234567"),
    (
        "1052",
        -15000.0,
        "out:2025-03-03:1052:15000.00:40702810100020003000:7725111111",
    ),
    ("9", 3000.0, "in:2025-03-04:9:3000.00:40817810099910004321:500100732259"),
    ("3318", -300.5, "out:2025-03-04:3318:300.50:70601810000002740203:7707083893"),
]
FUZZ_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def read_sample(name):
    return (SAMPLES / name).read_bytes()


def to_json(parsed):
    """The parse result as plain JSON data (dates as ISO strings)."""
    return json.loads(
        json.dumps(parsed, ensure_ascii=False, default=datetime.date.isoformat)
    )


def sample_lines():
    return read_sample("1c_windows.txt").decode("cp1251").split("\r\n")


def encode_lines(lines):
    return "\r\n".join(lines).encode("cp1251", "replace")


@tagged("post_install", "-at_install")
class Test1CParserCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parser = cls.env["account.statement.import.1c.parser"]

    def parse_sample(self, name):
        return self.parser.parse(read_sample(name))

    def assertBroken(self, data, line, *fragments):
        with self.assertRaises(UserError) as caught:
            self.parser.parse(data)
        message = str(caught.exception)
        self.assertIn(f"line {line}:", message)
        for fragment in fragments:
            self.assertIn(fragment, message)


class TestParseGolden(Test1CParserCase):
    def assert_golden(self, name):
        golden = json.loads((SAMPLES / name).with_suffix(".golden.json").read_text())
        self.assertEqual(to_json(self.parse_sample(name)), golden)

    def test_windows_matches_golden(self):
        self.assert_golden("1c_windows.txt")

    def test_dos_matches_golden(self):
        self.assert_golden("1c_dos.txt")

    def test_both_encodings_give_same_transactions(self):
        windows = to_json(self.parse_sample("1c_windows.txt"))
        dos = to_json(self.parse_sample("1c_dos.txt"))
        for result in (windows, dos):
            for _currency, _account, statements in result:
                for statement in statements:
                    statement.pop("name")
        self.assertEqual(windows, dos)

    def test_structure(self):
        [(currency, account, [statement])] = self.parse_sample("1c_windows.txt")
        self.assertIsNone(currency)
        self.assertEqual(account, OUR_ACCOUNT)
        self.assertEqual(statement["balance_start"], 125000.0)
        self.assertEqual(statement["balance_end_real"], 118399.5)
        amounts = [line["amount"] for line in statement["transactions"]]
        self.assertEqual(amounts, [line[1] for line in EXPECTED_LINES])
        self.assertAlmostEqual(
            statement["balance_start"] + sum(amounts), statement["balance_end_real"]
        )
        first = statement["transactions"][0]
        self.assertIn("л/с 1000017", first["payment_ref"])
        self.assertEqual(first["partner_name"], "Иванов Иван Иванович")
        self.assertEqual(first["account_number"], "40817810500001234567")
        self.assertEqual(first["transaction_details"]["partner_inn"], "771234567890")


class TestParseVariants(Test1CParserCase):
    def test_value_may_contain_equal_sign(self):
        [(_c, _a, [statement])] = self.parse_sample("1c_windows.txt")
        self.assertIn(
            "(ИК=12 шт.), НДС 20% = 2500.00",
            statement["transactions"][2]["payment_ref"],
        )

    def test_missing_encoding_defaults_to_windows(self):
        lines = [line for line in sample_lines() if not line.startswith("Кодировка")]
        [(_c, account, _s)] = self.parser.parse(encode_lines(lines))
        self.assertEqual(account, OUR_ACCOUNT)

    def test_identical_documents_get_distinct_ids(self):
        lines = sample_lines()
        start = lines.index("СекцияДокумент=Платежное поручение")
        end = lines.index("КонецДокумента") + 1
        lines[end:end] = lines[start:end]
        [(_c, _a, [statement])] = self.parser.parse(encode_lines(lines))
        ids = [line["unique_import_id"] for line in statement["transactions"]]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(ids[1], ids[0] + "#2")

    def test_transfer_between_own_accounts(self):
        other = "40702810200000000002"
        lines = sample_lines()
        lines.insert(lines.index("СекцияРасчСчет"), f"РасчСчет={other}")
        lines[lines.index("ПолучательСчет=40702810100020003000")] = (
            f"ПолучательСчет={other}"
        )
        parsed = self.parser.parse(encode_lines(lines))
        self.assertEqual([account for _c, account, _s in parsed], [OUR_ACCOUNT, other])
        [incoming] = parsed[1][2][0]["transactions"]
        self.assertEqual(incoming["amount"], 15000.0)
        self.assertEqual(incoming["account_number"], OUR_ACCOUNT)
        self.assertNotIn("balance_start", parsed[1][2][0])


class TestParseForeign(Test1CParserCase):
    def test_foreign_files_raise_value_error(self):
        for data in (
            b"",
            CAMT_HEAD,
            b"date,amount,label\n2025-03-03,1500.00,acc 1000017\n",
            "1CClientBankExchange".encode("utf-16"),
            b"\x00\xff" * 40,
            " 1CClientBankExchange\r\nКонецФайла\r\n".encode("cp1251"),
        ):
            with self.subTest(data=data[:30]), self.assertRaises(ValueError):
                self.parser.parse(data)


class TestParseBroken(Test1CParserCase):
    def test_truncated(self):
        self.assertBroken(
            read_sample("1c_truncated.txt"), 70, "КонецФайла is missing", "truncated"
        )

    def test_unclosed_section(self):
        self.assertBroken(
            read_sample("1c_unclosed_section.txt"),
            70,
            "СекцияДокумент opened at line 48 is not closed",
        )

    def test_bad_date(self):
        self.assertBroken(
            read_sample("1c_bad_date.txt"), 95, "malformed date '2025-03-04'"
        )

    def test_bad_amount(self):
        self.assertBroken(
            read_sample("1c_bad_amount.txt"), 51, "malformed amount '4200,00'"
        )

    def test_bad_encoding(self):
        self.assertBroken(
            read_sample("1c_bad_encoding.txt"),
            3,
            "declares the encoding DOS but is written in Windows",
        )

    def test_undecodable_byte(self):
        data = read_sample("1c_windows.txt").replace(b"\xe4\xee\xec\xe0", b"\x98")
        self.assertBroken(data, 105, "byte 0x98 cannot be decoded", "Windows")

    def test_unknown_encoding(self):
        lines = sample_lines()
        lines[2] = "Кодировка=KOI8-R"
        self.assertBroken(encode_lines(lines), 3, "unknown encoding 'KOI8-R'")

    def test_line_without_equal_sign(self):
        lines = sample_lines()
        lines[30] = "Бессмысленная строка"
        self.assertBroken(encode_lines(lines), 31, "no '='")

    def test_no_document(self):
        lines = sample_lines()
        start = lines.index("СекцияДокумент=Платежное поручение")
        del lines[start:-2]
        self.assertBroken(encode_lines(lines), start + 1, "no payment document")

    def test_no_account(self):
        lines = [line for line in sample_lines() if not line.startswith("РасчСчет=")]
        self.assertBroken(encode_lines(lines), 12, "РасчСчет is missing")
        lines = [line for line in lines if "РасчСчет" not in line]
        lines = [line for line in lines if line != "КонецРасчСчет"]
        self.assertBroken(encode_lines(lines), 1, "no bank account")

    def test_document_not_ours(self):
        lines = sample_lines()
        lines[lines.index(f"ПолучательСчет={OUR_ACCOUNT}")] = (
            "ПолучательСчет=40702810999999999999"
        )
        self.assertBroken(encode_lines(lines), 22, "document no. 214 involves none")

    def test_missing_amount(self):
        lines = sample_lines()
        lines.remove("Сумма=1500.00")
        self.assertBroken(encode_lines(lines), 22, "field Сумма is missing")

    def test_repeated_field(self):
        lines = sample_lines()
        lines.insert(25, "Сумма=1.00")
        self.assertBroken(encode_lines(lines), 26, "field Сумма repeated")

    def test_content_after_end(self):
        lines = [*sample_lines()[:-1], "Номер=1", ""]
        self.assertBroken(encode_lines(lines), 122, "after КонецФайла")

    def test_stray_section_end(self):
        lines = sample_lines()
        lines.insert(21, "КонецДокумента")
        self.assertBroken(encode_lines(lines), 22, "without a matching")

    def test_control_character(self):
        data = read_sample("1c_windows.txt").replace(b"214", b"2\x0014")
        self.assertBroken(data, 23, "control character 0x00")


@tagged("post_install", "-at_install")
class TestImportWizard(TransactionCase):
    """End-to-end import through the OCA wizard."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        bank_account = cls.env["res.partner.bank"].create(
            {
                "acc_number": OUR_ACCOUNT,
                "partner_id": cls.env.company.partner_id.id,
                "company_id": cls.env.company.id,
            }
        )
        cls.journal = cls.env["account.journal"].create(
            {
                "name": "Bank 1C test",
                "code": "B1CT",
                "type": "bank",
                "bank_account_id": bank_account.id,
            }
        )
        cls.lines = cls.env["account.bank.statement.line"]

    def import_file(self, data, filename="statement.txt", journal=None):
        journal = self.journal if journal is None else journal
        wizard = self.env["account.statement.import"].create(
            {
                "statement_filename": filename,
                "statement_file": base64.b64encode(data),
            }
        )
        return wizard.with_context(journal_id=journal.id).import_file_button()

    def two_account_file(self):
        """The sample where payment 1052 goes to a second own account."""
        other = "40702810200000000002"
        lines = sample_lines()
        lines.insert(lines.index("СекцияРасчСчет"), f"РасчСчет={other}")
        lines[lines.index("ПолучательСчет=40702810100020003000")] = (
            f"ПолучательСчет={other}"
        )
        return other, encode_lines(lines)

    def create_journal(self, account_number, code):
        bank_account = self.env["res.partner.bank"].create(
            {
                "acc_number": account_number,
                "partner_id": self.env.company.partner_id.id,
            }
        )
        return self.env["account.journal"].create(
            {
                "name": f"Bank {code}",
                "code": code,
                "type": "bank",
                "bank_account_id": bank_account.id,
            }
        )

    def journal_lines(self):
        return self.lines.search(
            [("journal_id", "=", self.journal.id)], order="sequence, id"
        )

    def test_import_creates_expected_lines(self):
        self.import_file(read_sample("1c_windows.txt"))
        lines = self.journal_lines()
        prefix = f"{OUR_ACCOUNT}-{self.journal.id}-1C:{OUR_ACCOUNT}:"
        self.assertEqual(
            [(line.ref, line.amount, line.unique_import_id) for line in lines],
            [(ref, amount, prefix + uid) for ref, amount, uid in EXPECTED_LINES],
        )
        statement = lines.statement_id
        self.assertEqual(len(statement), 1)
        self.assertEqual(statement.balance_start, 125000.0)
        self.assertEqual(statement.balance_end_real, 118399.5)
        self.assertTrue(statement.is_complete)
        first = lines[0]
        self.assertEqual(first.partner_name, "Иванов Иван Иванович")
        self.assertEqual(first.account_number, "40817810500001234567")
        self.assertIn("1000017", first.payment_ref)
        self.assertEqual(first.transaction_details["partner_inn"], "771234567890")
        self.assertEqual(self.journal.bank_statements_source, "file_import_oca")

    def test_dos_file_imports_same_lines(self):
        self.import_file(read_sample("1c_dos.txt"))
        self.assertEqual(
            self.journal_lines().mapped("amount"), [line[1] for line in EXPECTED_LINES]
        )

    def test_second_import_imports_nothing(self):
        self.import_file(read_sample("1c_windows.txt"))
        count = len(self.journal_lines())
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_file(read_sample("1c_windows.txt"))
        # Same documents in a DOS file are recognised as well.
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_file(read_sample("1c_dos.txt"))
        self.assertEqual(len(self.journal_lines()), count)

    def test_partial_reimport_skips_known_lines(self):
        lines = sample_lines()
        start = lines.index("СекцияДокумент=Банковский ордер")
        end = lines.index("КонецФайла")
        first_part = [*lines[:start], lines[end]]
        first_part = [
            line for line in first_part if not line.startswith("КонечныйОстаток")
        ]
        self.import_file(encode_lines(first_part))
        self.assertEqual(len(self.journal_lines()), 4)
        action = self.import_file(read_sample("1c_windows.txt"))
        self.assertEqual(len(self.journal_lines()), 5)
        self.assertIn("4 transactions had already been imported", str(action))

    def test_broken_file_imports_nothing(self):
        """The error comes before any write: no savepoint rollback needed."""
        broken = ("1c_truncated.txt", "1c_bad_amount.txt", "1c_bad_date.txt")
        for name in broken:
            with self.subTest(name=name):
                try:
                    self.import_file(read_sample(name))
                except UserError as error:
                    self.assertIn("1C bank statement file, line", str(error))
                else:
                    self.fail(f"{name} was imported")
                self.assertFalse(self.journal_lines())
                self.assertFalse(
                    self.env["account.bank.statement"].search(
                        [("journal_id", "=", self.journal.id)]
                    )
                )

    def test_multi_account_file_one_statement_per_account(self):
        other, data = self.two_account_file()
        other_journal = self.create_journal(other, "B1C2")
        empty = self.env["account.journal"]
        self.import_file(data, journal=empty)
        self.assertEqual(len(self.journal_lines()), 5)
        [transfer] = self.lines.search([("journal_id", "=", other_journal.id)])
        self.assertEqual(transfer.amount, 15000.0)
        self.assertEqual(transfer.account_number, OUR_ACCOUNT)

    def test_multi_account_file_needs_every_journal(self):
        _other, data = self.two_account_file()
        with self.assertRaises(UserError) as caught:
            self.import_file(data, journal=self.env["account.journal"])
        self.assertIn("40702810200000000002", str(caught.exception))

    def test_foreign_file_falls_through(self):
        with self.assertRaisesRegex(UserError, "not supported"):
            self.import_file(b"date,amount\n2025-03-03,1.00\n", "statement.csv")

    def test_journal_advertises_format(self):
        formats = self.journal._get_bank_statements_available_import_formats()
        self.assertIn("1C", formats)


# Mutations applied to the lines of a valid file by the fuzz test.
MUTATIONS = ("delete", "garble", "purpose", "duplicate", "swap")
garbage_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30
)
mutation = st.tuples(st.sampled_from(MUTATIONS), st.integers(min_value=0), garbage_text)


class TestParserFuzz(Test1CParserCase):
    """Any input gives a clean parse, ValueError or UserError; nothing else."""

    def check_outcome(self, data):
        try:
            result = self.parser.parse(data)
        except (ValueError, UserError):
            return
        self.assert_well_typed(result)

    def assert_well_typed(self, result):
        self.assertIsInstance(result, list)
        self.assertTrue(result)
        seen_ids = set()
        for currency, account, statements in result:
            self.assertIsNone(currency)
            self.assertRegex(account, r"^\d{20}$")
            for statement in statements:
                self.assert_statement(statement)
                for line in statement["transactions"]:
                    self.assert_transaction(line)
                    self.assertNotIn(line["unique_import_id"], seen_ids)
                    seen_ids.add(line["unique_import_id"])
        json.dumps(result, default=datetime.date.isoformat)

    def assert_statement(self, statement):
        self.assertIsInstance(statement["name"], str)
        self.assertIsInstance(statement["date"], datetime.date)
        for key in ("balance_start", "balance_end_real"):
            if key in statement:
                self.assertIsInstance(statement[key], float)
        self.assertTrue(statement["transactions"])

    def assert_transaction(self, line):
        self.assertIsInstance(line["date"], datetime.date)
        self.assertIsInstance(line["amount"], float)
        for key in ("payment_ref", "unique_import_id", "ref", "transaction_type"):
            self.assertIsInstance(line[key], str)
        self.assertTrue(line["payment_ref"].strip())
        for key in ("partner_name", "account_number"):
            if key in line:
                self.assertIsInstance(line[key], str)
        self.assertIsInstance(line["transaction_details"], dict)
        for text in (line["payment_ref"], line["unique_import_id"]):
            self.assertNotIn("\x00", text)

    @FUZZ_SETTINGS
    @given(st.binary(max_size=2000))
    def test_random_bytes(self, data):
        self.check_outcome(data)

    @FUZZ_SETTINGS
    @given(st.binary(max_size=500))
    def test_random_bytes_after_header(self, data):
        self.check_outcome(b"1CClientBankExchange\r\n" + data)

    @FUZZ_SETTINGS
    @given(
        st.lists(mutation, min_size=1, max_size=6),
        st.sampled_from(("cp1251", "cp866", "utf-8")),
    )
    def test_mutated_valid_files(self, mutations, codec):
        lines = sample_lines()
        if codec == "cp866":
            lines[2] = "Кодировка=DOS"
        for kind, index, text in mutations:
            self.mutate(lines, kind, index % len(lines), text)
        self.check_outcome("\r\n".join(lines).encode(codec, "replace"))

    def mutate(self, lines, kind, index, text):
        if kind == "delete":
            del lines[index]
        elif kind == "garble":
            key = lines[index].partition("=")[0]
            lines[index] = f"{key}={text}"
        elif kind == "purpose":
            purposes = [
                n for n, line in enumerate(lines) if line.startswith("Назначение")
            ]
            lines[purposes[index % len(purposes)]] = f"НазначениеПлатежа={text}"
        elif kind == "duplicate":
            lines.insert(index, lines[index])
        else:
            lines[index], lines[-index] = lines[-index], lines[index]
        if not lines:
            lines.append("")
