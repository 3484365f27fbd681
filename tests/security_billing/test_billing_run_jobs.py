"""The billing run as chunk jobs (OCA queue_job): what is enqueued, progress,
the last chunk closing the run, one run per company at a time, reruns."""

from unittest.mock import patch

from psycopg2 import OperationalError

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import JobCounter, trap_jobs
from odoo.addons.security_billing.models.account_move import AccountMove

from .billing_common import BillingCase

CHANNEL = "root.security_billing.billing"


@tagged("post_install", "-at_install")
class TestBillingRunJobs(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.subscribers, cls.contracts = cls._create_due_subscribers("Jobs", 5)
        cls.env["ir.config_parameter"].set_param(
            "security_billing.billing_run_batch_size", "2"
        )
        cls.Chunk = cls.env["security.billing.run.chunk"]

    def _start(self, date_ref="2025-03-01", runs=None):
        runs = runs if runs is not None else self.runs
        return runs._start(trigger="manual", date_ref=self._date(date_ref))

    def test_start_enqueues_one_job_per_chunk_in_the_billing_channel(self):
        with trap_jobs() as trap:
            run = self._start()
            trap.assert_jobs_count(3)
            chunks = run.chunk_ids.sorted("sequence")
            for chunk in chunks:
                trap.assert_jobs_count(1, only=chunk._run_chunk)
                trap.assert_enqueued_job(chunk._run_chunk)
            jobs = trap.enqueued_jobs
            self.assertEqual({job.channel for job in jobs}, {CHANNEL})
            # each chunk is its own job: distinct identities
            self.assertTrue(all(job.identity_key for job in jobs))
            self.assertEqual(len({job.identity_key for job in jobs}), 3)
            self.assertEqual(
                sorted(chunks.sudo().mapped("job_uuid")),
                sorted(job.uuid for job in jobs),
            )
            # the id ranges of the due contracts, 2 by 2
            ids = self.contracts.sorted("id").ids
            self.assertEqual(
                [(c.first_contract_id, c.last_contract_id) for c in chunks],
                [(ids[0], ids[1]), (ids[2], ids[3]), (ids[4], ids[4])],
            )
            self.assertEqual(chunks.mapped("contract_total"), [2, 2, 1])
            # the run answers at once: nothing billed yet
            self.assertEqual(run.state, "running")
            self.assertEqual((run.contract_total, run.chunk_count), (5, 3))
            self.assertEqual((run.contract_count, run.invoice_count), (0, 0))
            self.assertEqual(run.progress, 0.0)
            self.assertFalse(run.invoice_ids)
            trap.perform_enqueued_jobs()
        run.invalidate_recordset()
        self.assertEqual(run.state, "done")
        self.assertEqual((run.contract_count, run.invoice_count), (5, 5))
        self.assertEqual(run.chunk_done_count, 3)
        self.assertEqual(run.progress, 100.0)
        for contract in self.contracts:
            self.assertEqual(len(self._contract_invoices(contract)), 1)

    def test_jobs_are_stored_and_the_run_progresses_chunk_by_chunk(self):
        counter = JobCounter(self.env(su=True))
        run = self._start()
        self.assertEqual(counter.count_created(), 3)
        stored = counter.search_created()
        self.assertEqual(set(stored.mapped("channel")), {CHANNEL})
        self.assertEqual(set(stored.mapped("state")), {"pending"})
        self.assertEqual(set(stored.mapped("model_name")), {self.Chunk._name})
        self.assertEqual(set(stored.mapped("method_name")), {"_run_chunk"})
        jobs = self._run_jobs(run)
        expected = [
            # chunks done, contracts, invoices, progress, state
            (1, 2, 2, 40.0, "running"),
            (2, 4, 4, 80.0, "running"),
            (3, 5, 5, 100.0, "done"),
        ]
        for job, figures in zip(jobs, expected, strict=True):
            self._perform_job(job)
            run.invalidate_recordset()
            self.assertEqual(
                (
                    run.chunk_done_count,
                    run.contract_count,
                    run.invoice_count,
                    run.progress,
                    run.state,
                ),
                figures,
            )
        self.assertTrue(run.date_finished)
        self.assertEqual(run.invoice_amount, 150.0)
        self.assertEqual(set(stored.mapped("state")), {"done"})

    def test_the_last_chunk_to_finish_closes_the_run_in_any_order(self):
        run = self._start()
        first, second, last = self._run_jobs(run)
        for job in (last, first):
            self._perform_job(job)
        run.invalidate_recordset()
        self.assertEqual(run.state, "running")
        self.assertFalse(run.date_finished)
        self._perform_job(second)
        run.invalidate_recordset()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.invoice_count, 5)

    def test_a_second_run_is_refused_while_one_is_running(self):
        run = self._start()
        with self.assertRaisesRegex(UserError, "already in progress"):
            self._start()
        # the cron skips the company instead
        cron_runs = self.runs._run_all_companies(self._date("2025-03-01"))
        self.assertNotIn(self.company, cron_runs.company_id)
        self.assertEqual(
            self.runs.search(
                [("company_id", "=", self.company.id), ("state", "=", "running")]
            ),
            run,
        )
        self._perform_run_jobs(run)
        self.assertEqual(run.state, "done")
        again = self._start()
        self.assertEqual(again.state, "done", "nothing left due: done at once")
        self.assertFalse(again.chunk_ids)

    def test_a_run_whose_job_failed_is_interrupted_by_the_next_start(self):
        run = self._start()
        first, second, last = self._run_jobs(run)
        self._perform_job(first)
        # the second chunk failed for good (retries exhausted), the last one
        # was cancelled by a user: no job will finish the run
        second.set_failed(exc_info="boom")
        second.store()
        last.set_cancelled()
        last.store()
        rerun = self._start()
        run.invalidate_recordset()
        self.assertEqual(run.state, "interrupted")
        self.assertTrue(run.date_finished)
        self.assertEqual(rerun.contract_total, 3, "what the first run left")
        self._perform_run_jobs(rerun)
        self.assertEqual((rerun.state, rerun.invoice_count), ("done", 3))
        for contract in self.contracts:
            self.assertEqual(len(self._contract_invoices(contract)), 1)

    def test_a_chunk_dying_half_way_leaves_the_run_open_and_its_rerun_ends_it(self):
        run = self._start()
        first, second, last = self._run_jobs(run)
        self._perform_job(first)
        self._perform_job(last)
        post_batch = AccountMove._security_post_batch

        def dies_after_creating(moves):
            # the invoices are created; a concurrent update kills the chunk
            self.env.cr.execute(
                "DO $$BEGIN RAISE EXCEPTION 'concurrent update' "
                "USING ERRCODE = 'serialization_failure'; END$$"
            )

        with patch.object(
            AccountMove,
            "_security_post_batch",
            autospec=True,
            side_effect=dies_after_creating,
        ):
            # queue_job rolls the job's transaction back (a savepoint here)
            # and retries it later
            with self.assertRaises(OperationalError), self.env.cr.savepoint():
                self._perform_job(second)
        self.assertIs(AccountMove._security_post_batch, post_batch)
        run.invalidate_recordset()
        chunk = run.chunk_ids.sorted("sequence")[1]
        self.assertEqual(chunk.state, "pending")
        self.assertEqual(run.state, "running")
        self.assertEqual((run.chunk_done_count, run.invoice_count), (2, 3))
        self.assertEqual(run.progress, 60.0)
        self.assertFalse(run.error_ids, "a retried chunk is not a contract error")
        for contract in chunk._security_contracts():
            self.assertFalse(self._contract_invoices(contract))
            self.assertEqual(str(contract.recurring_next_date), "2025-03-01")
        # the rerun of the chunk finishes the run, nothing billed twice
        self._perform_job(second)
        run.invalidate_recordset()
        self.assertEqual(run.state, "done")
        self.assertEqual((run.contract_count, run.invoice_count), (5, 5))
        for contract in self.contracts:
            self.assertEqual(len(self._contract_invoices(contract)), 1)

    def test_a_chunk_run_again_after_it_was_done_bills_nothing(self):
        """The worker died after the chunk committed, before its job was
        marked done: queue_job runs it again."""
        run = self._start()
        jobs = self._run_jobs(run)
        for job in jobs:
            self._perform_job(job)
        invoices = run.invoice_ids
        jobs[0].perform()
        run.invalidate_recordset()
        self.assertEqual(run.invoice_ids, invoices)
        self.assertEqual((run.state, run.invoice_count), ("done", 5))
        self.assertEqual(run.chunk_ids.mapped("invoice_count"), [2, 2, 1])

    def test_a_bad_contract_is_isolated_within_its_chunk(self):
        broken_account = self.company_data["default_account_revenue"].copy(
            {"code": "700998", "name": "Closed revenue"}
        )
        broken_product = self._create_mmr_product(
            "Old monitoring", 25.0, property_account_income_id=broken_account.id
        )
        broken = self._create_billing_contract(
            self._create_subscriber("Jobs broken"),
            date_start="2025-03-01",
            lines=[(broken_product, 25.0, 1.0)],
        )
        broken_account.deprecated = True
        run = self._start()
        self._perform_run_jobs(run)
        self.assertEqual(run.state, "done")
        self.assertEqual((run.contract_count, run.invoice_count), (6, 5))
        self.assertEqual(run.error_count, 1)
        self.assertEqual(run.error_ids.contract_id, broken)
        self.assertIn("Closed revenue (700998) is deprecated", run.error_ids.message)
        # its chunk billed its other contract
        chunk = run.chunk_ids.filtered("error_count")
        self.assertEqual((chunk.contract_count, chunk.invoice_count), (2, 1))

    def test_the_user_who_started_it_is_notified_when_done(self):
        accountant = self._create_company_user(
            "sb_jobs_accountant", company=self.company
        )
        action = self.runs.with_user(accountant).action_security_run_billing_now()
        run = self.runs.browse(action["res_id"])
        self.assertEqual(run.state, "running")
        self.assertFalse(run.message_ids)
        self._perform_run_jobs(run)
        self.assertEqual(run.state, "done")
        message = run.message_ids
        self.assertEqual(len(message), 1)
        self.assertIn("Billing run done", str(message.body))
        self.assertIn(f"{run.contract_count} contracts billed", str(message.body))
        self._assert_owner_notified(message, accountant, run.name)
        # the accountant reads the run's progress and chunks, changes nothing
        as_accountant = run.with_user(accountant)
        self.assertEqual(as_accountant.progress, 100.0)
        self.assertEqual(len(as_accountant.chunk_ids), 3)
        self.assertFalse(
            self.Chunk.with_user(accountant).has_access("write"),
            "chunks are written by the jobs only",
        )
