"""The batch form of the payment entry point: several payments in one call,
the same result as one by one."""

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..common import SecurityBillingCase


@tagged("post_install", "-at_install")
class TestPaymentBatch(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sets = [cls._create_set(tag) for tag in ("A", "B")]

    @classmethod
    def _create_set(cls, tag):
        """Three subscribers: two invoices of 30, one of 30, one of 30 on a
        second contract as well (payments bound to no contract)."""
        partners = []
        for name, invoices in (("two", 2), ("one", 1), ("many", 1)):
            partner = cls._create_subscriber(f"{tag} {name}")
            contract = cls._create_mmr_contract(partner, price=30.0)
            for _i in range(invoices):
                cls._invoice_contract(contract)
            partners.append(partner)
        second = cls._create_mmr_contract(partners[2], price=30.0)
        cls._invoice_contract(second)
        return partners

    def _requests(self, partners, prefix):
        two, one, many = partners
        return [
            # two payments of one subscriber share its invoices
            {"partner": two, "amount": 45.0, "external_id": f"{prefix}:1"},
            {"partner": two, "amount": 20.0, "external_id": f"{prefix}:2"},
            # overpayment: the rest stays as credit
            {"partner": one, "amount": 50.0, "external_id": f"{prefix}:3"},
            # two contracts, no contract given: oldest first over both
            {"partner": many, "amount": 40.0},
        ]

    def _invoices(self, partners):
        return self.env["account.move"].search(
            [
                ("partner_id", "in", [p.id for p in partners]),
                ("move_type", "=", "out_invoice"),
            ],
            order="id",
        )

    def _shape(self, partners, results):
        """Results and residuals with invoices named by their position."""
        invoices = self._invoices(partners)
        position = {invoice.id: index for index, invoice in enumerate(invoices)}
        payments = self.env["account.payment"].browse(
            [result["payment_id"] for result in results]
        )
        return {
            "allocations": [
                [(position[a["invoice_id"]], a["amount"]) for a in r["allocations"]]
                for r in results
            ],
            "duplicates": [result["duplicate"] for result in results],
            "residuals": invoices.mapped("amount_residual"),
            "states": invoices.mapped("payment_state"),
            "balances": [p.security_balance for p in partners],
            "amounts": payments.mapped("amount"),
            "contracts": [len(p.security_contract_id) for p in payments],
        }

    def test_batch_allocates_as_one_by_one(self):
        batch, single = self.sets
        payments = self.env["account.payment"]
        batch_results = payments._security_register_payments(
            self._requests(batch, "batch")
        )
        single_results = [
            payments._security_register_payment(**request)
            for request in self._requests(single, "single")
        ]
        self.env.invalidate_all()
        expected = self._shape(single, single_results)
        self.assertEqual(self._shape(batch, batch_results), expected)
        # and what that is
        self.assertEqual(
            expected["allocations"],
            [[(0, 30.0), (1, 15.0)], [(1, 15.0)], [(2, 30.0)], [(3, 30.0), (4, 10.0)]],
        )
        self.assertEqual(expected["residuals"], [0.0, 0.0, 0.0, 0.0, 20.0])
        self.assertEqual(expected["balances"], [5.0, 20.0, -20.0])
        self.assertEqual(len({r["payment_id"] for r in batch_results}), 4)
        for result in batch_results:
            payment = payments.browse(result["payment_id"])
            self.assertEqual(payment.state, "in_process")
            self.assertTrue(payment.move_id.security_is_payment)

    def test_repeated_batch_changes_nothing(self):
        partners = self.sets[0]
        payments = self.env["account.payment"]
        first = payments._security_register_payments(self._requests(partners, "rep"))
        counts = self._counts()
        # the request without external id is not idempotent: leave it out
        again = payments._security_register_payments(
            self._requests(partners, "rep")[:3]
        )
        self.assertEqual(self._counts(), counts)
        self.assertEqual([r["duplicate"] for r in again], [True, True, True])
        for before, after in zip(first, again, strict=False):
            self.assertEqual(after["payment_id"], before["payment_id"])
            self.assertEqual(after["allocations"], before["allocations"])

    def _counts(self):
        self.env.flush_all()
        return (
            self.env["account.payment"].search_count([]),
            self.env["account.partial.reconcile"].search_count([]),
            self.env["security.payment.request"].search_count([]),
        )

    def test_duplicate_external_id_within_a_batch(self):
        two, one, _many = self.sets[0]
        results = self.env["account.payment"]._security_register_payments(
            [
                {"partner": two, "amount": 30.0, "external_id": "dup:1"},
                {"partner": one, "amount": 30.0, "external_id": "dup:2"},
                {"partner": two, "amount": 30.0, "external_id": "dup:1"},
            ]
        )
        self.assertEqual([r["duplicate"] for r in results], [False, False, True])
        self.assertEqual(results[2]["payment_id"], results[0]["payment_id"])
        self.assertEqual(results[2]["allocations"], results[0]["allocations"])
        self.assertEqual(
            self.env["account.payment"].search_count(
                [("security_external_id", "=like", "dup:%")]
            ),
            2,
        )
        # one 30.00 payment only: the second invoice is still open
        self.assertEqual(two.security_balance, -30.0)
        request = self.env["security.payment.request"].search(
            [("external_id", "=", "dup:1")]
        )
        self.assertEqual(request.payment_id.id, results[0]["payment_id"])
        self.assertEqual(request._get_result()["payment_id"], request.payment_id.id)

    def test_batch_with_an_already_registered_id(self):
        two, one, _many = self.sets[0]
        payments = self.env["account.payment"]
        old = payments._security_register_payment(two, 30.0, external_id="old:1")
        results = payments._security_register_payments(
            [
                {"partner": one, "amount": 30.0, "external_id": "old:2"},
                {"partner": two, "amount": 30.0, "external_id": "old:1"},
            ]
        )
        self.assertEqual([r["duplicate"] for r in results], [False, True])
        self.assertEqual(results[1]["payment_id"], old["payment_id"])
        self.assertEqual(two.security_balance, -30.0)
        self.assertEqual(one.security_balance, 0.0)

    def test_bad_amount_refuses_the_whole_batch(self):
        two, one, _many = self.sets[0]
        counts = self._counts()
        with self.assertRaises(UserError):
            self.env["account.payment"]._security_register_payments(
                [
                    {"partner": one, "amount": 30.0, "external_id": "bad:1"},
                    {"partner": two, "amount": -5.0, "external_id": "bad:2"},
                ]
            )
        self.assertEqual(self._counts(), counts)

    def test_one_allocation_for_the_whole_batch(self):
        """The open invoices of all the batch's subscribers are row-locked by
        one query, not one per payment."""
        partners = self.sets[0]
        queries = []
        cr = self.env.cr
        execute = type(cr).execute

        def spy(cursor, query, params=None, log_exceptions=True):
            queries.append(str(query))
            return execute(cursor, query, params, log_exceptions)

        type(cr).execute = spy
        try:
            self.env["account.payment"]._security_register_payments(
                self._requests(partners, "lock")
            )
        finally:
            type(cr).execute = execute
        locks = [q for q in queries if "account_move_line" in q and "FOR UPDATE" in q]
        self.assertEqual(len(locks), 1)
        claims = [q for q in queries if "INSERT INTO security_payment_request" in q]
        self.assertEqual(len(claims), 1)

    def _unallocated_credit(self, partner, amount):
        """The receivable credit line of a posted payment, not allocated."""
        payments = self.env["account.payment"]
        payment = payments._security_create_posted(
            payments._security_prepare_payments_vals(
                [{"partner": partner, "amount": amount}]
            )
        )
        return payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )

    def _other_receivable_debit(self, partner, amount):
        """A receivable debit of ``partner`` outside the balance (a
        miscellaneous entry), so outside any allocation plan."""
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self.company_data["default_journal_misc"].id,
                "line_ids": [
                    Command.create(
                        {
                            "partner_id": partner.id,
                            "account_id": partner.property_account_receivable_id.id,
                            "debit": amount,
                        }
                    ),
                    Command.create(
                        {
                            "account_id": self.company_data[
                                "default_account_revenue"
                            ].id,
                            "credit": amount,
                        }
                    ),
                ],
            }
        )
        move.action_post()
        return move.line_ids.filtered("debit")

    def test_allocation_returns_only_the_partials_it_made(self):
        """The partials of an allocation are those between its planned lines
        made by its reconciliation: partials made between the reading before
        and the reconciliation, with higher ids, are not taken for its own,
        be they on another subscriber's lines or on a planned credit with a
        line outside the plan."""
        two, one, _many = self.sets[0]
        lines = self.env["account.move.line"]
        credit = self._unallocated_credit(two, 45.0)
        keys = {credit: (two.id, False)}
        debits_by_key = lines._security_get_open_mmr_debits_many(keys.values())
        plan = credit._security_plan_allocation(keys, debits_by_key)
        self.assertEqual(len(plan), 2)  # the two invoices of 30
        known = lines._security_get_plan_partial_ids(plan)
        last = self.env["account.partial.reconcile"].search(
            [], order="id desc", limit=1
        )
        # meanwhile, in the same transaction: another subscriber's payment
        # and invoice are reconciled, and 5.00 of the planned credit goes to
        # a debit outside the plan
        other = self._unallocated_credit(one, 30.0)
        one_key = (one.id, False)
        one_debits = lines._security_get_open_mmr_debits_many([one_key])[one_key]
        (other | one_debits).reconcile()
        outside = self._other_receivable_debit(two, 5.0)
        (credit | outside).reconcile()
        meanwhile = other.matched_debit_ids | outside.matched_credit_ids
        self.assertEqual(len(meanwhile), 2)
        lines._reconcile_plan([credit | debit for credit, debit in plan])
        partials = lines._security_get_new_plan_partials(plan, known)
        self.assertEqual(
            [(p.credit_move_id, p.debit_move_id, p.amount) for p in partials],
            [(credit, plan[0][1], 30.0), (credit, plan[1][1], 10.0)],
        )
        self.assertGreater(min(meanwhile.ids), last.id)
        self.assertFalse(partials & meanwhile)
        self.assertTrue(credit.reconciled)
