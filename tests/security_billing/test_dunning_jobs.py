"""The daily dunning as jobs (OCA queue_job): the cron closes the ended
overrides at once and enqueues the recomputation of the MMR contracts, one
job per id range; the jobs give the statuses the synchronous dunning gives;
enqueuing twice the same day gives the same jobs; a job run twice changes
nothing more."""

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.addons.security_billing.models.contract_contract_dunning import (
    DUNNING_CHUNK_SIZE,
)

from .dunning_common import DunningCase

CHANNEL = "root.security_billing.dunning"


@tagged("post_install", "-at_install")
class TestDunningJobs(DunningCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Contract = cls.env["contract.contract"]
        # 40 days past due: suspended by the default rules
        cls._mmr_invoice(cls.contract, 30.0, days_ago=40)
        cls.late = cls._create_subscriber("Late Larry")
        cls.late_contract = cls._create_mmr_contract(cls.late, price=20.0)
        # 10 days past due: a warning
        cls._mmr_invoice(cls.late_contract, 20.0, days_ago=10)
        cls.paid = cls._create_subscriber("Paid Paula")
        cls.paid_contract = cls._create_mmr_contract(cls.paid, price=25.0)

    def _our_jobs(self, trap):
        ids = (self.contract | self.late_contract | self.paid_contract).ids
        return [
            job
            for job in trap.enqueued_jobs
            if job.method_name == "_security_dunning_job"
            and job.args[2] <= min(ids)
            and max(ids) <= job.args[3]
        ]

    def test_cron_enqueues_one_job_per_id_range(self):
        with trap_jobs() as trap:
            self.Contract._cron_security_dunning()
            jobs = trap.enqueued_jobs
            self.assertTrue(jobs)
            for job in jobs:
                self.assertEqual(job.method_name, "_security_dunning_job")
                self.assertEqual(job.channel, CHANNEL)
                date_ref, company_ids, first, last = job.args
                self.assertEqual(date_ref, self.today)
                self.assertEqual(company_ids, sorted(self.env.companies.ids))
                self.assertEqual(first % DUNNING_CHUNK_SIZE, 0)
                self.assertEqual(last, first + DUNNING_CHUNK_SIZE - 1)
            # one job per range holding an MMR contract
            ranges = {job.args[2] for job in jobs}
            contracts = self.Contract.search(self.Contract._security_dunning_domain())
            self.assertEqual(
                ranges,
                {
                    cid // DUNNING_CHUNK_SIZE * DUNNING_CHUNK_SIZE
                    for cid in contracts.ids
                },
            )
            # nothing recomputed before the jobs run
            self.assertEqual(self.contract.security_state, "active")
            self.assertEqual(self.late_contract.security_state, "active")
            trap.perform_enqueued_jobs()
        self.assertEqual(self.contract.security_state, "suspended")
        self.assertEqual(self.late_contract.security_state, "warning")
        self.assertEqual(self.paid_contract.security_state, "active")
        self.assertEqual(
            self.contract.security_state_log_ids.mapped("origin"), ["cron"]
        )

    def test_jobs_give_the_statuses_of_the_synchronous_dunning(self):
        with trap_jobs() as trap:
            self.Contract._cron_security_dunning()
            trap.perform_enqueued_jobs()
        by_jobs = {
            c: c.security_state
            for c in self.contract | self.late_contract | self.paid_contract
        }
        # the synchronous dunning on the same day finds nothing to change
        changes = self.Contract._security_run_dunning(date_ref=self.today)
        ours = (self.contract | self.late_contract | self.paid_contract).ids
        self.assertFalse({cid for cid in changes if cid in ours})
        self.assertEqual(
            by_jobs,
            {
                self.contract: "suspended",
                self.late_contract: "warning",
                self.paid_contract: "active",
            },
        )

    def test_enqueuing_twice_the_same_day_gives_the_same_jobs(self):
        self.env["queue.job"].sudo().search(
            [("method_name", "=", "_security_dunning_job")]
        ).unlink()
        self.Contract._cron_security_dunning()
        self.Contract._cron_security_dunning()
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("method_name", "=", "_security_dunning_job")])
        )
        contracts = self.Contract.search(self.Contract._security_dunning_domain())
        ranges = {cid // DUNNING_CHUNK_SIZE for cid in contracts.ids}
        self.assertEqual(len(jobs), len(ranges))

    def test_a_job_run_twice_changes_nothing_more(self):
        with trap_jobs() as trap:
            self.Contract._cron_security_dunning()
            ours = self._our_jobs(trap)
            self.assertEqual(len(ours), 1)
            trap.perform_enqueued_jobs()
        logs = self.contract.security_state_log_ids
        result = self.Contract._security_dunning_job(*ours[0].args)
        self.assertIn("0 status changes", result)
        self.assertEqual(self.contract.security_state_log_ids, logs)

    def test_cron_ends_the_overrides_before_enqueuing(self):
        self.contract.sudo().write(
            {
                "security_override_state": "active",
                "security_override_until": self._days(-1),
                "security_override_reason": "Hospital stay",
            }
        )
        with trap_jobs():
            self.Contract._cron_security_dunning()
            # ended and recomputed at once, before any job
            self.assertFalse(self.contract.security_override_state)
            self.assertEqual(self.contract.security_state, "suspended")

    def test_cron_runs_for_its_day(self):
        with freeze_time(self._days(1)), trap_jobs() as trap:
            self.Contract._cron_security_dunning()
            self.assertTrue(trap.enqueued_jobs)
            self.assertEqual(trap.enqueued_jobs[0].args[0], self._days(1))
