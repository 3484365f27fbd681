"""What one terminal pay and check cost in SQL queries: pinned, so that the
payment path (terminal lookups, the payment entry point, Odoo's posting and
reconciliation under it) cannot silently grow back."""

from odoo.tests import tagged

from .test_terminal import TerminalCase

# Queries of one pay of one invoice (lookups, lock, claim, payment created,
# posted and reconciled, balance hook, terminal record, the commit's flush)
# and of one check, as measured when they were pinned.
PAY_QUERIES = 113
CHECK_QUERIES = 17


@tagged("post_install", "-at_install")
class TestTerminalQueryCount(TerminalCase):
    def _request_queries(self, command, partner, txn_id):
        """Queries of one request as the endpoint runs it (provider lookup,
        the command, the flush and precommit of its commit), on a cold cache.
        A pay's wait for its account (``_osmp_wait_for_account``: the
        account's lookup and the lock, before the pay's transaction starts
        again) is left out: it ends the transaction, which a test cannot."""
        params = {
            "command": command,
            "txn_id": txn_id,
            "account": partner.security_account_ref,
            "sum": "10.00",
            "txn_date": "20250314093005",
        }
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        protocol = self._protocol()
        if command == "pay":
            answer = protocol._osmp_pay(params)
        else:
            answer = protocol._osmp_check(params)
        self.env.flush_all()
        self.env.cr.precommit.run()
        count = self.env.cr.sql_log_count - before
        self.assertEqual(answer["result"], 0, answer)
        return count

    def _add_subscribers(self, count):
        partners = self.env["res.partner"]
        for index in range(count):
            partner = self._create_subscriber(f"Query Count {index}")
            contract = self._create_mmr_contract(partner, price=30.0)
            self._invoice_contract(contract)
            partners |= partner
        return partners

    def test_pay_queries_do_not_grow_with_subscribers(self):
        # each pay is the first of a subscriber with one open invoice
        first = self._add_subscribers(2)
        self._request_queries("pay", first[0], "9100")  # warm the caches
        one = self._request_queries("pay", first[1], "9101")
        others = self._add_subscribers(6)
        many = self._request_queries("pay", others[3], "9102")
        self.assertEqual(many, one)
        self.assertLessEqual(one, PAY_QUERIES)
        payment = self._terminal_payments().filtered(
            lambda record: record.txn_id == "9102"
        )
        self.assertEqual(payment.partner_id, others[3])
        self.assertIn(payment.payment_id.state, ("in_process", "paid"))
        self.assertEqual(payment.payment_id.move_id.state, "posted")
        self.assertNotEqual(payment.payment_id.move_id.name, "/")

    def test_check_queries_do_not_grow_with_subscribers(self):
        first = self._add_subscribers(2)
        self._request_queries("check", first[0], "9200")  # warm the caches
        one = self._request_queries("check", first[1], "9201")
        others = self._add_subscribers(6)
        many = self._request_queries("check", others[2], "9202")
        self.assertEqual(many, one)
        self.assertLessEqual(one, CHECK_QUERIES)
