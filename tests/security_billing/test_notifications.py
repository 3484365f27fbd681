"""Customer notices: email and SMS, each event once."""

from odoo.tests import tagged

from odoo.addons.sms.tests.common import SMSCase

from .dunning_common import DunningCase

NUMBER = "+32456001122"


@tagged("post_install", "-at_install")
class TestNotifications(DunningCase, SMSCase):
    def _run_notices(self, days=0):
        return self.env["security.notification.log"]._run_notifications(
            date_ref=self._days(days)
        )

    def _partner_notices(self, notices):
        """The notices of the test subscriber (the demo data has its own
        promised payment, whose notices the same run sends)."""
        return notices.filtered(lambda notice: notice.partner_id == self.partner)

    def _mails(self, partner=None):
        partner = partner or self.partner
        return self.env["mail.mail"].search(
            [("recipient_ids", "in", partner.ids)], order="id"
        )

    def _sms_records(self, partner=None):
        partner = partner or self.partner
        return self.env["sms.sms"].search([("partner_id", "=", partner.id)], order="id")

    def test_same_event_is_notified_once(self):
        notices = self.env["security.notification.log"]
        first = notices._notify(
            "past_due", self.contract, self.partner, period="2025-01", amount=30.0
        )
        again = notices._notify(
            "past_due", self.contract, self.partner, period="2025-01", amount=30.0
        )
        self.assertTrue(first)
        self.assertFalse(again)
        self.assertEqual(first.channels, "email,sms")
        self.assertEqual(len(self._mails()), 1)
        self.assertEqual(len(self._sms_records()), 1)
        self.assertIn("past due", self._mails().subject)
        self.assertEqual(self._sms_records().number, NUMBER)
        # another period is another event
        notices._notify("past_due", self.contract, self.partner, period="2025-02")
        self.assertEqual(len(self._mails()), 2)
        # the queued SMS goes out through Odoo's SMS gateway
        with self.mockSMSGateway():
            self._sms_records().send()
        self.assertSMSIapSent([NUMBER], content="past due")
        self.assertEqual(len(self._sms), 2)

    def test_status_changes_notify_past_due_suspended_restored(self):
        self._mmr_invoice(self.contract, 30.0, days_ago=0)
        self._run_dunning(1)
        self._run_dunning(1)
        self._run_dunning(15)
        self._run_dunning(16)
        self._pay(self.partner, 30.0)
        self._run_dunning(16)
        events = (
            self.env["security.notification.log"]
            .search([("partner_id", "=", self.partner.id)], order="id")
            .mapped("event")
        )
        self.assertEqual(events, ["past_due", "suspended", "restored"])
        self.assertEqual(len(self._mails()), 3)
        self.assertEqual(len(self._sms_records()), 3)
        suspended = self._notices("suspended")
        self.assertEqual(suspended.amount, 30.0)
        self.assertEqual(suspended.contract_id, self.contract)
        self.assertIn("suspended", self._sms_records()[1].body)

    def test_upcoming_autopay_charge_when_invoiced(self):
        token = self._create_token(self.partner, "done")
        self.partner._security_set_autopay_token(token)
        self.contract.recurring_next_date = self._days(5)
        self.assertFalse(self._run_notices(0), "more than 3 days ahead")
        notice = self._run_notices(2)
        self.assertEqual(notice.event, "autopay_upcoming")
        self.assertEqual(notice.date_value, self._days(5))
        self.assertEqual(notice.amount, 30.0)
        self.assertFalse(self._run_notices(3))
        self.assertEqual(len(self._mails()), 1)

    def test_upcoming_autopay_charge_on_due_date(self):
        self.company.security_autopay_trigger = "due"
        token = self._create_token(self.partner, "done")
        self.partner._security_set_autopay_token(token)
        self.contract.recurring_next_date = self._days(60)
        invoice = self._mmr_invoice(self.contract, 25.0, post=False)
        invoice.invoice_date_due = self._days(3)
        invoice.action_post()
        notice = self._run_notices(0)
        self.assertEqual((notice.event, notice.amount), ("autopay_upcoming", 25.0))
        self.assertEqual(notice.date_value, self._days(3))
        self.assertFalse(self._run_notices(1))

    def test_low_prepaid_balance(self):
        self.company.security_low_balance_threshold = 10.0
        self._pay(self.partner, 25.0)
        self.assertFalse(self._run_notices(0), "25 of credit is enough")
        self._mmr_invoice(self.contract, 20.0)  # uses 20 of the credit
        notice = self._run_notices(0)
        self.assertEqual((notice.event, notice.amount), ("low_balance", 5.0))
        self.assertFalse(self._run_notices(1), "once per month")
        self.assertEqual(len(self._run_notices(40)), 1, "next month again")
        # autopay customers are charged, not told to top up
        other = self._create_subscriber("Bob", email="bob@example.com")
        self._create_mmr_contract(other)
        other._security_set_autopay_token(self._create_token(other, "done"))
        self._run_notices(70)
        self.assertFalse(self._notices("low_balance", other))

    def test_promise_granted_and_expiring(self):
        self._mmr_invoice(self.contract, 30.0, days_ago=20)
        self.partner._security_request_promised_payment(date_ref=self.today)
        self.assertEqual(len(self._notices("promise_granted")), 1)
        self.assertFalse(self._partner_notices(self._run_notices(3)))
        notice = self._partner_notices(self._run_notices(4))
        self.assertEqual(notice.event, "promise_expiring")
        self.assertFalse(self._partner_notices(self._run_notices(5)))
        self.assertIn("ends", self._sms_records()[-1].body)

    def test_channels_follow_contact_data_and_settings(self):
        notices = self.env["security.notification.log"]
        no_mobile = self._create_subscriber("Carol", email="carol@example.com")
        log = notices._notify("restored", no_mobile, no_mobile)
        self.assertEqual(log.channels, "email")
        self.assertFalse(self._sms_records(no_mobile))
        self.company.security_notify_sms = False
        log = notices._notify("restored", self.partner, self.partner)
        self.assertEqual(log.channels, "email")
        self.assertFalse(self._sms_records())
        nobody = self._create_subscriber("Dan")
        log = notices._notify("restored", nobody, nobody)
        self.assertEqual(log.channels, "none")
        self.assertFalse(self._mails(nobody))
