"""Autopay never charges twice: each guard on its own.

The run has two guards against a second charge of one invoice: the SQL that
picks the candidate invoices (``_candidate_invoice_ids``) and, under
the invoice lock, the check of its last attempt (``_charge_invoice``
/ ``_may_charge``). Through the whole run each hides the other, so
here each is called alone: a last attempt pending, then done, must create no
new attempt and no new transaction.

Also pinned: the policy when a done autopay payment is reversed (its invoice
is open again): autopay does not charge it again, not even with a new method;
dunning takes over.
"""

from odoo.tests import tagged

from .dunning_common import DunningCase


@tagged("post_install", "-at_install")
class TestAutopayGuards(DunningCase):
    @property
    def _attempt_model(self):
        return self.env["security.autopay.attempt"].sudo()

    def _autopay(self, days=0):
        return self._attempt_model._run_autopay(date_ref=self._days(days))

    def _charge(self, invoice, days=0):
        """The guarded step alone: lock the invoice and charge it if allowed."""
        return self._attempt_model._charge_invoice(invoice.id, self._days(days))

    def _candidates(self, days=0):
        return self._attempt_model._candidate_invoice_ids(self._days(days))

    def _attempts(self, invoice):
        return self._attempt_model.search(
            [("invoice_id", "=", invoice.id)], order="attempt_no"
        )

    def _txs(self, invoice):
        return (
            self.env["payment.transaction"]
            .sudo()
            .search([("invoice_ids", "in", invoice.ids)])
        )

    def _save_method(self, state="done"):
        token = self._create_token(self.partner, state)
        self.partner._security_set_autopay_token(token)
        return token

    def assertChargedOnce(self, invoice, msg):
        self.assertEqual(len(self._attempts(invoice)), 1, f"{msg}: attempts")
        self.assertEqual(len(self._txs(invoice)), 1, f"{msg}: transactions")

    # ---------------------------------------------------------------- pending
    def test_pending_last_attempt_is_returned_not_repeated(self):
        """Under the lock, a live (pending) attempt is given back as it is, so
        the run finishes it; no second attempt or transaction is started."""
        self._save_method("pending")
        invoice = self._mmr_invoice(self.contract, 30.0)
        pending = self._autopay()
        self.assertEqual(pending.state, "pending")
        for day in (0, 1, 3, 7, 30):
            self.assertEqual(
                self._charge(invoice, day), pending, f"day {day}: the live attempt"
            )
        self.assertChargedOnce(invoice, "pending")
        self.assertEqual(pending.state, "pending")
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_pending_last_attempt_stays_a_candidate_to_be_finished(self):
        """The SQL keeps a pending invoice in the run (to finish it), and the
        run finishes the transaction the provider confirmed meanwhile."""
        self._save_method("pending")
        invoice = self._mmr_invoice(self.contract, 30.0)
        pending = self._autopay()
        self.assertIn(invoice.id, self._candidates(3))
        pending.transaction_id.sudo()._set_done()
        self.assertEqual(self._autopay(3), pending, "the run touched the attempt")
        self.assertEqual(pending.state, "done")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertChargedOnce(invoice, "pending then done")

    # ------------------------------------------------------------------- done
    def _reverse_done_charge(self):
        """A paid autopay charge whose payment a manager reverses (e.g. a
        chargeback): the invoice is open again, the attempt stays done."""
        self._save_method("done")
        invoice = self._mmr_invoice(self.contract, 30.0)
        attempt = self._autopay()
        self.assertEqual(attempt.state, "done")
        self.assertEqual(invoice.payment_state, "paid")
        self.company.security_allow_payment_edit = True
        payment = attempt.transaction_id.payment_id
        payment.action_draft()
        payment.action_cancel()
        invoice.invalidate_recordset()
        self.assertEqual(invoice.payment_state, "not_paid", "open again")
        self.assertEqual(invoice.amount_residual, 30.0)
        self.assertEqual(attempt.state, "done")
        return invoice, attempt

    def test_done_last_attempt_is_not_a_candidate(self):
        """The SQL guard alone: an open invoice whose last attempt is done is
        not picked, with the same method or a new one, on any day."""
        invoice, _attempt = self._reverse_done_charge()
        for day in (0, 1, 7, 30):
            self.assertNotIn(invoice.id, self._candidates(day), f"day {day}")
        self._save_method("done")
        self.assertNotIn(invoice.id, self._candidates(1), "new method")

    def test_done_last_attempt_refuses_a_new_charge_under_the_lock(self):
        """The check under the lock alone: called directly (as a run that
        picked the invoice before the charge was done would), it starts
        nothing."""
        invoice, _attempt = self._reverse_done_charge()
        for day in (0, 1, 7, 30):
            self.assertFalse(self._charge(invoice, day), f"day {day}")
        self._save_method("done")
        self.assertFalse(self._charge(invoice, 1), "new method")
        self.assertChargedOnce(invoice, "done")

    def test_reversed_autopay_payment_is_left_to_dunning(self):
        """Policy: a reversed autopay charge is not charged again by autopay
        (not even with a new method); the invoice is past due like any other
        and dunning warns, then suspends."""
        invoice, attempt = self._reverse_done_charge()
        self.assertFalse(self._autopay(1))
        self._save_method("done")
        self.assertFalse(self._autopay(2))
        self.assertChargedOnce(invoice, "after the reversal")
        self.assertEqual(invoice.payment_state, "not_paid")
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.security_balance_due, 30.0)
        self._run_dunning(1)
        self.assertEqual(self.contract.security_state, "warning")
        self._run_dunning(15)
        self.assertEqual(self.contract.security_state, "suspended")
        self.assertEqual(attempt.state, "done")
