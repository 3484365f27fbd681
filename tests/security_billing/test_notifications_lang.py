"""Customer notices go out in the subscriber's language: the email (subject,
body, service note) and the SMS, amounts formatted as that language writes
them, whatever the language of the user or job that sends them."""

from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.payment_demo.models.payment_transaction import (
    PaymentTransaction as DemoTransaction,
)
from odoo.addons.sms.tests.common import SMSCase

from ..languages import install_languages
from .dunning_common import DunningCase

NUMBER = "+32456001122"


@tagged("post_install", "-at_install")
class TestNotificationsLanguage(DunningCase, SMSCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        install_languages(cls.env)
        cls.partner.lang = "ru_RU"
        cls.env.user.lang = "en_US"

    def _mail(self, notice):
        return notice.mail_id

    def _sms(self, notice):
        return notice.sms_id

    def test_past_due_and_suspended_notices_in_russian(self):
        self._mmr_invoice(self.contract, 1234.5, days_ago=0)
        self._run_dunning(1)
        self._run_dunning(15)
        self._run_dunning(16)
        past_due = self._notices("past_due")
        suspended = self._notices("suspended")
        self.assertEqual(past_due.channels, "email,sms")
        self.assertEqual(suspended.channels, "email,sms")
        mail, sms = past_due.mail_id, past_due.sms_id
        self.assertIn("ваш платёж просрочен", mail.subject)
        self.assertIn("По вашей подписке на мониторинг просрочено", mail.body_html)
        self.assertIn("1\N{NO-BREAK SPACE}234,50", mail.body_html)
        self.assertNotIn("past due", mail.body_html)
        self.assertIn("1\N{NO-BREAK SPACE}234,50", sms.body)
        self.assertIn("просрочено", sms.body)
        self.assertNotIn("past due", sms.body)
        # the service note inside the suspension email follows the language
        self.assertIn("обслуживание приостановлено", suspended.mail_id.subject)
        self.assertIn("Приостановлено за неуплату", suspended.mail_id.body_html)
        self.assertNotIn("Suspended for non-payment", suspended.mail_id.body_html)
        self.assertIn("приостановлено", suspended.sms_id.body)
        # the SMS that reaches the gateway is the Russian one
        with self.mockSMSGateway():
            sms.send()
        self.assertSMSIapSent([NUMBER], content="просрочено")

    def test_english_subscriber_stays_in_english(self):
        self.partner.lang = "en_US"
        self.env.user.lang = "ru_RU"
        notice = self.env["security.notification.log"]._notify(
            "past_due", self.contract, self.partner, period="x", amount=1234.5
        )
        self.assertIn("your payment is past due", notice.mail_id.subject)
        self.assertIn("1,234.50", notice.sms_id.body)

    def _failed_autopay_notice(self, token_state="error"):
        token = self._create_token(self.partner, token_state)
        self.partner._security_set_autopay_token(token)
        self._mmr_invoice(self.contract, 30.0)
        attempt = self.env["security.autopay.attempt"]._run_autopay(date_ref=self.today)
        notice = self._notices("autopay_failed")
        self.assertEqual(len(notice), 1)
        return attempt, notice

    def test_autopay_failed_notice_tells_the_reason_in_russian(self):
        attempt, notice = self._failed_autopay_notice()
        self.assertEqual(notice.note, "платёж отклонён")
        self.assertIn("платёж отклонён", notice.mail_id.body_html)
        # the provider's own message stays on the attempt, for the accountant
        self.assertTrue(attempt.error)
        self.assertNotIn(attempt.error, notice.mail_id.body_html)
        self.assertNotIn("declined", notice.mail_id.body_html)

    def test_autopay_unreachable_provider_notice_in_russian(self):
        with patch.object(
            DemoTransaction,
            "_send_payment_request",
            autospec=True,
            side_effect=ValidationError("Demo: gateway timeout"),
        ):
            attempt, notice = self._failed_autopay_notice("done")
        self.assertEqual(attempt.state, "failed")
        self.assertIn("gateway timeout", attempt.error)
        self.assertEqual(notice.note, "платёжный сервис не смог провести списание")
        self.assertNotIn("gateway timeout", notice.mail_id.body_html)
