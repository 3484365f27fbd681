"""XLSX reports rendered through OCA report_xlsx, opened with openpyxl and
checked against the ledger."""

import io
from datetime import timedelta

from openpyxl import load_workbook

from odoo import fields
from odoo.tests import tagged

from ..common import SecurityBillingCase


@tagged("post_install", "-at_install")
class XlsxReportCase(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        # a fixed day in the middle of the month: month boundaries are stable
        cls.report_date = fields.Date.context_today(cls.env.user).replace(day=15)

    def _render(self, report, date=None):
        wizard = self.env["security.billing.report.wizard"].create(
            {"report": report, "date": date or self.report_date}
        )
        action = wizard.action_print()
        self.assertEqual(action["report_type"], "xlsx")
        content, kind = self.env["ir.actions.report"]._render_xlsx(
            action["report_name"], wizard.ids, action.get("data") or {}
        )
        self.assertEqual(kind, "xlsx")
        return load_workbook(io.BytesIO(content))

    def _table(self, sheet):
        """Header, data rows (until the blank row) and the totals row."""
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        header = rows[0]
        end = next(
            i for i, row in enumerate(rows[1:], 1) if all(v is None for v in row)
        )
        return header, rows[1:end], rows[end + 1]

    def _check_layout(self, sheet, money_col):
        self.assertEqual(sheet.freeze_panes, "A2")
        self.assertTrue(sheet.auto_filter.ref.startswith("A1:"))
        cell = sheet.cell(row=2, column=money_col)
        self.assertIn("#,##0.00", cell.number_format)


@tagged("post_install", "-at_install")
class TestMmrAgingReport(XlsxReportCase):
    def _invoice_due(self, contract, days_past_due):
        invoice = self._invoice_contract(contract, post=False)
        invoice.invoice_date_due = self.report_date - timedelta(days=days_past_due)
        invoice.action_post()
        return invoice

    def test_aging_buckets_and_totals_match_the_ledger(self):
        alice = self._create_subscriber("Alice")
        contract = self._create_mmr_contract(alice, price=10.0)
        for days in (-5, 0, 10, 45, 75, 120):
            self._invoice_due(contract, days)
        bob = self._create_subscriber("Bob")
        bob_contract = self._create_mmr_contract(bob, price=100.0)
        self._invoice_due(bob_contract, 31)
        self._invoice_due(bob_contract, 91)
        self._pay(bob, 30.0)  # oldest first: 70 left in "over 90"
        carol = self._create_subscriber("Carol (paid up)")
        self._invoice_due(self._create_mmr_contract(carol), 20)
        self._pay(carol, 30.0)

        workbook = self._render("mmr_aging")
        sheet = workbook.worksheets[0]
        header, rows, totals = self._table(sheet)
        self.assertEqual(
            header,
            [
                "Account",
                "Subscriber",
                "Current",
                "1-30 days",
                "31-60 days",
                "61-90 days",
                "Over 90 days",
                "Total",
            ],
        )
        by_name = {row[1]: row for row in rows}
        self.assertEqual(set(by_name), {"Alice", "Bob"})
        self.assertEqual(by_name["Alice"][0], alice.security_account_ref)
        self.assertEqual(by_name["Alice"][2:], [20.0, 10.0, 10.0, 10.0, 10.0, 60.0])
        self.assertEqual(by_name["Bob"][2:], [0.0, 0.0, 100.0, 0.0, 70.0, 170.0])
        self._check_layout(sheet, 3)

        ledger = self.env["account.move.line"].search(
            [
                ("move_id.security_is_mmr", "=", True),
                ("security_in_balance", "=", True),
                ("parent_state", "=", "posted"),
                ("amount_residual", ">", 0),
                ("company_id", "=", self.company.id),
            ]
        )
        self.assertAlmostEqual(totals[7], sum(ledger.mapped("amount_residual")))
        self.assertEqual(totals[0], "Total")
        self.assertAlmostEqual(totals[2], 20.0)
        self.assertAlmostEqual(totals[6], 80.0)
        for partner in (alice, bob):
            self.assertAlmostEqual(
                by_name[partner.name][7], partner.security_balance_due
            )

    def test_empty_ledger_gives_headers_and_zero_totals(self):
        workbook = self._render("mmr_aging")
        _header, rows, totals = self._table(workbook.worksheets[0])
        self.assertEqual(rows, [])
        self.assertEqual(totals[7], 0)


@tagged("post_install", "-at_install")
class TestRmrReport(XlsxReportCase):
    def test_rmr_by_product_and_vendor_with_added_and_cancelled(self):
        month_start = self.report_date.replace(day=1)
        quarterly = self._create_mmr_product("Fire watch", 120.0)
        running = self._create_mmr_contract(
            self._create_subscriber("Running"),
            price=30.0,
            date_start=month_start - timedelta(days=40),
        )
        self._create_site(
            running.partner_id, running, vendor="ajax", device_id="0000AF49"
        )
        added = self._create_mmr_contract(
            self._create_subscriber("Added"),
            price=120.0,
            rule="quarterly",
            product=quarterly,
            date_start=month_start + timedelta(days=1),
        )
        self._create_site(added.partner_id, added, vendor="paxton", device_id="PX-1")
        ended = self._create_mmr_contract(
            self._create_subscriber("Ended"),
            price=25.0,
            date_start=month_start - timedelta(days=60),
        )
        ended.contract_line_ids.date_end = month_start + timedelta(days=9)
        self._create_site(ended.partner_id, ended, vendor="ajax", device_id="0000AF50")

        workbook = self._render("rmr")
        self.assertEqual(workbook.sheetnames, ["By Product", "By Vendor"])
        header, rows, totals = self._table(workbook["By Product"])
        self.assertEqual(
            header,
            [
                "Product",
                "Contracts",
                "RMR",
                "Added This Month",
                "Cancelled This Month",
                "Net Change",
            ],
        )
        by_product = {row[0]: row[1:] for row in rows}
        self.assertEqual(by_product["Monitoring"], [1, 30.0, 0.0, 25.0, -25.0])
        self.assertEqual(by_product["Fire watch"], [1, 40.0, 40.0, 0.0, 40.0])
        running_fee = sum((running | added).mapped("security_monthly_fee"))
        self.assertAlmostEqual(totals[2], running_fee)
        self.assertAlmostEqual(totals[3], 40.0)
        self.assertAlmostEqual(totals[4], 25.0)
        self._check_layout(workbook["By Product"], 3)

        _header, rows, totals = self._table(workbook["By Vendor"])
        by_vendor = {row[0]: row[1:] for row in rows}
        self.assertEqual(by_vendor["Ajax"], [1, 30.0, 0.0, 25.0, -25.0])
        self.assertEqual(by_vendor["Paxton"], [1, 40.0, 40.0, 0.0, 40.0])
        self.assertAlmostEqual(totals[2], running_fee)


@tagged("post_install", "-at_install")
class TestAppUsageReport(XlsxReportCase):
    def test_app_users_versus_latest_invoice(self):
        per_user = self._create_mmr_product("App user", 2.0, security_per_app_user=True)
        partner = self._create_subscriber("Paxton fan")
        contract = self._create_mmr_contract(
            partner,
            price=2.0,
            product=per_user,
            date_start=self.report_date.replace(day=1),
        )
        hq = self._create_site(partner, contract, vendor="paxton", device_id="PX-HQ")
        hq.app_user_count = 2
        annex = self._create_site(partner, contract, vendor="paxton", device_id="PX-AN")
        annex.app_user_count = 1
        invoice = self._invoice_contract(contract)
        billed_line = invoice.invoice_line_ids.filtered(
            lambda line: line.product_id == per_user
        )
        self.assertEqual(billed_line.quantity, 3)
        hq.app_user_count = 4  # two users added since the invoice
        lonely = self._create_site(
            self._create_subscriber("No contract"), vendor="ajax", device_id="0000BEEF"
        )
        lonely.app_user_count = 2

        workbook = self._render("app_usage", date=invoice.invoice_date)
        header, rows, totals = self._table(workbook["By Site"])
        self.assertEqual(header[5], "App Users")
        self.assertEqual(
            header[8:], ["Billed App Users", "Billed Amount", "Unbilled App Users"]
        )
        by_device = {row[4]: row for row in rows}
        self.assertEqual(by_device["PX-HQ"][5], 4)
        self.assertEqual(by_device["PX-HQ"][7], invoice.name)
        first, second = (
            (by_device["PX-HQ"], by_device["PX-AN"])
            if rows.index(by_device["PX-HQ"]) < rows.index(by_device["PX-AN"])
            else (by_device["PX-AN"], by_device["PX-HQ"])
        )
        self.assertEqual(first[8:], [3, billed_line.price_subtotal, 2])
        self.assertEqual(second[8:], [0, 0, 0])
        self.assertEqual(by_device["0000BEEF"][8:], [0, 0, 2])
        self.assertEqual(totals[5], 7)
        self.assertAlmostEqual(totals[9], billed_line.price_subtotal)
        self.assertEqual(totals[10], 4)
        self._check_layout(workbook["By Site"], 10)

        _header, rows, totals = self._table(workbook["By Vendor"])
        by_vendor = {row[0]: row[1:] for row in rows}
        self.assertEqual(by_vendor["Paxton"], [2, 5, 3, billed_line.price_subtotal, 2])
        self.assertEqual(by_vendor["Ajax"], [1, 2, 0, 0, 2])
