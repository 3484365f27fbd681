"""Errors of the integrator API in the caller's language over XML-RPC: a
client sends no context, the API answers in the user's language."""

import xmlrpc.client

from odoo.tests import HttpCase, tagged

from ..common import SecurityBillingCase
from ..languages import install_languages

API = "security.billing.api"


@tagged("post_install", "-at_install")
class TestApiLanguage(SecurityBillingCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        install_languages(cls.env)
        company = cls.company_data["company"]
        cls.ref = cls._create_subscriber("Api Reader").security_account_ref
        cls.users = {}
        for lang in ("ru_RU", "uk_UA", "en_US"):
            login = f"sb_api_{lang}"
            cls.users[lang] = cls._create_company_user(
                login,
                "security_billing.group_security_billing_api",
                company=company,
                password=f"{login}-Secret-1",
                lang=lang,
            )

    def _fault(self, lang, method, *args, context=None):
        user = self.users[lang]
        kwargs = {"context": context} if context else {}
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.xmlrpc_object.execute_kw(
                self.env.cr.dbname,
                user.id,
                f"{user.login}-Secret-1",
                API,
                method,
                list(args),
                kwargs,
            )
        return caught.exception.faultString

    def test_errors_in_the_users_language(self):
        self.assertIn(
            "Недопустимый номер лицевого счёта '1000018': не сходится контрольная",
            self._fault("ru_RU", "account_status", "1000018"),
        )
        self.assertIn(
            "Лицевой счёт 9999996 не найден",
            self._fault("ru_RU", "account_status", "9999996"),
        )
        self.assertIn(
            "Недопустимая сумма 'ten': не число",
            self._fault("ru_RU", "register_payment", self.ref, "ten", "x"),
        )
        self.assertIn(
            "Неприпустимий номер особового рахунку '1000018'",
            self._fault("uk_UA", "account_status", "1000018"),
        )
        self.assertIn(
            "Invalid account number '1000018': it fails its check digit",
            self._fault("en_US", "account_status", "1000018"),
        )

    def test_the_context_language_wins(self):
        self.assertIn(
            "Invalid account number '1000018'",
            self._fault(
                "ru_RU", "account_status", "1000018", context={"lang": "en_US"}
            ),
        )

    def test_bank_api_errors_in_the_users_language(self):
        self.assertIn(
            "Недопустимый file_format 'pdf': используйте csv или xlsx",
            self._fault("ru_RU", "debt_registry", False, False, "pdf"),
        )
