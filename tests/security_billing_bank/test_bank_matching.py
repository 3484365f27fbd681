"""Automatic matching of imported bank lines to subscribers (1C, CAMT), the
To match list and manual assignment."""

from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.security_billing.tools import account_ref

from .bank_common import ANNA, IVAN, SHIELD, UNKNOWN, BankCase, read_sample

PURPOSE_214 = "Оплата по л/с 1000017 за охрану квартиры за март 2025. НДС не облагается"
PURPOSE_57 = (
    "Оплата за мониторинг acc 10000-25 по счету №12 от 01.03.2025, в т.ч. "
    "НДС 20% 700.00"
)
PURPOSE_9 = "Абонентская плата №1000033 охрана дома"


def sample_1c(**purposes):
    """The Windows 1C sample with some purposes replaced: {old: new}."""
    text = read_sample("1c_windows.txt").decode("cp1251")
    for old, new in purposes.values():
        assert old in text, old
        text = text.replace(old, new)
    return text.encode("cp1251")


@tagged("post_install", "-at_install")
class TestStatementMatching(BankCase):
    def import_1c(self, data=None):
        data = read_sample("1c_windows.txt") if data is None else data
        return self.import_file(data, "kl_to_1c.txt", self.bank_journal)

    def lines_by_ref(self):
        return {line.ref: line for line in self.journal_lines(self.bank_journal)}

    def test_1c_import_pays_subscribers(self):
        action = self.import_1c()
        lines = self.lines_by_ref()
        self.assertPaidBy(lines["214"], self.ivan)
        self.assertPaidBy(lines["57"], self.anna)
        self.assertPaidBy(lines["9"], self.shield)
        for ref in ("1052", "3318"):
            self.assertLineState(lines[ref], "ignored")
            self.assertFalse(lines[ref].security_payment_id)
        self.assertIn(
            "Bank matching: 3 paid to subscribers, 0 to match by hand, "
            "2 outgoing ignored.",
            self.notification_text(action),
        )
        # one payment per line, keyed by the line's import id, allocated
        payment = lines["214"].security_payment_id
        self.assertEqual(
            payment.security_external_id, f"bank:{lines['214'].unique_import_id}"
        )
        self.assertEqual(len(self.bank_payments()), 3)
        self.assertEqual(payment._security_get_allocations()[0]["amount"], 30.0)
        self.assertEqual(self.ivan.security_balance, 1470.0)
        self.assertEqual(payment.memo, PURPOSE_214)

    def test_bank_account_counted_once(self):
        self.import_1c()
        lines = self.journal_lines(self.bank_journal)
        statement = lines.statement_id
        self.assertTrue(statement.is_complete)
        self.assertEqual(statement.balance_end, statement.balance_end_real)
        # The bank account moves by the statement lines only.
        bank_account = self.bank_journal.default_account_id
        bank_balance = sum(
            self.env["account.move.line"]
            .search([("account_id", "=", bank_account.id)])
            .mapped("balance")
        )
        self.assertAlmostEqual(bank_balance, sum(lines.mapped("amount")))
        # The payments' outstanding receipts are cleared by the lines.
        payments = self.bank_payments()
        outstanding = payments.move_id.line_ids.filtered(
            lambda line: line.account_id == payments.outstanding_account_id
        )
        self.assertTrue(all(outstanding.mapped("reconciled")))
        self.assertEqual(
            outstanding.full_reconcile_id.reconciled_line_ids.move_id.statement_line_id,
            lines.filtered(lambda line: line.security_match_state == "matched"),
        )

    def test_reimport_imports_nothing_and_pays_nothing(self):
        self.import_1c()
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_1c()
        # the same documents in the DOS encoding are the same transactions
        with self.assertRaisesRegex(UserError, "already imported"):
            self.import_file(read_sample("1c_dos.txt"), "dos.txt", self.bank_journal)
        self.assertEqual(len(self.journal_lines(self.bank_journal)), 5)
        self.assertEqual(len(self.bank_payments()), 3)

    def test_matching_again_is_idempotent(self):
        self.import_1c()
        lines = self.journal_lines(self.bank_journal)
        summary = lines._security_match_and_pay()
        self.assertEqual(
            summary, {"matched": 0, "to_match": 0, "ignored": 0, "skipped": 5}
        )
        action = lines.action_security_match()
        self.assertIn("5 already processed", self.notification_text(action))
        self.assertEqual(len(self.bank_payments()), 3)
        with self.assertRaisesRegex(UserError, "already matched"):
            self.lines_by_ref()["214"]._security_assign_subscriber(self.anna)
        self.assertEqual(len(self.bank_payments()), 3)

    def test_reimport_after_deleting_the_statement_reuses_the_payment(self):
        self.import_1c()
        first_payment = self.lines_by_ref()["214"].security_payment_id
        lines = self.journal_lines(self.bank_journal)
        statement = lines.statement_id
        lines.action_undo_reconciliation()
        lines.unlink()
        statement.unlink()
        self.assertFalse(self.journal_lines(self.bank_journal))
        self.import_1c()
        line = self.lines_by_ref()["214"]
        self.assertPaidBy(line, self.ivan)
        self.assertEqual(line.security_payment_id, first_payment)
        self.assertEqual(len(self.bank_payments()), 3)
        self.assertEqual(self.ivan.security_balance, 1470.0)

    def test_undo_reconciliation_then_match_again(self):
        self.import_1c()
        line = self.lines_by_ref()["214"]
        payment = line.security_payment_id
        line.action_undo_reconciliation()
        self.assertLineState(line, "to_match", "Reconciliation undone")
        self.assertFalse(line.is_reconciled)
        self.assertFalse(payment.is_matched)
        line.action_security_match()
        self.assertPaidBy(line, self.ivan)
        self.assertEqual(line.security_payment_id, payment)
        self.assertEqual(len(self.bank_payments(self.ivan)), 1)

    def test_match_again_a_payment_on_another_outstanding_account(self):
        """A payment found again by its external id kept the outstanding
        receipts account the journal had when it was made: the line is
        reconciled with it on that account."""
        self.import_1c()
        line = self.lines_by_ref()["214"]
        payment = line.security_payment_id
        old_account = payment.outstanding_account_id
        line.action_undo_reconciliation()
        method_line = self.bank_journal.inbound_payment_method_line_ids[:1]
        new_account = old_account.copy({"code": "101999"})
        method_line.payment_account_id = new_account
        self.assertEqual(
            self.payments.new(
                {
                    "journal_id": self.bank_journal.id,
                    "payment_type": "inbound",
                    "partner_type": "customer",
                }
            ).outstanding_account_id._origin,
            new_account,
        )
        line.action_security_match()
        self.assertPaidBy(line, self.ivan)
        self.assertEqual(line.security_payment_id, payment)
        suspense = line.move_id.line_ids.filtered(lambda aml: aml.reconciled)
        self.assertEqual(suspense.account_id, old_account)
        self.assertEqual(
            suspense.full_reconcile_id.reconciled_line_ids.account_id, old_account
        )

    def test_statement_of_an_unknown_account_imports_nothing(self):
        data = sample_1c(
            account=("40702810900000000001", "40702810900000000099"),
        )
        message = self.import_broken(data, "other.txt")
        self.assertIn("40702810900000000099", message)
        self.assertFalse(self.st_lines.search([("amount", "=", 4200.0)]))
        self.assertFalse(self.bank_payments())

    def test_broken_1c_files_import_nothing(self):
        for name in ("1c_truncated.txt", "1c_bad_amount.txt", "1c_bad_encoding.txt"):
            with self.subTest(name=name):
                message = self.import_broken(read_sample(name), name, self.bank_journal)
                self.assertIn("1C bank statement file, line", message)
        self.assertFalse(self.journal_lines(self.bank_journal))
        self.assertFalse(self.bank_payments())


@tagged("post_install", "-at_install")
class TestToMatch(BankCase):
    """Lines the matching cannot place, and the accountant's assignment."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        data = sample_1c(
            p214=(PURPOSE_214, "Оплата за охрану, номер договора не помню"),
            p57=(PURPOSE_57, f"Оплата за мониторинг л/с {UNKNOWN}"),
            p9=(PURPOSE_9, f"Абонентская плата л/с {IVAN} и л/с {ANNA}"),
        )
        cls.action = cls.import_file(data, "kl_to_1c.txt", cls.bank_journal)
        cls.lines = {
            line.ref: line
            for line in cls.st_lines.search([("journal_id", "=", cls.bank_journal.id)])
        }

    def test_reasons(self):
        self.assertIn(
            "0 paid to subscribers, 3 to match by hand, 2 outgoing ignored",
            self.notification_text(self.action),
        )
        self.assertLineState(
            self.lines["214"], "to_match", "No valid account number found"
        )
        self.assertLineState(
            self.lines["57"], "to_match", f"Account number {UNKNOWN} found"
        )
        self.assertLineState(self.lines["9"], "to_match", "Ambiguous")
        self.assertEqual(self.lines["9"].security_candidate_ids, self.ivan | self.anna)
        for line in self.lines.values():
            self.assertFalse(line.security_payment_id)
        self.assertFalse(self.bank_payments())
        # the lines wait on the suspense account, not reconciled
        self.assertFalse(self.lines["9"].is_reconciled)

    def test_to_match_action_lists_them(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "security_billing_bank.action_security_bank_lines_to_match"
        )
        domain = safe_eval(action["domain"])
        to_match = self.st_lines.search(
            [*domain, ("security_match_state", "=", "to_match")]
        )
        self.assertEqual(
            to_match, self.lines["214"] | self.lines["57"] | self.lines["9"]
        )

    def open_assign_wizard(self, lines):
        """The wizard as the To match list's button opens it."""
        action = lines.action_security_assign()
        model = self.env[action["res_model"]].with_context(**action["context"])
        return Form(model)

    def test_manual_assignment_pays(self):
        line = self.lines["9"]
        form = self.open_assign_wizard(line)
        self.assertEqual(form.amount, 3000.0)
        self.assertEqual(form.candidate_ids[:], self.ivan | self.anna)
        self.assertFalse(form.partner_id)  # two candidates: the user picks
        form.partner_id = self.anna
        wizard = form.save()
        self.assertEqual(wizard.line_ids, line)
        action = wizard.action_assign()
        self.assertIn("paid to Anna Maria Sidorova", self.notification_text(action))
        self.assertPaidBy(line, self.anna)
        self.assertFalse(line.security_match_reason)
        self.assertFalse(line.security_candidate_ids)
        # once matched it cannot be assigned again
        form = self.open_assign_wizard(line)
        form.partner_id = self.ivan
        with self.assertRaisesRegex(UserError, "already matched"):
            form.save().action_assign()
        self.assertEqual(len(self.bank_payments()), 1)

    def test_manual_assignment_of_several_lines(self):
        lines = self.lines["214"] | self.lines["57"]
        form = self.open_assign_wizard(lines)
        form.partner_id = self.shield
        form.save().action_assign()
        for line in lines:
            self.assertPaidBy(line, self.shield)
        self.assertEqual(self.shield.security_balance, 1500.0 + 4200.0 - 30.0)

    def test_manual_assignment_from_the_action_menu(self):
        wizard = (
            self.env["security.bank.line.assign"]
            .with_context(
                active_model="account.bank.statement.line",
                active_ids=self.lines["214"].ids,
            )
            .create({"partner_id": self.ivan.id})
        )
        self.assertEqual(wizard.line_ids, self.lines["214"])
        wizard.action_assign()
        self.assertPaidBy(self.lines["214"], self.ivan)

    def test_outgoing_line_cannot_be_assigned(self):
        outgoing = self.lines["1052"]
        self.assertLineState(outgoing, "ignored")
        with self.assertRaisesRegex(UserError, "outgoing money"):
            outgoing._security_assign_subscriber(self.ivan)
        self.assertFalse(self.bank_payments())

    def test_non_subscriber_cannot_be_assigned(self):
        stranger = self.env["res.partner"].create({"name": "Not a subscriber"})
        with self.assertRaisesRegex(UserError, "not a subscriber"):
            self.lines["214"]._security_assign_subscriber(stranger)
        self.assertLineState(self.lines["214"], "to_match")

    def test_assignment_needs_security_billing_group(self):
        user = self.env["res.users"].create(
            {
                "name": "Plain accountant",
                "login": "plain_accountant_bank",
                "groups_id": [
                    Command.set([self.env.ref("account.group_account_user").id])
                ],
            }
        )
        with self.assertRaises(AccessError):
            self.lines["214"].with_user(user).action_security_match()
        self.assertLineState(self.lines["214"], "to_match")

    def test_match_button_after_the_subscriber_exists(self):
        newcomer = self._create_paying_subscriber("New Comer", UNKNOWN)
        action = self.lines["57"].action_security_match()
        self.assertIn("1 paid to subscribers", self.notification_text(action))
        self.assertPaidBy(self.lines["57"], newcomer)

    def test_payment_failure_leaves_the_line_to_match(self):
        """The payment cannot be made (the journal takes no incoming payment):
        the line stays To match with the error, nothing of the payment
        remains."""
        self.bank_journal.inbound_payment_method_line_ids.unlink()
        newcomer = self._create_paying_subscriber("New Comer", UNKNOWN)
        summary = self.lines["57"]._security_match_and_pay()
        self.assertEqual(
            summary, {"matched": 0, "to_match": 1, "ignored": 0, "skipped": 0}
        )
        self.assertLineState(
            self.lines["57"], "to_match", f"Payment to {UNKNOWN} failed"
        )
        self.assertEqual(self.lines["57"].security_candidate_ids, newcomer)
        self.assertFalse(self.bank_payments())
        self.assertFalse(
            self.env["security.payment.request"].search(
                [("external_id", "=like", "bank:%")]
            )
        )
        self.assertFalse(self.lines["57"].is_reconciled)


@tagged("post_install", "-at_install")
class TestCamtMatching(BankCase):
    def test_camt_purpose_with_account_number_is_matched(self):
        action = self.import_file(
            read_sample("camt053_subscriber.xml"), "camt053.xml", self.camt_journal
        )
        lines = self.journal_lines(self.camt_journal)
        incoming = lines.filtered(lambda line: line.amount > 0)
        self.assertIn("1000017", incoming.payment_ref)
        self.assertPaidBy(incoming, self.ivan)
        self.assertLineState(lines - incoming, "ignored")
        self.assertIn("1 paid to subscribers", self.notification_text(action))


class TestAccountRefExtract(BankCase):
    """The core helper finds account numbers in realistic purposes."""

    def test_number_followed_by_other_numbers(self):
        cases = {
            "Оплата л/с 1000017 1500 руб": ["1000017"],
            "л/с 1000017 03.2025": ["1000017"],
            "acc 1000017 - 30.00 USD": ["1000017"],
            "1000017 1000025": ["1000017", "1000025"],
            "л/с 100 00 17 за март": ["1000017"],
            "acc 10000-25": ["1000025"],
            "ЛС№1000033": ["1000033"],
            "Оплата по счету 45 от 28.02.2025": [],
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                self.assertEqual(account_ref.extract(text), expected)

    def test_amount_after_the_number_still_matches(self):
        line = self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.bank_journal.id,
                "date": date(2025, 3, 3),
                "amount": 45.0,
                "payment_ref": f"Оплата л/с {SHIELD} 45 руб",
            }
        )
        line._security_match_and_pay()
        self.assertPaidBy(line, self.shield)
