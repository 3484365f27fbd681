"""Two chunk jobs of a billing run posting at once, in real transactions."""

import threading

from odoo.tests import tagged

from odoo.addons.queue_job.controllers.main import RunJobController
from odoo.addons.queue_job.job import Job

from ..race import CommittedRaceCase

CONTRACTS = 4  # two chunks of two


@tagged("post_install", "-at_install")
class TestBillingRunChunksRace(CommittedRaceCase):
    """The two chunks of a run, each in its own committed transaction and
    thread, run by queue_job's own job runner code (``_try_perform_job``:
    started and committed, performed, done and committed). The first chunk
    is held after Odoo numbered its first invoice, uncommitted; the second
    one then posts in the same journal on the same date.

    Odoo's numbering makes the second wait (PostgreSQL's unique index on
    posted names, ``account_move_unique_name``) for the first's commit, then
    skip the numbers taken: both commit, the numbers follow each other
    without gap or duplicate, and the chunk that ends last closes the run
    (row lock on the run, READ COMMITTED count of the chunks) exactly once.
    """

    def setUp(self):
        self.out = {}
        super().setUp()

    def _create_fixture(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            company, journal, product, partners, contracts = self._create_due_contracts(
                env, "Race chunks", CONTRACTS
            )
            # a number of today is already posted in the journal
            previous = env["account.move"].create(
                self._invoice_vals(partners[-1], journal, "Survey")
            )
            previous.action_post()
            params = env["ir.config_parameter"]
            self.batch_size = params.get_param(
                "security_billing.billing_run_batch_size"
            )
            params.set_param("security_billing.billing_run_batch_size", "2")
            self.company_id = company.id
            self.product_id, self.partner_ids = product.id, partners.ids
            self.contract_ids, self.previous_name = contracts.ids, previous.name

    def _delete_fixture(self):
        with self.registry.cursor() as cr:
            env = self._env(cr, force_delete=True)
            self._delete_billed(env, self.out.get("run"))
            env["ir.config_parameter"].set_param(
                "security_billing.billing_run_batch_size", self.batch_size or False
            )

    def _start_run(self):
        """The run starts and enqueues its chunks, committed."""
        with self.registry.cursor() as cr:
            run = (
                self._env(cr)["security.billing.run"]
                .with_company(self.company_id)
                ._start(trigger="manual", date_ref=self.today)
            )
            self.out["run"] = run.id
            return run.chunk_ids.sorted("sequence").mapped("job_uuid")

    def _perform_chunk(self, name, uuid):
        """queue_job's runner code runs the chunk's job in its own cursor."""
        threading.current_thread().worker = name
        out = self.out
        try:
            with self.registry.cursor() as cr:
                out[name, "pid"] = cr._cnx.get_backend_pid()
                env = self._env(cr)
                RunJobController()._try_perform_job(env, Job.load(env, uuid))
                out[name] = "done"
        except Exception as exc:  # reported by the test thread
            out[name] = exc

    def test_two_chunks_posting_at_once_number_without_gap_or_duplicate(self):
        out = self.out
        entered, release = threading.Event(), threading.Event()
        domain_patch, number_patch = self._billing_patches("a", entered, release)
        with domain_patch, number_patch:
            uuid_a, uuid_b = self._start_run()
            waited, b_done_while_a_held = self._race_against_held(
                threading.Thread(target=self._perform_chunk, args=("a", uuid_a)),
                entered,
                release,
                lambda: threading.Thread(
                    target=self._perform_chunk, args=("b", uuid_b)
                ),
                out,
                "b",
            )
        self.assertEqual((out.get("a"), out.get("b")), ("done", "done"), out)
        self.assertTrue(waited, "the second chunk did not wait for the first's number")
        self.assertFalse(b_done_while_a_held)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            run = env["security.billing.run"].browse(out["run"])
            self.assertEqual(run.state, "done")
            self.assertEqual((run.chunk_count, run.chunk_done_count), (2, 2))
            self.assertEqual((run.contract_count, run.invoice_count), (4, 4))
            self.assertEqual(run.error_count, 0)
            closed = run.message_ids.filtered(lambda m: "Billing run done" in m.body)
            self.assertEqual(len(closed), 1, "closed once, by the last chunk")
            jobs = env["queue.job"].search([("uuid", "in", [uuid_a, uuid_b])])
            self.assertEqual(set(jobs.mapped("state")), {"done"})
            moves = env["account.move"].search(
                [("partner_id", "in", self.partner_ids)], order="sequence_number"
            )
            self.assertEqual(len(moves), CONTRACTS + 1)
            self.assertEqual(moves[0].name, self.previous_name)
            self.assertEqual(set(moves.mapped("state")), {"posted"})
            self.assertEqual(len(set(moves.mapped("name"))), len(moves))
            self.assertEqual(len(set(moves.mapped("sequence_prefix"))), 1)
            first = moves[0].sequence_number
            self.assertEqual(
                moves.mapped("sequence_number"),
                list(range(first, first + len(moves))),
                "consecutive numbers",
            )
            self.assertFalse(any(moves.mapped("made_sequence_gap")))
            self.assertEqual(moves[1:], run.invoice_ids.sorted("sequence_number"))
            # the first chunk's invoices come first: the second waited for it
            chunk_a = run.chunk_ids.sorted("sequence")[0]
            self.assertEqual(
                moves[1:3].security_contract_id.sorted("id").ids,
                [chunk_a.first_contract_id, chunk_a.last_contract_id],
            )
            contracts = env["contract.contract"].browse(self.contract_ids)
            self.assertEqual(run.invoice_ids.security_contract_id, contracts)
            self.assertTrue(all(c.recurring_next_date > self.today for c in contracts))
