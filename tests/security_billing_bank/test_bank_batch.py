"""Automatic matching pays the lines in chunks: one entry point call and one
reconciliation per chunk, a failing line isolated from the others."""

from odoo.tests import tagged

from .bank_common import ANNA, IVAN, SHIELD, BankCase

CHUNK_PARAM = "security_billing_bank.match_chunk_size"


@tagged("post_install", "-at_install")
class TestBankBatch(BankCase):
    def _lines(self, rows):
        """Registry lines ``[(account ref, amount, payment id)]``."""
        journal = self.registry_journal
        return self.st_lines.create(
            [
                {
                    "journal_id": journal.id,
                    "date": "2025-03-03",
                    "amount": amount,
                    "payment_ref": f"Registry payment {payment_id}",
                    "security_account_ref": ref,
                    "unique_import_id": f"{journal.id}-{payment_id}",
                }
                for ref, amount, payment_id in rows
            ]
        )

    def _set_chunk_size(self, size):
        self.env["ir.config_parameter"].sudo().set_param(CHUNK_PARAM, str(size))

    def test_lines_paid_in_chunks(self):
        self._set_chunk_size(2)
        lines = self._lines(
            [
                (IVAN, 20.0, "B-1"),
                (ANNA, 30.0, "B-2"),
                (IVAN, 10.0, "B-3"),
                (SHIELD, 45.0, "B-4"),
                (ANNA, 5.0, "B-5"),
            ]
        )
        summary = lines._security_match_and_pay()
        self.assertEqual(
            summary, {"matched": 5, "to_match": 0, "ignored": 0, "skipped": 0}
        )
        payers = [self.ivan, self.anna, self.ivan, self.shield, self.anna]
        for line, partner in zip(lines, payers, strict=True):
            self.assertPaidBy(line, partner)
            self.assertEqual(line.partner_id, partner)
        self.assertEqual(len(self.bank_payments()), 5)
        self.assertEqual(len(lines.security_payment_id), 5)
        self.assertEqual(self.ivan.security_balance, 0.0)
        self.assertEqual(self.anna.security_balance, 5.0)
        self.assertEqual(self.shield.security_balance, 15.0)
        # the bank account is debited once per line, by the statement line
        liquidity = lines.move_id.line_ids.filtered(
            lambda aml: aml.account_id == self.registry_journal.default_account_id
        )
        self.assertEqual(sum(liquidity.mapped("balance")), 110.0)
        # matching again pays nothing twice
        again = lines._security_match_and_pay()
        self.assertEqual(
            again, {"matched": 0, "to_match": 0, "ignored": 0, "skipped": 5}
        )
        self.assertEqual(len(self.bank_payments()), 5)

    def test_memo_is_the_lines_label_or_reference(self):
        """The payment's memo is the statement line's label (the purpose),
        or its reference when it has no label; never the external id."""
        lines = self._lines([(IVAN, 20.0, "M-1"), (ANNA, 30.0, "M-2")])
        lines[1].write({"payment_ref": False, "ref": "PP 42"})
        lines._security_match_and_pay()
        self.assertEqual(
            lines.security_payment_id.mapped("memo"),
            ["Registry payment M-1", "PP 42"],
        )
        self.assertEqual(
            lines[1].security_payment_id.security_external_id,
            lines[1]._security_external_id(),
        )

    def test_failing_line_is_isolated(self):
        """The third line's transaction was already paid to another
        subscriber: it stays To match with the reason, the others of its
        chunk and of the next one are paid."""
        self._set_chunk_size(4)
        lines = self._lines(
            [
                (IVAN, 30.0, "F-1"),
                (ANNA, 30.0, "F-2"),
                (SHIELD, 30.0, "F-3"),
                (IVAN, 5.0, "F-4"),
                (ANNA, 5.0, "F-5"),
            ]
        )
        failing = lines[2]
        other = self._create_paying_subscriber("Somebody Else", "1000058")
        self._pay(other, 30.0, external_id=failing._security_external_id())
        summary = lines._security_match_and_pay()
        self.assertEqual(
            summary, {"matched": 4, "to_match": 1, "ignored": 0, "skipped": 0}
        )
        for line, partner in zip(
            lines - failing, [self.ivan, self.anna, self.ivan, self.anna], strict=True
        ):
            self.assertPaidBy(line, partner)
        self.assertLineState(failing, "to_match", "already paid to Somebody Else")
        self.assertEqual(failing.security_candidate_ids, self.shield)
        self.assertFalse(failing.is_reconciled)
        self.assertFalse(failing.security_payment_id)
        self.assertFalse(self.bank_payments(self.shield))
        self.assertTrue(self.open_invoices(self.shield))
        self.assertEqual(len(self.bank_payments()), 5)  # 4 + the other's
        self.assertEqual(self.ivan.security_balance, 5.0)
        self.assertEqual(self.anna.security_balance, 5.0)

    def test_single_and_chunked_matching_agree(self):
        """The same lines matched one per chunk and all in one chunk give the
        same payments, allocations and balances."""
        rows = [(IVAN, 45.0, "S-1"), (IVAN, 10.0, "S-2"), (ANNA, 12.5, "S-3")]
        self._set_chunk_size(1)
        lines = self._lines(rows)
        self.env.flush_all()
        self.env.cr.execute("SAVEPOINT one_per_chunk")
        lines._security_match_and_pay()
        shape_single = self._shape(lines)
        self.env.flush_all()
        self.env.cr.execute("ROLLBACK TO SAVEPOINT one_per_chunk")
        self.env.invalidate_all()
        self.assertFalse(self.bank_payments())
        self._set_chunk_size(500)
        lines._security_match_and_pay()
        self.assertEqual(self._shape(lines), shape_single)
        self.assertEqual(shape_single["states"], ["matched"] * 3)
        self.assertEqual(shape_single["balances"], [45.0 + 10.0 - 30.0, 12.5 - 30.0])

    def _shape(self, lines):
        self.env.invalidate_all()
        payments = lines.security_payment_id
        return {
            "states": lines.mapped("security_match_state"),
            "amounts": payments.mapped("amount"),
            "allocations": [
                [(a["invoice_id"], a["amount"]) for a in p._security_get_allocations()]
                for p in payments
            ],
            "balances": [self.ivan.security_balance, self.anna.security_balance],
        }
