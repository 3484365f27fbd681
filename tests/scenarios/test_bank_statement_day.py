"""A bank statement day: a 1C statement pays two subscribers, one is matched
by hand."""

from datetime import timedelta

from odoo import fields
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from ..security_billing_bank.bank_common import BankCase
from ..security_billing_bank.test_bank_matching import PURPOSE_9, sample_1c
from .common import create_ajax_connector, export_rows

TO_MATCH_ACTION = "security_billing_bank.action_security_bank_lines_to_match"


@tagged("post_install", "-at_install")
class TestBankStatementDay(BankCase):
    """Ivan, Anna and Shield each owe one 30.00 monitoring bill; Shield's
    hub is blocked (suspended 15 days past due).

    1. The accountant imports the bank's 1C statement: Ivan's and Anna's
       transfers name their account numbers and pay them; Shield's names
       none and waits in *To match*; the outgoing lines are ignored.
    2. Ivan and Anna are paid, with the rest as credit; Shield still owes
       and is still suspended; the statement line is on the suspense account.
    3. The accountant assigns the line to Shield from the *To match* list:
       the line becomes Shield's payment, pays the bill and restores the
       service in the same transaction; *To match* is empty.
    4. The app export shows Shield's hub unblocked, with the credit.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shield_contract = cls.env["contract.contract"].search(
            [("partner_id", "=", cls.shield.id)]
        )
        cls.shield_site = cls._create_site(
            cls.shield, cls.shield_contract, device_id="5A1E1D09", name="Shield HQ"
        )
        cls.connector = create_ajax_connector(cls.env)
        cls.statement = sample_1c(p9=(PURPOSE_9, "Абонентская плата, охрана дома"))

    def _to_match(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(TO_MATCH_ACTION)
        return self.st_lines.search(
            [*safe_eval(action["domain"]), ("security_match_state", "=", "to_match")]
        )

    def _lines(self):
        return {line.ref: line for line in self.journal_lines(self.bank_journal)}

    def test_bank_statement_day(self):
        # 0. Shield was suspended by the daily dunning run
        today = fields.Date.context_today(self.shield)
        self.env["contract.contract"]._security_run_dunning(
            date_ref=today + timedelta(days=15)
        )
        self.assertEqual(self.shield_contract.security_state, "suspended")
        self.assertEqual(export_rows(self.connector)["5A1E1D09"]["blocked"], "true")

        # 1. the import
        action = self.import_file(self.statement, "kl_to_1c.txt", self.bank_journal)
        self.assertIn(
            "Bank matching: 2 paid to subscribers, 1 to match by hand, "
            "2 outgoing ignored.",
            self.notification_text(action),
        )
        lines = self._lines()

        # 2. two paid, one waiting
        self.assertPaidBy(lines["214"], self.ivan)
        self.assertPaidBy(lines["57"], self.anna)
        self.assertEqual(self.ivan.security_balance, 1500.0 - 30.0)
        self.assertEqual(self.anna.security_balance, 4200.0 - 30.0)
        shield_line = lines["9"]
        self.assertLineState(shield_line, "to_match", "No valid account number found")
        self.assertFalse(shield_line.is_reconciled, "waits on the suspense account")
        self.assertFalse(shield_line.security_payment_id)
        self.assertEqual(self._to_match(), shield_line)
        self.assertEqual(self.shield.security_balance, -30.0)
        self.assertTrue(self.open_invoices(self.shield))
        self.assertEqual(self.shield_contract.security_state, "suspended")
        self.assertEqual(len(self.bank_payments()), 2)

        # 3. assigned by hand from the To match list
        wizard_action = shield_line.action_security_assign()
        form = Form(
            self.env[wizard_action["res_model"]].with_context(
                **wizard_action["context"]
            )
        )
        self.assertEqual(form.amount, shield_line.amount)
        form.partner_id = self.shield
        done = form.save().action_assign()
        self.assertIn("paid to Shield Guard", self.notification_text(done))
        self.assertPaidBy(shield_line, self.shield)
        self.shield.invalidate_recordset()
        self.assertEqual(self.shield.security_balance, shield_line.amount - 30.0)
        self.assertEqual(self.shield_contract.security_state, "active")
        log = self.shield_contract.security_state_log_ids.sorted("id")[-1]
        self.assertEqual(
            (log.old_state, log.new_state, log.origin),
            ("suspended", "active", "payment"),
        )
        self.assertFalse(self._to_match(), "nothing left to match")
        self.assertEqual(len(self.bank_payments()), 3)

        # 4. the export
        row = export_rows(self.connector)["5A1E1D09"]
        self.assertEqual(
            (row["blocked"], row["balance"]),
            ("false", "%.2f" % (shield_line.amount - 30.0)),
        )
