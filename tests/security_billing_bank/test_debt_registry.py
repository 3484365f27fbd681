"""Debt registry for banks and payment terminals: rows, CSV, XLSX, wizard, API."""

import base64
import csv
import io

import openpyxl

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.security_billing.tools import account_ref

from .bank_common import ANNA, IVAN, SHIELD, BankCase

OTHER_COMPANY_REF = account_ref.make_account_ref("200001")
HEADER = ["account_ref", "name", "amount_owed", "recommended_amount"]
HEADER_ADDRESS = ["account_ref", "name", "address", "amount_owed", "recommended_amount"]


@tagged("post_install", "-at_install")
class TestDebtRegistry(BankCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Ivan owes his invoice, Anna paid it, Shield paid more (credit).
        cls.ivan.write({"street": "Lenina 1", "zip": "101000", "city": "Moscow"})
        cls._pay(cls.anna, 30.0)
        cls._pay(cls.shield, 100.0)
        other_company = cls.env["res.company"].create({"name": "Other Guards"})
        cls._create_subscriber(
            "Elsewhere Subscriber",
            security_account_ref=OTHER_COMPANY_REF,
            company_id=other_company.id,
        )
        cls.debts = cls.env["security.debt.registry"]

    def rows_by_ref(self, **kwargs):
        return {row["account_ref"]: row for row in self.debts._get_rows(**kwargs)}

    def test_rows(self):
        rows = self.rows_by_ref()
        self.assertEqual(list(rows), [IVAN, ANNA, SHIELD])
        recommended = (
            self.ivan | self.anna | self.shield
        )._security_recommended_amount()
        self.assertEqual(
            rows[IVAN],
            {
                "account_ref": IVAN,
                "name": "Ivan P***",
                "amount_owed": 30.0,
                "recommended_amount": recommended[self.ivan.id],
            },
        )
        self.assertGreaterEqual(rows[IVAN]["recommended_amount"], 30.0)
        self.assertEqual(rows[ANNA]["name"], "Anna M*** S***")
        self.assertEqual(rows[ANNA]["amount_owed"], 0.0)
        self.assertEqual(rows[SHIELD]["amount_owed"], 0.0)  # credit is not debt
        self.assertEqual(
            rows[SHIELD]["recommended_amount"], recommended[self.shield.id]
        )
        self.assertNotIn(OTHER_COMPANY_REF, rows)  # other company

    def test_debtors_only_and_address(self):
        rows = self.rows_by_ref(debtors_only=True, include_address=True)
        self.assertEqual(list(rows), [IVAN])
        self.assertEqual(rows[IVAN]["address"], "Lenina 1, 101000, Moscow")

    def test_payment_removes_the_debtor(self):
        self._pay(self.ivan, 30.0)
        self.assertFalse(self.rows_by_ref(debtors_only=True))

    def test_csv_file(self):
        rows = self.debts._get_rows(include_address=True)
        rendered = self.debts._render(rows, "csv", include_address=True)
        self.assertTrue(rendered["filename"].endswith(".csv"))
        self.assertEqual(rendered["mimetype"], "text/csv")
        text = base64.b64decode(rendered["content"]).decode("utf-8")
        parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
        self.assertEqual(parsed[0], HEADER_ADDRESS)
        self.assertEqual(
            parsed[1],
            [IVAN, "Ivan P***", "Lenina 1, 101000, Moscow", "30.00", parsed[1][4]],
        )
        self.assertEqual(float(parsed[1][4]), rows[0]["recommended_amount"])
        self.assertEqual([line[0] for line in parsed[1:]], [IVAN, ANNA, SHIELD])
        self.assertEqual(parsed[2][3], "0.00")

    def test_csv_cells_cannot_become_formulas(self):
        """A street or a name that a spreadsheet would run as a formula is
        written with a leading apostrophe; amounts stay numbers."""
        self.ivan.write({"name": "@SUM(1+1) Petrov", "street": "=cmd|' /C calc'!A0"})
        self.anna.write({"name": "-2+3 Sidorova", "street": "+1+1", "zip": False})
        rows = self.debts._get_rows(include_address=True)
        rendered = self.debts._render(rows, "csv", include_address=True)
        text = base64.b64decode(rendered["content"]).decode("utf-8")
        parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
        self.assertEqual(
            parsed[1][:4],
            [IVAN, "'@SUM(1+1) P***", "'=cmd|' /C calc'!A0, 101000, Moscow", "30.00"],
        )
        self.assertEqual(parsed[2][1:3], ["'-2+3 S***", "'+1+1"])
        for line in parsed[1:]:
            for cell in line:
                self.assertFalse(cell.startswith(("=", "+", "-", "@")), cell)

    def test_xlsx_cells_are_text(self):
        self.ivan.write({"name": "=HYPERLINK(1) Petrov", "street": "=1+1"})
        rows = self.debts._get_rows(include_address=True)
        rendered = self.debts._render(rows, "xlsx", include_address=True)
        sheet = openpyxl.load_workbook(
            io.BytesIO(base64.b64decode(rendered["content"]))
        ).active
        self.assertEqual(sheet["B2"].value, "=HYPERLINK(1) P***")
        self.assertEqual(sheet["C2"].value, "=1+1, 101000, Moscow")
        self.assertEqual((sheet["B2"].data_type, sheet["C2"].data_type), ("s", "s"))

    def test_xlsx_file(self):
        rows = self.debts._get_rows()
        rendered = self.debts._render(rows, "xlsx")
        workbook = openpyxl.load_workbook(
            io.BytesIO(base64.b64decode(rendered["content"]))
        )
        sheet = workbook.active
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        self.assertEqual(values[0], HEADER)
        self.assertEqual(values[1][:3], [IVAN, "Ivan P***", 30.0])
        self.assertEqual(values[1][3], rows[0]["recommended_amount"])
        self.assertEqual([row[0] for row in values[1:]], [IVAN, ANNA, SHIELD])
        self.assertEqual(values[2][2], 0.0)

    def test_wizard(self):
        wizard = self.env["security.debt.registry.wizard"].create(
            {"file_format": "csv", "debtors_only": True}
        )
        action = wizard.action_export()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn(
            f"/web/content/security.debt.registry.wizard/{wizard.id}/file/",
            action["url"],
        )
        self.assertEqual(wizard.row_count, 1)
        text = base64.b64decode(wizard.file).decode()
        self.assertEqual(
            text.splitlines()[1].split(";")[:3], [IVAN, "Ivan P***", "30.00"]
        )

    def test_query_count_does_not_grow_with_subscribers(self):
        """Set-based: the same number of queries for 3 or 8 subscribers."""

        def count_queries():
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.debts._get_rows(include_address=True)
            return self.env.cr.sql_log_count - before

        count_queries()  # warm the caches (access rules...)
        few = count_queries()
        for number in range(5):
            partner = self._create_subscriber(
                f"Extra {number}",
                security_account_ref=account_ref.make_account_ref(300000 + number),
            )
            self._create_mmr_contract(partner, price=10.0)
        self.env.flush_all()
        self.assertEqual(count_queries(), few)


@tagged("post_install", "-at_install")
class TestDebtRegistryApi(BankCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api_user = cls.env["res.users"].create(
            {
                "name": "Bank integrator",
                "login": "bank_integrator_debts",
                "groups_id": [
                    Command.set(
                        [cls.env.ref("security_billing.group_security_billing_api").id]
                    )
                ],
            }
        )
        cls.api = cls.env["security.billing.api"].with_user(cls.api_user)

    def test_rows(self):
        rows = self.api.debt_registry()
        self.assertEqual([row["account_ref"] for row in rows], [IVAN, ANNA, SHIELD])
        self.assertEqual(rows[0]["name"], "Ivan P***")
        self.assertEqual(rows[0]["amount_owed"], 30.0)
        self.assertNotIn("address", rows[0])
        debtors = self.api.debt_registry(debtors_only=True, include_address=True)
        self.assertEqual(len(debtors), 3)  # nobody paid yet
        self.assertIn("address", debtors[0])

    def test_file(self):
        result = self.api.debt_registry(file_format="xlsx")
        self.assertEqual(len(result["rows"]), 3)
        self.assertTrue(result["filename"].endswith(".xlsx"))
        workbook = openpyxl.load_workbook(
            io.BytesIO(base64.b64decode(result["content"]))
        )
        self.assertEqual(workbook.active.max_row, 4)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValidationError, "file_format 'pdf'"):
            self.api.debt_registry(file_format="pdf")
        with self.assertRaisesRegex(ValidationError, "debtors_only 'yes'"):
            self.api.debt_registry(debtors_only="yes")

    def test_needs_api_group(self):
        user = self.env["res.users"].create(
            {
                "name": "Portal-ish",
                "login": "no_api_debts",
                "groups_id": [Command.set([self.env.ref("base.group_user").id])],
            }
        )
        with self.assertRaises(AccessError):
            self.env["security.billing.api"].with_user(user).debt_registry()


@tagged("post_install", "-at_install")
class TestMaskedName(BankCase):
    def test_masked_names(self):
        partner = self.env["res.partner"]
        cases = {
            "Ivan Petrov": "Ivan P***",
            "Иванов Иван Иванович": "Иванов И*** И***",
            "Madonna": "M***",
            "  Anna   Maria  ": "Anna M***",
        }
        for name, masked in cases.items():
            with self.subTest(name=name):
                self.assertEqual(
                    partner.new({"name": name})._security_masked_name(), masked
                )
        company = partner.new({"name": "Shield Guard LLC", "is_company": True})
        self.assertEqual(company._security_masked_name(), "Shield Guard LLC")
        self.assertEqual(partner.new({"name": ""})._security_masked_name(), "")
