"""Texts built in Python follow the reader's language: account number
errors, the contract's service note, the "billing run done" message."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..common import SecurityBillingCase
from ..languages import install_languages


@tagged("post_install", "-at_install")
class TestLanguageBehaviour(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        install_languages(cls.env)
        cls.company = cls.env.company

    def test_account_number_errors_are_translated(self):
        Partner = self.env["res.partner"].with_context(lang="ru_RU")
        cases = {
            "  ": "Недопустимый номер лицевого счёта: номер пуст.",
            "10O0017": "Недопустимый номер лицевого счёта '10O0017': только цифры.",
            "12": "Недопустимый номер лицевого счёта '12': неверная длина.",
            "1000018": "Недопустимый номер лицевого счёта '1000018': не сходится "
            "контрольная цифра",
        }
        for text, message in cases.items():
            with self.subTest(text=text), self.assertRaises(UserError) as caught:
                Partner._security_parse_account_ref(text)
            self.assertIn(message, str(caught.exception))
        with self.assertRaisesRegex(
            UserError, "Неприпустимий номер особового рахунку '12'"
        ):
            Partner.with_context(lang="uk_UA")._security_parse_account_ref("12")

    def test_service_note_follows_the_language(self):
        partner = self._create_subscriber("Note Reader")
        contract = self._create_mmr_contract(partner)
        english = contract.with_context(lang="en_US").security_status_note
        russian = contract.with_context(lang="ru_RU").security_status_note
        ukrainian = contract.with_context(lang="uk_UA").security_status_note
        self.assertEqual(english, "Active: all services running.")
        self.assertEqual(russian, "Активно: все услуги работают.")
        self.assertEqual(ukrainian, "Активне: усі послуги працюють.")

    def test_billing_run_done_message_in_the_starters_language(self):
        accountant = self._create_company_user(
            "sb_run_ru", company=self.company, lang="ru_RU"
        )
        run = self.env["security.billing.run"].create(
            {
                "user_id": accountant.id,
                "contract_count": 3,
                "invoice_count": 2,
                "invoice_amount": 1234.5,
            }
        )
        run._notify_done()
        body = str(run.message_ids[:1].body)
        self.assertIn("Запуск начислений завершён", body)
        self.assertIn("1&nbsp;234,50", body)  # no-break space, escaped
        english = run._done_message("en_US")
        self.assertIn("Billing run done", english)
        self.assertIn("1,234.50", english)
