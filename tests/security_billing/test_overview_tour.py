"""Headless Chromium: an accountant opens the billing overview, opens the past
due analysis, groups it by age and drills down to a record."""

import os
import unittest
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..common import SecurityBillingCase


@tagged("post_install", "-at_install")
class TestOverviewTour(SecurityBillingCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.accountant = cls._create_company_user(
            "sb_overview_tour",
            "base.group_user,security_billing.group_security_billing_user",
            company=company,
        )
        partner = cls._create_subscriber(
            "Tour Subscriber",
            property_payment_term_id=cls.env.ref(
                "account.account_payment_term_immediate"
            ).id,
        )
        start = fields.Date.context_today(cls.env.user) - timedelta(days=45)
        contract = cls._create_mmr_contract(partner, price=30.0, date_start=start)
        cls._invoice_contract(contract)

    def test_tour_overview_group_and_drill_down(self):
        action = self.env.ref("security_billing.action_security_billing_overview")
        try:
            self.start_tour(
                f"/odoo/action-{action.id}",
                "security_billing_overview",
                login=self.accountant.login,
            )
        except unittest.SkipTest as exc:
            if os.environ.get("SB_NO_BROWSER") == "1":
                raise
            self.fail(f"the headless browser could not run: {exc}")
