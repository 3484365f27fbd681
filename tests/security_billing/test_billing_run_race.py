"""Batch numbering of a billing run against a concurrent posting."""

import threading

from odoo.tests import tagged

from ..race import CommittedRaceCase

CONTRACTS = 3


@tagged("post_install", "-at_install")
class TestBillingRunNumberRace(CommittedRaceCase):
    """A billing run posts its batch while another transaction posts an
    invoice in the same sales journal on the same date, in real transactions.

    The test cursor serializes everything, so the fixture (MMR contracts due
    today, a draft customer invoice of today, all in one sales journal) is
    committed through registry cursors, the billing run and the other
    posting each run in their own cursor and thread, and everything
    committed is deleted afterwards. The run only bills this test's
    contracts (its real domain, restricted to them).

    What was observed (and is asserted), PostgreSQL's unique index on posted
    names (``account_move_unique_name``) doing the serialization:

    - run held after Odoo numbered the first invoice of the batch
      (``_set_next_sequence``, uncommitted) and before the batch writes the
      next numbers: the other posting reads the last committed number, tries
      the run's first one and waits on the index for the run's transaction;
      once the run commits, it gets a unique violation, which Odoo's
      ``_set_next_sequence`` loop skips up to the number after the batch.
    - other posting held numbered but uncommitted: the run's first number
      waits the same way, then follows it; the batch follows its first.
    - the number after the run's first one typed by a user and committed
      while the run is held (the only way for another transaction to take a
      number of the batch: a posting always tries the run's first number
      first): the batch write meets it, rolls back to its savepoint and
      Odoo numbers the rest one by one, around it.

    Every time: both transactions commit, no error, every contract billed
    once, consecutive numbers without gap or duplicate.
    """

    def setUp(self):
        self.out = {}  # what the threads report; the run's id for the cleanup
        super().setUp()

    def _create_fixture(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            company, journal, product, partners, contracts = self._create_due_contracts(
                env, "Race numbering", CONTRACTS
            )
            previous, invoice = env["account.move"].create(
                [
                    self._invoice_vals(partners[-1], journal, name)
                    for name in ("Survey", "Installation")
                ]
            )
            # a number of today is already posted: the draft has none, it
            # is numbered when posted (as every invoice after the first)
            previous.action_post()
            self.assertEqual(invoice.name, "/")
            self.company_id, self.journal_id = company.id, journal.id
            self.product_id, self.partner_ids = product.id, partners.ids
            self.contract_ids, self.invoice_id = contracts.ids, invoice.id
            self.previous_name = previous.name

    def _delete_fixture(self):
        with self.registry.cursor() as cr:
            self._delete_billed(self._env(cr, force_delete=True), self.out.get("run"))

    # ---------------------------------------------------------------- workers
    def _run_billing(self, out):
        """The billing run of the company, in its own committed transaction."""
        threading.current_thread().testing = True  # queue mails, send none
        threading.current_thread().worker = "run"
        try:
            with self.registry.cursor() as cr:
                out["run", "pid"] = cr._cnx.get_backend_pid()
                env = self._env(cr)
                # its one chunk billed at once, in this transaction
                run = (
                    env["security.billing.run"]
                    .with_company(self.company_id)
                    .with_context(queue_job__no_delay=True)
                    ._start(trigger="manual", date_ref=self.today)
                )
                out["run"] = run.id
        except Exception as exc:  # reported by the test thread
            out["run"] = exc

    def _post_invoice(self, out, posted=None, release=None, name=None):
        """A user posts a customer invoice in its own committed transaction,
        optionally under a number typed in (``name``), optionally held after
        posting, before the commit."""
        threading.current_thread().testing = True
        threading.current_thread().worker = "post"
        try:
            with self.registry.cursor() as cr:
                out["post", "pid"] = cr._cnx.get_backend_pid()
                invoice = self._env(cr)["account.move"].browse(self.invoice_id)
                if name:
                    invoice.name = name
                invoice.action_post()
                out["post"] = invoice.name
                if posted:
                    invoice.flush_recordset()
                    posted.set()  # numbered, uncommitted
                    release.wait(120)
        except Exception as exc:  # reported by the test thread
            out["post"] = exc

    # ------------------------------------------------------------------ tests
    def test_concurrent_posting_waits_and_numbers_after_the_batch(self):
        out = self.out
        entered, release = threading.Event(), threading.Event()
        domain_patch, number_patch = self._billing_patches("run", entered, release, out)
        with domain_patch, number_patch:
            run = threading.Thread(target=self._run_billing, args=(out,))
            # the posting either finishes or waits on a lock of the run
            # (no timing: poll until one of the two happens)
            waited, post_done_while_run_held = self._race_against_held(
                run,
                entered,
                release,
                lambda: threading.Thread(target=self._post_invoice, args=(out,)),
                out,
                "post",
            )
        self.assertIsInstance(out.get("run"), int, out.get("run"))
        self.assertIsInstance(out.get("post"), str, out.get("post"))
        self.assertTrue(waited, "the posting did not wait for the run's number")
        self.assertFalse(post_done_while_run_held)
        self._assert_numbered_once(out, invoice_at=-1)

    def _assert_numbered_once(self, out, invoice_at, invoice_flagged=False):
        """Both transactions committed: one sequence, no gap, no duplicate;
        the other invoice at ``invoice_at`` in it, the batch's invoices in
        order around it, after the previous invoice; no move flagged as
        making a gap (but the other invoice if ``invoice_flagged``)."""
        with self.registry.cursor() as cr:
            env = self._env(cr)
            run = env["security.billing.run"].browse(out["run"])
            self.assertEqual(run.state, "done")
            self.assertEqual((run.invoice_count, run.error_count), (CONTRACTS, 0))
            moves = env["account.move"].search(
                [("partner_id", "in", self.partner_ids)], order="sequence_number"
            )
            previous = moves.filtered(lambda m: m.name == self.previous_name)
            invoice = env["account.move"].browse(self.invoice_id)
            self.assertEqual(len(moves), CONTRACTS + 2)
            self.assertEqual(set(moves.mapped("state")), {"posted"})
            self.assertEqual(
                set(moves.mapped("sequence_prefix")), {previous.sequence_prefix}
            )
            self.assertEqual(len(set(moves.mapped("name"))), len(moves))
            first = previous.sequence_number
            self.assertEqual(
                moves.mapped("sequence_number"),
                list(range(first, first + len(moves))),
                "consecutive numbers",
            )
            self.assertEqual(moves[0], previous)
            self.assertEqual(moves[invoice_at], invoice)
            self.assertEqual(out["post"], invoice.name)
            batch = moves[1:] - invoice
            self.assertEqual(batch, run.invoice_ids.sorted("sequence_number"))
            self.assertEqual(out["first"], batch[0].name)
            self.assertFalse(any((moves - invoice).mapped("made_sequence_gap")))
            self.assertEqual(invoice.made_sequence_gap, invoice_flagged)
            for move in moves:
                self.assertEqual(set(move.line_ids.mapped("move_name")), {move.name})
            # each contract billed once and moved to its next period
            contracts = env["contract.contract"].browse(self.contract_ids)
            self.assertEqual(
                run.invoice_ids.security_contract_id.sorted("id"), contracts
            )
            self.assertTrue(all(c.recurring_next_date > self.today for c in contracts))

    def test_run_waits_for_a_posting_in_progress_and_numbers_after_it(self):
        out = self.out
        posted, release = threading.Event(), threading.Event()
        domain_patch, number_patch = self._billing_patches("run", out=out)
        with domain_patch, number_patch:
            post = threading.Thread(
                target=self._post_invoice, args=(out, posted, release)
            )
            waited, run_done_while_post_held = self._race_against_held(
                post,
                posted,
                release,
                lambda: threading.Thread(target=self._run_billing, args=(out,)),
                out,
                "run",
            )
        self.assertIsInstance(out.get("run"), int, out.get("run"))
        self.assertIsInstance(out.get("post"), str, out.get("post"))
        self.assertTrue(waited, "the run did not wait for the posting's number")
        self.assertFalse(run_done_while_post_held)
        self._assert_numbered_once(out, invoice_at=1)

    def test_number_taken_meanwhile_by_a_committed_posting(self):
        out = self.out
        entered, release = threading.Event(), threading.Event()
        domain_patch, number_patch = self._billing_patches("run", entered, release, out)
        with domain_patch, number_patch:
            taken = []

            def post_next_number():
                """A posting typing the number after the run's first one."""
                move = self.env["account.move"]
                format_string, values = move._get_sequence_format_param(out["first"])
                values["seq"] += 1
                taken.append(format_string.format(**values))
                return threading.Thread(
                    target=self._post_invoice, args=(out,), kwargs={"name": taken[0]}
                )

            run = threading.Thread(target=self._run_billing, args=(out,))
            waited, post_done_while_run_held = self._race_against_held(
                run, entered, release, post_next_number, out, "post"
            )
        self.assertIsInstance(out.get("run"), int, out.get("run"))
        self.assertEqual(out.get("post"), taken[0])
        self.assertFalse(waited, "the typed number is free: nothing to wait for")
        self.assertTrue(post_done_while_run_held)
        # the batch write met the committed number and fell back to Odoo's
        # one-by-one numbering, which skipped it: no gap, no duplicate.
        # Odoo flags the typed number as a gap: when it was posted, the
        # run's first number (just before it) was not committed
        self._assert_numbered_once(out, invoice_at=2, invoice_flagged=True)
