"""The company's promise, notice and low balance settings refuse negative
values, each with its own name in the message."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..common import SecurityBillingCase

SETTINGS = (
    "security_promise_fee_share",
    "security_promise_max_amount",
    "security_promise_days",
    "security_promise_max_count",
    "security_promise_period_days",
    "security_promise_max_suspended_days",
    "security_promise_cooldown_days",
    "security_autopay_notice_days",
    "security_low_balance_threshold",
)


@tagged("post_install", "-at_install")
class TestCompanySettings(SecurityBillingCase):
    def test_each_setting_refuses_a_negative_value(self):
        company = self.company_data["company"]
        for fname in SETTINGS:
            label = company._fields[fname].string
            with self.subTest(fname):
                with self.assertRaises(ValidationError) as caught:
                    with self.env.cr.savepoint():
                        company.write({fname: -1})
                self.assertIn(f"{label} cannot be negative", str(caught.exception))
                company.write({fname: 0})
                self.assertEqual(company[fname], 0)
