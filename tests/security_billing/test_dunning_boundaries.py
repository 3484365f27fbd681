"""Dunning day boundaries: the day before, of and after each threshold.

An invoice due on day D is past due from D + 1. With the default rules the
contract is warned from 1 day past due and suspended from 15; company rules
move the thresholds; a minimum amount is met by an equal amount; the paid-
until date holds a suspension back up to and including that day.
"""

from odoo.tests import tagged

from .dunning_common import DunningCase


@tagged("post_install", "-at_install")
class TestDunningBoundaries(DunningCase):
    def _state_on(self, days):
        """Run the dunning on today + ``days`` and return the contract status."""
        self._run_dunning(days)
        return self.contract.security_state

    def assertStates(self, expected):
        """``expected``: ``{days from today: state}``, checked in date order."""
        got = {days: self._state_on(days) for days in sorted(expected)}
        self.assertEqual(got, expected)

    def test_default_warning_boundary(self):
        """Due today: active on the due date and before, warned from the
        next day."""
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self.assertStates({-1: "active", 0: "active", 1: "warning", 2: "warning"})

    def test_default_suspension_boundary(self):
        """Warning on day 14 past due, suspended on day 15 and after."""
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self.assertStates({14: "warning", 15: "suspended", 16: "suspended"})
        self.assertEqual(self.contract.security_state_since, self._days(15))

    def test_due_date_in_the_past_counts_from_the_due_date(self):
        """Days past due count from the due date, not from the run: an
        invoice due 15 days ago is suspended on today's run at once."""
        self._mmr_invoice(self.contract, 30.0, days_ago=14)
        self.assertEqual(self._state_on(0), "warning")
        self._mmr_invoice(self.contract, 30.0, days_ago=15)
        self.assertEqual(self._state_on(0), "suspended", "the oldest one counts")

    def test_company_rule_boundaries(self):
        rules = self.env["security.dunning.rule"]
        rules.create({"state": "warning", "days_past_due": 3})
        rules.create({"state": "suspended", "days_past_due": 10})
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self.assertStates(
            {
                2: "active",
                3: "warning",
                4: "warning",
                9: "warning",
                10: "suspended",
                11: "suspended",
            }
        )

    def test_minimum_amount_is_met_by_an_equal_amount(self):
        rules = self.env["security.dunning.rule"]
        rules.create({"state": "warning", "days_past_due": 1})
        rules.create({"state": "suspended", "days_past_due": 15, "min_amount": 30.0})
        self._mmr_invoice(self.contract, 29.99, days_ago=0)
        self.assertEqual(self._state_on(15), "warning", "29.99 is below 30.00")
        self._pay(self.partner, 29.99)
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self.assertEqual(self._state_on(15), "suspended", "30.00 meets 30.00")

    def test_paid_until_holds_suspension_through_its_last_day(self):
        """Paid until D + 20 (a yearly bill paid): an unpaid later bill is
        warned until D + 20 included, suspended on D + 21."""
        yearly = self._mmr_invoice(self.contract, 360.0, days_ago=30)
        self._pay(self.partner, 360.0)
        self.env["account.move"].flush_model()
        self.env.cr.execute(
            "UPDATE account_move SET security_period_start = invoice_date, "
            "security_period_end = %s WHERE id = %s",
            [self._days(20), yearly.id],
        )
        yearly.invalidate_recordset()
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self.assertEqual(self.contract.security_paid_until, self._days(20))
        self.assertStates({19: "warning", 20: "warning", 21: "suspended"})

    def test_payment_on_the_suspension_day_restores_at_once(self):
        """Suspended on day 15; paid the same day: active again, and the
        next day's run keeps it so."""
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self.assertEqual(self._state_on(15), "suspended")
        self._pay(self.partner, 30.0)
        self.assertEqual(self.contract.security_state, "active")
        self.assertEqual(self._state_on(16), "active")
