"""The terminal's texts in the provider's language (Terminal Language, else
the company's): one language for a network's screens, whoever pays."""

from odoo.tests import HttpCase, tagged

from odoo.addons.security_billing.tools.account_ref import make_account_ref

from ..languages import install_languages
from . import test_terminal


@tagged("post_install", "-at_install")
class TestTerminalLanguage(test_terminal.TerminalCase, HttpCase):
    # the HTTP helpers of the terminal tests, without their tests
    _request = test_terminal.TestTerminalHttp._request
    _answer = test_terminal.TestTerminalHttp._answer
    _call = test_terminal.TestTerminalHttp._call
    _check = test_terminal.TestTerminalHttp._check

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        install_languages(cls.env)

    def test_comments_in_the_providers_language(self):
        unknown = make_account_ref("999999")
        self.provider.lang = "ru_RU"
        self.assertEqual(
            self._check(account=unknown)["comment"],
            f"Лицевой счёт {unknown} не найден.",
        )
        self.assertIn(
            "не сходится контрольная цифра", self._check("1000018")["comment"]
        )
        self.provider.lang = "uk_UA"
        self.assertEqual(
            self._check(account=unknown)["comment"],
            f"Особовий рахунок {unknown} не знайдено.",
        )
        # the amount owed is a plain number whatever the language: the
        # terminal formats it
        self.partner.lang = "ru_RU"
        answer = self._check()
        self.assertEqual(answer["result"], 0)
        self.assertIn(("field2", "disp2", "60.00"), answer["fields"])

    def test_company_language_when_none_is_set(self):
        self.provider.lang = False
        self.provider.company_id.partner_id.lang = "ru_RU"
        unknown = make_account_ref("999999")
        self.assertEqual(
            self._check(account=unknown)["comment"],
            f"Лицевой счёт {unknown} не найден.",
        )
        self.provider.company_id.partner_id.lang = "en_US"
        self.assertEqual(
            self._check(account=unknown)["comment"],
            f"Account number {unknown} was not found.",
        )
