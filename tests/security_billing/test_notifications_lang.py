"""Customer notices go out in the subscriber's language: the email (subject,
body, service note) and the SMS, amounts formatted as that language writes
them, whatever the language of the user or job that sends them."""

from odoo.tests import tagged

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
