"""Dunning: service status by days past due, logs, overrides, unblocking."""

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .dunning_common import DunningCase


@tagged("post_install", "-at_install")
class TestDunning(DunningCase):
    def test_default_rules_follow_days_past_due(self):
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self._run_dunning(0)
        self.assertEqual(self.contract.security_state, "active")
        self._run_dunning(1)
        self.assertEqual(self.contract.security_state, "warning")
        self._run_dunning(14)
        self.assertEqual(self.contract.security_state, "warning")
        self._run_dunning(15)
        self.assertEqual(self.contract.security_state, "suspended")
        self.assertTrue(self.contract.security_blocked)
        self.assertFalse(self.contract.security_monitoring_active)
        self.assertEqual(self.contract.security_state_since, self._days(15))
        logs = self.contract.security_state_log_ids.sorted("id")
        self.assertEqual(
            [(log.old_state, log.new_state, log.origin) for log in logs],
            [("active", "warning", "cron"), ("warning", "suspended", "cron")],
        )
        self.assertIn("15 days", logs[-1].reason)
        self.assertEqual(logs[-1].date_ref, self._days(15))
        # a second run changes and logs nothing
        self.assertEqual(self._run_dunning(15), {})
        self.assertEqual(len(self.contract.security_state_log_ids), 2)

    def test_company_rules_with_minimum_amount(self):
        rules = self.env["security.dunning.rule"]
        rules.create({"state": "warning", "days_past_due": 3})
        rules.create({"state": "suspended", "days_past_due": 10, "min_amount": 50.0})
        rules.create({"state": "terminated", "days_past_due": 60})
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self._run_dunning(2)
        self.assertEqual(self.contract.security_state, "active")
        self._run_dunning(3)
        self.assertEqual(self.contract.security_state, "warning")
        self._run_dunning(20)
        self.assertEqual(
            self.contract.security_state, "warning", "30 past due is below 50"
        )
        self._mmr_invoice(self.contract, 30.0, days_ago=-5)
        self._run_dunning(20)
        self.assertEqual(self.contract.security_state, "suspended")
        self._run_dunning(60)
        self.assertEqual(self.contract.security_state, "terminated")
        # a payment never lifts a termination
        self._pay(self.partner, 60.0)
        self.assertEqual(self.contract.security_state, "terminated")

    def test_rules_are_validated(self):
        rules = self.env["security.dunning.rule"]
        rules.create({"state": "warning", "days_past_due": 5})
        with self.assertRaises(ValidationError):
            rules.create({"state": "suspended", "days_past_due": 2})

    def test_suspension_waits_for_paid_until(self):
        yearly = self._mmr_invoice(self.contract, 360.0, days_ago=20)
        self._pay(self.partner, 360.0)
        self.env["account.move"].flush_model()
        self.env.cr.execute(
            "UPDATE account_move SET security_period_start = invoice_date, "
            "security_period_end = %s WHERE id = %s",
            [self._days(345), yearly.id],
        )
        yearly.invalidate_recordset()
        self._mmr_invoice(self.contract, 30.0, days_ago=10)
        self.assertEqual(self.contract.security_paid_until, self._days(345))
        self._run_dunning(10)
        self.assertEqual(self.contract.security_state, "warning")
        self.assertIn("Paid until", self.contract.security_state_log_ids[:1].reason)

    def test_life_safety_sites_keep_monitoring(self):
        self._create_site(self.partner, self.contract, life_safety=True)
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self._run_dunning(20)
        self.assertEqual(self.contract.security_state, "suspended")
        self.assertTrue(self.contract.security_blocked)
        self.assertTrue(self.contract.security_monitoring_active)
        self.assertIn(
            "life-safety monitoring continues", self.contract.security_status_note
        )

    def test_payment_unblocks_in_the_same_transaction(self):
        self._mmr_invoice(self.contract, 30.0, days_ago=20)
        self._run_dunning(0)
        self.assertEqual(self.contract.security_state, "suspended")
        self._pay(self.partner, 30.0)
        # no cron, no commit: the payment call itself restored the service
        self.assertEqual(self.contract.security_state, "active")
        self.assertFalse(self.contract.security_blocked)
        log = self.contract.security_state_log_ids.sorted("id")[-1]
        self.assertEqual((log.old_state, log.new_state), ("suspended", "active"))
        self.assertEqual(log.origin, "payment")

    def test_partial_payment_improves_only_as_far_as_the_debt_allows(self):
        self._mmr_invoice(self.contract, 30.0, days_ago=20)
        self._mmr_invoice(self.contract, 30.0, days_ago=5)
        self._run_dunning(0)
        self.assertEqual(self.contract.security_state, "suspended")
        self._pay(self.partner, 30.0)  # pays the oldest invoice
        self.assertEqual(self.contract.security_state, "warning")

    def test_payment_never_suspends(self):
        self._mmr_invoice(self.contract, 30.0, days_ago=20)
        self._mmr_invoice(self.contract, 30.0, days_ago=19)
        self.assertEqual(self.contract.security_state, "active")
        self._pay(self.partner, 10.0)
        self.assertEqual(self.contract.security_state, "active")
        self._run_dunning(0)
        self.assertEqual(self.contract.security_state, "suspended")

    def test_credit_note_unblocks_in_the_same_transaction(self):
        invoice = self._mmr_invoice(self.contract, 30.0, days_ago=20)
        self._run_dunning(0)
        self.assertEqual(self.contract.security_state, "suspended")
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "goodwill"})
        )
        reversal.refund_moves()
        refund = invoice.reversal_move_ids
        refund.action_post()
        self.assertEqual(invoice.payment_state, "reversed")
        self.assertEqual(self.contract.security_state, "active")
        log = self.contract.security_state_log_ids.sorted("id")[-1]
        self.assertEqual(log.origin, "credit_note")

    def test_manager_override_until_end_date(self):
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        wizard = (
            self.env["security.state.override.wizard"]
            .with_context(
                active_model="contract.contract", active_ids=self.contract.ids
            )
            .create(
                {
                    "state": "active",
                    "date_until": self._days(30),
                    "reason": "Hospital stay",
                }
            )
        )
        wizard.action_apply()
        self._run_dunning(20)
        self.assertEqual(self.contract.security_state, "active")
        self._run_dunning(31)
        self.assertEqual(self.contract.security_state, "suspended")
        self.assertFalse(self.contract.security_override_state)
        origins = self.contract.security_state_log_ids.mapped("origin")
        self.assertIn("override", origins)

    def test_override_needs_manager_reason_and_end(self):
        with self.assertRaises(UserError):
            self.contract._security_set_override("active", False, "no end")
        user = self.env["res.users"].create(
            {
                "name": "Accountant",
                "login": "dun-accountant",
                "groups_id": [
                    (
                        6,
                        0,
                        [
                            self.env.ref(
                                "security_billing.group_security_billing_user"
                            ).id
                        ],
                    )
                ],
                "company_id": self.env.company.id,
                "company_ids": [(6, 0, self.env.company.ids)],
            }
        )
        with self.assertRaises(UserError):
            self.contract.with_user(user)._security_set_override(
                "active", self._days(3), "friend"
            )
        self.assertFalse(self.contract.security_override_state)
