"""The app status file's "blocked" is the contract's stored
``security_blocked``: every way a contract gets blocked shows in the
export rows, and a payment that restores the service shows unblocked in the
same transaction (no cron, no commit)."""

from odoo.tests import tagged

from .dunning_common import DunningCase

BLOCKED = 4  # index of "blocked" in a row (tools.app_status.ROW_FIELDS)


@tagged("post_install", "-at_install")
class TestAppExportBlocked(DunningCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.site = cls._create_site(cls.partner, cls.contract, device_id="0000B10C")
        cls.connector = cls.env["security.app.connector"].create(
            {
                "name": "Ajax billing",
                "vendor": "ajax",
                "site_domain": repr([("id", "=", cls.site.id)]),
            }
        )

    def _blocked_in_file(self):
        rows, skipped = self.connector._collect_rows()
        self.assertEqual((len(rows), skipped), (1, []))
        return rows[0][BLOCKED]

    def _assert_blocked(self, state):
        self.assertEqual(self.contract.security_state, state)
        self.assertTrue(self.contract.security_blocked)
        self.assertIs(self._blocked_in_file(), True)

    def test_blocked_column_is_stored(self):
        self.assertTrue(self.contract._fields["security_blocked"].store)
        self.assertIs(self._blocked_in_file(), False)

    def test_suspended_by_dunning_then_paid(self):
        self._mmr_invoice(self.contract, 30.0, days_ago=20)
        self._run_dunning(0)
        self._assert_blocked("suspended")
        self._pay(self.partner, 30.0)
        self.assertEqual(self.contract.security_state, "active")
        self.assertIs(self._blocked_in_file(), False)

    def test_warning_is_not_blocked(self):
        self._mmr_invoice(self.contract, 30.0, days_ago=5)
        self._run_dunning(0)
        self.assertEqual(self.contract.security_state, "warning")
        self.assertIs(self._blocked_in_file(), False)

    def test_suspended_by_broken_promise_then_paid(self):
        self.company.security_promise_days = 3
        self._mmr_invoice(self.contract, 30.0, days_ago=5)
        self._run_dunning(0)
        result = self.partner._security_request_promised_payment(
            channel="portal", date_ref=self.today
        )
        self.assertTrue(result["ok"])
        self._run_dunning(4)
        self._assert_blocked("suspended")
        self._pay(self.partner, 30.0)
        self.assertEqual(self.contract.security_state, "active")
        self.assertIs(self._blocked_in_file(), False)

    def test_terminated_stays_blocked_after_payment(self):
        Rule = self.env["security.dunning.rule"]
        Rule.create({"state": "warning", "days_past_due": 3})
        Rule.create({"state": "terminated", "days_past_due": 60})
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self._run_dunning(60)
        self._assert_blocked("terminated")
        # a payment never lifts a termination
        self._pay(self.partner, 30.0)
        self._assert_blocked("terminated")

    def test_manager_override_blocks_until_its_end(self):
        wizard = (
            self.env["security.state.override.wizard"]
            .with_context(
                active_model="contract.contract", active_ids=self.contract.ids
            )
            .create(
                {
                    "state": "suspended",
                    "date_until": self._days(10),
                    "reason": "Vendor abuse report",
                }
            )
        )
        wizard.action_apply()
        self._assert_blocked("suspended")
        # the override holds whatever is paid
        self._pay(self.partner, 30.0)
        self._assert_blocked("suspended")
        # nothing is owed: the override ends and the service comes back
        self._run_dunning(11)
        self.assertEqual(self.contract.security_state, "active")
        self.assertIs(self._blocked_in_file(), False)
