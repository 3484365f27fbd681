"""Big statement and registry imports as background jobs (OCA queue_job):
the threshold, what is enqueued, the same result as the inline import,
progress, the notification at the end, reruns and resuming after a failed
chunk, bad files, access."""

from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.queue_job.job import Job

from .bank_common import ANNA, IVAN, SHIELD, UNKNOWN, BankCase, import_vals, read_sample

CHANNEL = "root.security_billing.bank"
THRESHOLD = "security_billing_bank.import_job_threshold"
CHUNK_SIZE = "security_billing_bank.import_chunk_size"


class Rollback(Exception):
    """Raised to roll a savepoint back."""


@tagged("post_install", "-at_install")
class TestImportJobs(BankCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = cls._create_company_user("sb_import_jobs_user")
        cls.Import = cls.env["security.bank.import"]
        # the 6 payments of registry.csv: 3 chunks of 2 lines
        cls.env["ir.config_parameter"].set_param(THRESHOLD, "5")
        cls.env["ir.config_parameter"].set_param(CHUNK_SIZE, "2")

    # ----------------------------------------------------------------- helpers
    def _import_as_accountant(self, name="registry.csv", data=None):
        vals = import_vals(
            name, self.registry_journal, filename=name, data=data, mapping=self.mapping
        )
        wizard = self.env["account.statement.import"].with_user(self.accountant)
        return wizard.create(vals).import_file_button()

    def _started_import(self, action):
        self.assertEqual(action["tag"], "display_notification")
        target = action["params"]["next"]
        self.assertEqual(target["res_model"], "security.bank.import")
        return self.Import.browse(target["res_id"])

    def _jobs(self, imp):
        """The stored jobs of the import, in the order they may run:
        creation 1, payment 1, creation 2, payment 2..."""
        uuids = []
        for chunk in imp.chunk_ids.sorted("sequence").sudo():
            uuids += [chunk.create_job_uuid, chunk.pay_job_uuid]
        return [Job.load(self.env, uuid) for uuid in uuids]

    def _run(self, imp, count=None):
        jobs = self._jobs(imp)
        for job in jobs[:count]:
            self._perform_job(job)
        imp.invalidate_recordset()

    def _snapshot(self, journal=None):
        """What an import leaves, by import id (ids of records aside)."""
        journal = journal or self.registry_journal
        lines = self.journal_lines(journal).filtered("unique_import_id")
        return {
            "lines": {
                line.unique_import_id.split(f"{journal.id}-", 1)[1]: (
                    line.amount,
                    line.sequence,
                    line.date,
                    line.payment_ref,
                    line.security_account_ref,
                    line.security_match_state,
                    line.security_match_reason,
                    line.security_candidate_ids.mapped("security_account_ref"),
                    line.security_payment_id.partner_id.security_account_ref,
                    line.security_payment_id.amount,
                    line.is_reconciled,
                    line.partner_id.security_account_ref,
                    line.move_id.partner_id.security_account_ref,
                    line.move_id.line_ids.partner_id.mapped("security_account_ref"),
                    line.move_id.partner_bank_id.acc_number,
                    line.move_id.name,
                    line.running_balance,
                    line.ref,
                )
                for line in lines
            },
            "statements": [
                (
                    st.balance_start,
                    st.balance_end,
                    st.balance_end_real,
                    st.is_complete,
                    st.is_valid,
                    st.date,
                    len(st.line_ids),
                )
                for st in lines.statement_id
            ],
            # numbered in the order the chunks pay them (inline: in the
            # order Odoo posts the whole file's payments), without gaps
            "payments": sorted(
                (p.partner_id.security_account_ref, p.amount, p.state)
                for p in self.bank_payments()
            ),
            "payment_numbers": sorted(self.bank_payments().mapped("name")),
            "balances": [
                p.security_balance for p in (self.ivan, self.anna, self.shield)
            ],
        }

    def _assert_all_paid_once(self):
        self.assertEqual(len(self.journal_lines(self.registry_journal)), 6)
        self.assertEqual(len(self.bank_payments()), 4)
        self.assertEqual(sum(self.bank_payments().mapped("amount")), 1600.5)
        self.assertEqual(self.ivan.security_balance, 1500.0 + 25.0 - 30.0)

    # ------------------------------------------------------------------- tests
    def test_below_the_threshold_the_import_stays_inline(self):
        self.env["ir.config_parameter"].set_param(THRESHOLD, "7")
        action = self.import_registry(read_sample("registry.csv"))
        self.assertIn(
            "4 paid to subscribers, 2 to match by hand", self.notification_text(action)
        )
        self.assertFalse(self.Import.search([]))
        self.assertFalse(
            self.env["queue.job"].sudo().search([("channel", "=", CHANNEL)])
        )
        self._assert_all_paid_once()

    def test_above_the_threshold_chunk_jobs_are_enqueued(self):
        action = self._import_as_accountant()
        self.assertEqual(
            action["params"]["message"],
            "Import started: 6 lines; you will be notified.",
        )
        imp = self._started_import(action)
        self.assertEqual(imp.state, "queued")
        self.assertEqual(imp.user_id, self.accountant)
        self.assertEqual(imp.journal_id, self.registry_journal)
        self.assertEqual(imp.line_total, 6)
        self.assertEqual(imp.chunk_count, 3)
        self.assertEqual(imp.chunk_ids.mapped("line_count"), [2, 2, 2])
        self.assertEqual(imp.chunk_ids.mapped("first_line"), [1, 3, 5])
        # the statement exists, empty; nothing is created nor paid yet
        self.assertEqual(len(imp.statement_ids), 1)
        self.assertEqual(imp.statement_ids.journal_id, self.registry_journal)
        self.assertFalse(self.journal_lines(self.registry_journal))
        self.assertFalse(self.bank_payments())
        jobs = self._jobs(imp)
        self.assertEqual(len(jobs), 6)
        self.assertEqual({job.channel for job in jobs}, {CHANNEL})
        self.assertEqual(
            [job.method_name for job in jobs],
            ["_create_job", "_pay_job"] * 3,
        )
        self.assertEqual(len({job.graph_uuid for job in jobs}), 1)
        self.assertEqual(
            [job.state for job in jobs], ["pending"] + ["wait_dependencies"] * 5
        )
        create1, pay1, create2, pay2, create3, pay3 = (job.uuid for job in jobs)
        depends = {job.uuid: {dep.uuid for dep in job.depends_on} for job in jobs}
        self.assertEqual(depends[pay1], {create1})
        self.assertEqual(depends[create2], {create1})
        self.assertEqual(depends[pay2], {create2, pay1})
        self.assertEqual(depends[create3], {create2})
        self.assertEqual(depends[pay3], {create3, pay2})

    def test_jobs_give_the_inline_result(self):
        self.env["ir.config_parameter"].set_param(THRESHOLD, "7")
        try:
            with self.env.cr.savepoint():
                action = self.import_registry(read_sample("registry.csv"))
                inline_text = self.notification_text(action)
                inline = self._snapshot()
                raise Rollback()
        except Rollback:
            self.env.invalidate_all()
        self.assertFalse(self.journal_lines(self.registry_journal))
        self.env["ir.config_parameter"].set_param(THRESHOLD, "5")
        imp = self._started_import(self._import_as_accountant())
        self._run(imp)
        self.assertEqual(imp.state, "done")
        self.assertEqual(self._snapshot(), inline)
        self._assert_all_paid_once()
        summary = imp.summary
        self.assertIn("4 paid to subscribers, 2 to match by hand", inline_text)
        self.assertIn(inline_text, summary)
        self.assertIn(
            "6 lines, 4 paid to subscribers for $\xa01,600.50, 2 to match by "
            "hand, 0 errors",
            summary,
        )
        self.assertEqual(imp.payment_count, 4)
        self.assertEqual(imp.payment_amount, 1600.5)
        self.assertEqual(imp.to_match_count, 2)
        self.assertEqual(imp.error_count, 0)
        self.assertEqual(
            self.journal_lines(self.registry_journal).security_import_chunk_id,
            imp.chunk_ids,
        )

    def _partners_by_payment_id(self):
        """``{payment id of the registry: (line, entry, journal items)
        account numbers}`` of the registry journal's lines."""
        return {
            line.unique_import_id.split(f"{self.registry_journal.id}-", 1)[1]: (
                line.partner_id.security_account_ref or False,
                line.move_id.partner_id.security_account_ref or False,
                sorted(
                    {
                        p.security_account_ref or ""
                        for p in line.move_id.line_ids.partner_id
                    }
                ),
            )
            for line in self.journal_lines(self.registry_journal)
        }

    def test_the_creation_job_gives_the_matched_lines_their_subscriber(self):
        """The subscriber is set when the lines are created, in the jobs
        that may run in parallel: paying them only pays."""
        imp = self._started_import(self._import_as_accountant())
        create1, _pay1, create2, _pay2, create3, _pay3 = self._jobs(imp)
        for job in (create1, create2, create3):
            self._perform_job(job)
        imp.invalidate_recordset()
        self.assertEqual(imp.chunk_ids.mapped("state"), ["created"] * 3)
        self.assertFalse(self.bank_payments())
        self.assertEqual(
            self._partners_by_payment_id(),
            {
                "PS-0001": (IVAN, IVAN, [IVAN]),
                "PS-0002": (ANNA, ANNA, [ANNA]),
                "PS-0003": (SHIELD, SHIELD, [SHIELD]),
                # unknown subscriber, invalid number: no partner
                "PS-0004": (False, False, []),
                "PS-0005": (False, False, []),
                # the account number in the purpose
                "PS-0006": (IVAN, IVAN, [IVAN]),
            },
        )
        self._run(imp)
        self.assertEqual(imp.state, "done")
        self._assert_all_paid_once()

    def test_ambiguous_unknown_and_outgoing_lines_get_no_subscriber(self):
        """Only an incoming line of exactly one subscriber gets its partner
        at creation; jobs and inline give the same lines."""
        data = (
            "Account;PaymentID;Date;Amount;Comment\r\n"
            f";PS-0101;03.03.2025;40.00;л/с {IVAN} и {ANNA}\r\n"
            f"{UNKNOWN};PS-0102;03.03.2025;10.00;\r\n"
            f";PS-0103;03.03.2025;-15.00;Refund to {IVAN}\r\n"
            f"{SHIELD};PS-0104;04.03.2025;30.00;\r\n"
            ";PS-0105;04.03.2025;5.00;No number\r\n"
            f";PS-0106;04.03.2025;12.00;л/с {ANNA}\r\n"
        ).encode()
        self.env["ir.config_parameter"].set_param(THRESHOLD, "7")
        try:
            with self.env.cr.savepoint():
                self.import_registry(data, "mixed.csv")
                inline = self._snapshot()
                raise Rollback()
        except Rollback:
            self.env.invalidate_all()
        self.env["ir.config_parameter"].set_param(THRESHOLD, "5")
        imp = self._started_import(self._import_as_accountant("mixed.csv", data))
        for job in self._jobs(imp)[::2]:
            self._perform_job(job)
        expected = {
            "PS-0101": (False, False, []),
            "PS-0102": (False, False, []),
            "PS-0103": (False, False, []),
            "PS-0104": (SHIELD, SHIELD, [SHIELD]),
            "PS-0105": (False, False, []),
            "PS-0106": (ANNA, ANNA, [ANNA]),
        }
        self.assertEqual(self._partners_by_payment_id(), expected)
        self._run(imp)
        self.assertEqual(imp.state, "done")
        self.assertEqual(self._partners_by_payment_id(), expected)
        self.assertEqual(self._snapshot(), inline)
        lines = {
            line.unique_import_id.split(f"{self.registry_journal.id}-", 1)[1]: line
            for line in self.journal_lines(self.registry_journal)
        }
        self.assertLineState(lines["PS-0101"], "to_match", "Ambiguous")
        self.assertEqual(
            sorted(
                lines["PS-0101"].security_candidate_ids.mapped("security_account_ref")
            ),
            [IVAN, ANNA],
        )
        self.assertLineState(lines["PS-0103"], "ignored")
        self.assertPaidBy(lines["PS-0104"], self.shield)
        self.assertLineState(lines["PS-0106"], "matched")
        self.assertEqual(lines["PS-0106"].security_payment_id.partner_id, self.anna)
        self.assertTrue(lines["PS-0106"].is_reconciled)

    def test_1c_jobs_give_the_inline_result(self):
        """A 1C statement (balances from the file, a payer's bank account
        known) through the jobs, as inline."""
        data = read_sample("1c_windows.txt")
        # not the journal's first entry (Odoo numbers the first one at its
        # creation, before the others of its batch)
        self.st_lines.create(
            {
                "journal_id": self.bank_journal.id,
                "date": "2025-03-01",
                "amount": 10.0,
                "payment_ref": "Opening",
            }
        )
        self.env["ir.config_parameter"].set_param(THRESHOLD, "100")
        try:
            with self.env.cr.savepoint():
                action = self.import_file(data, "1c_windows.txt")
                inline_text = self.notification_text(action)
                inline = self._snapshot(self.bank_journal)
                raise Rollback()
        except Rollback:
            self.env.invalidate_all()
        self.assertTrue(inline["lines"])
        self.env["ir.config_parameter"].set_param(THRESHOLD, "2")
        action = (
            self.env["account.statement.import"]
            .with_user(self.accountant)
            .create(import_vals(filename="1c_windows.txt", data=data))
            .import_file_button()
        )
        imp = self._started_import(action)
        self.assertEqual(imp.journal_id, self.bank_journal)
        self._run(imp)
        self.assertEqual(imp.state, "done")
        self.assertEqual(self._snapshot(self.bank_journal), inline)
        self.assertIn(inline_text, imp.summary)

    def test_progress_as_the_chunks_complete(self):
        imp = self._started_import(self._import_as_accountant())
        seen = []
        for job in self._jobs(imp):
            self._perform_job(job)
            imp.invalidate_recordset()
            seen.append(
                (
                    imp.state,
                    imp.line_created_count,
                    imp.line_done_count,
                    imp.chunk_done_count,
                    round(imp.progress, 1),
                )
            )
        self.assertEqual(
            seen,
            [
                ("running", 2, 0, 0, 0.0),
                ("running", 2, 2, 1, 33.3),
                ("running", 4, 2, 1, 33.3),
                ("running", 4, 4, 2, 66.7),
                ("running", 6, 4, 2, 66.7),
                ("done", 6, 6, 3, 100.0),
            ],
        )
        self.assertTrue(imp.date_finished)

    def test_the_importing_user_is_notified_with_the_summary(self):
        imp = self._started_import(self._import_as_accountant())
        self._run(imp, 5)
        self.assertFalse(imp.message_ids.filtered(lambda m: "done" in str(m.body)))
        self._run(imp)
        message = imp.message_ids.filtered(lambda m: "Import of" in str(m.body))
        self.assertEqual(len(message), 1)
        body = str(message.body)
        self.assertIn("Import of registry.csv done: 6 lines", body)
        self.assertIn("4 paid to subscribers, 2 to match by hand", body)
        payload = self._assert_owner_notified(
            message, self.accountant, "Import of registry.csv"
        )
        self.assertIn("2 to match by hand", payload["message"])

    def test_a_chunk_run_twice_creates_and_pays_once(self):
        imp = self._started_import(self._import_as_accountant())
        jobs = self._jobs(imp)
        for job in jobs:
            self._perform_job(job)
            # the runner may run a job again (a worker died after its commit)
            self._perform_job(Job.load(self.env, job.uuid))
        imp.invalidate_recordset()
        self.assertEqual(imp.state, "done")
        self._assert_all_paid_once()
        self.assertEqual(imp.line_done_count, 6)
        self.assertEqual(imp.payment_count, 4)
        self.assertEqual(imp.payment_amount, 1600.5)
        self.assertEqual(imp.to_match_count, 2)
        self.assertEqual(imp.skipped_count, 0)
        self.assertEqual(
            len(imp.message_ids.filtered(lambda m: "Import of" in str(m.body))), 1
        )
        # a payment job run before its creation job creates the lines once
        self.assertEqual(len(imp.chunk_ids.line_ids), 6)

    def test_a_payment_job_before_its_creation_job_creates_the_lines(self):
        imp = self._started_import(self._import_as_accountant())
        jobs = self._jobs(imp)
        self._perform_job(jobs[1])
        self._perform_job(jobs[0])
        chunk = imp.chunk_ids[0]
        self.assertEqual(chunk.state, "done")
        self.assertEqual(len(chunk.line_ids), 2)
        self.assertEqual(len(self.journal_lines(self.registry_journal)), 2)

    def test_a_chunk_killed_half_way_resumes_without_paying_twice(self):
        imp = self._started_import(self._import_as_accountant())
        jobs = self._jobs(imp)
        self._perform_job(jobs[0])
        self._perform_job(jobs[1])
        self._perform_job(jobs[2])
        lines_class = type(self.env["account.bank.statement.line"])
        # the second chunk's payments are made, then the job dies
        with (
            patch.object(
                lines_class,
                "_security_reconcile_with_payments",
                side_effect=RuntimeError("worker killed"),
                autospec=True,
            ),
            self.assertRaisesRegex(RuntimeError, "worker killed"),
        ):
            self._perform_job(jobs[3])
        imp.invalidate_recordset()
        chunk = imp.chunk_ids.sorted("sequence")[1]
        self.assertEqual(imp.state, "failed")
        self.assertEqual(imp.error_count, 1)
        self.assertIn("worker killed", imp.error_message)
        self.assertEqual(chunk.state, "created")
        self.assertIn("worker killed", chunk.error_message)
        # nothing of the dead job is left: the second chunk is not paid
        self.assertEqual(len(chunk.line_ids), 2)
        self.assertFalse(chunk.line_ids.security_payment_id)
        self.assertEqual(
            len(self.bank_payments()),
            len(imp.chunk_ids[0].line_ids.security_payment_id),
        )
        # the accountant runs the failed job again (requeued), then the rest
        self.env["queue.job"].sudo().search(
            [("uuid", "=", jobs[3].uuid)]
        ).state = "failed"
        imp.with_user(self.accountant).action_security_retry()
        requeued = Job.load(self.env, jobs[3].uuid)
        self.assertEqual(requeued.state, "pending")
        self._perform_job(requeued)
        imp.invalidate_recordset()
        self.assertEqual(imp.state, "running")
        self.assertFalse(chunk.error_message)
        for job in jobs[4:]:
            self._perform_job(job)
        imp.invalidate_recordset()
        self.assertEqual(imp.state, "done")
        self.assertEqual(imp.error_count, 0)
        self._assert_all_paid_once()
        self.assertEqual(imp.payment_count, 4)
        self.assertEqual(imp.payment_amount, 1600.5)

    def test_a_bad_file_is_refused_before_anything_is_written(self):
        message = self.import_broken(
            read_sample("registry_bad_amount.csv"),
            "registry_bad_amount.csv",
            self.registry_journal,
            self.mapping,
        )
        self.assertIn("line 3:", message)
        self.assertFalse(self.Import.search([]))
        self.assertFalse(
            self.env["account.bank.statement"].search(
                [("journal_id", "=", self.registry_journal.id)]
            )
        )
        self.assertFalse(
            self.env["queue.job"].sudo().search([("channel", "=", CHANNEL)])
        )

    def test_reimporting_the_file_imports_nothing(self):
        imp = self._started_import(self._import_as_accountant())
        with self.assertRaisesRegex(UserError, "already imported"):
            self._import_as_accountant()
        self.assertEqual(self.Import.search([]), imp)
        self._run(imp)
        with self.assertRaisesRegex(UserError, "already imported"):
            self._import_as_accountant()
        self.assertEqual(self.Import.search([]), imp)
        self._assert_all_paid_once()

    def test_a_partial_reimport_goes_to_jobs_with_the_new_lines_only(self):
        rows = read_sample("registry.csv").decode().split("\r\n")
        self.env["ir.config_parameter"].set_param(THRESHOLD, "7")
        self.import_registry("\r\n".join(rows[:3]).encode())
        self.assertEqual(len(self.bank_payments()), 2)
        self.env["ir.config_parameter"].set_param(THRESHOLD, "5")
        imp = self._started_import(self._import_as_accountant())
        self.assertEqual(imp.line_total, 4)
        self.assertIn("2 transactions had already been imported", imp.import_notes)
        self._run(imp)
        self.assertIn("2 transactions had already been imported", imp.summary)
        self.assertIn("2 paid to subscribers, 2 to match by hand", imp.summary)
        self._assert_all_paid_once()

    def test_only_bank_import_users_read_imports(self):
        imp = self._started_import(self._import_as_accountant())
        self.assertEqual(
            imp.with_user(self.accountant).read(["state"])[0]["state"], "queued"
        )
        employee = new_test_user(
            self.env,
            login="sb_import_jobs_employee",
            groups="base.group_user",
            company_id=self.accountant.company_id.id,
        )
        with self.assertRaises(AccessError):
            imp.with_user(employee).read(["state"])
        with self.assertRaises(AccessError):
            imp.chunk_ids.with_user(employee).read(["state"])
        self.assertFalse(
            self.Import.with_user(self.accountant).has_access("write"),
            "imports are written by the jobs only",
        )
        # another company's accountant does not see the import
        other = self.env["res.company"].create({"name": "Other Alarm Co"})
        outsider = self._create_company_user("sb_import_jobs_outsider", company=other)
        self.assertFalse(self.Import.with_user(outsider).search([]))
        with self.assertRaises(AccessError):
            imp.with_user(outsider).read(["state"])
        # the lines' values are for the system only
        with self.assertRaises(AccessError):
            imp.chunk_ids.with_user(self.accountant).read(["line_vals"])

    def test_job_methods_are_private(self):
        """Every public method of a model is an RPC endpoint."""
        for model, allowed in (
            ("security.bank.import", {"action_view_lines", "action_security_retry"}),
            ("security.bank.import.chunk", set()),
            # OCA's own entry points, overridden
            ("account.statement.import", {"import_file_button", "import_single_file"}),
        ):
            public = {
                name
                for cls in type(self.env[model]).__mro__
                if cls.__module__.startswith("odoo.addons.security_billing_bank.")
                for name, value in vars(cls).items()
                if callable(value) and not name.startswith("_")
            }
            self.assertLessEqual(public, allowed, model)
