"""The Billing page in the subscriber's language: Russian and Ukrainian
texts, amounts written as the language writes numbers."""

import re

from odoo.tests import tagged

from ..languages import install_languages
from .common import SecurityPortalCase


@tagged("post_install", "-at_install")
class TestPortalLanguages(SecurityPortalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        install_languages(cls.env)
        cls.alice.lang = "ru_RU"
        cls.bob.lang = "uk_UA"
        cls.alice_user.lang = "ru_RU"
        cls.bob_user.lang = "uk_UA"
        # a bill above a thousand: the thousands separator shows
        cls._invoice_contract(
            cls._create_contract_since(cls.bob, 1, price=1500.0, name="Bob Office")
        )

    def _page(self, user, url="/my/billing"):
        """The page as the user's browser shows it: Odoo first redirects to
        the URL of the user's language (/ru/my/billing)."""
        self._login(user)
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        return response.text

    def test_billing_page_in_russian(self):
        html = self._page(self.alice_user)
        for text in ("Другая сумма", "К оплате", "Обещанный платёж"):
            self.assertIn(text, html)
        for text in ("Other amount", "Amount due", "Promised payment"):
            self.assertNotIn(text, html)
        # 90.00 due, 30.00 a bill: a decimal comma, the data attributes keep
        # the dot for scripts
        self.assertIn('data-amount="90.00"', html)
        self.assertRegex(html, r">\s*90,00\s*<")
        self.assertRegex(html, r">\s*30,00\s*<")
        self.assertNotRegex(html, r">\s*30\.00\s*<")

    def test_billing_page_in_ukrainian(self):
        html = self._page(self.bob_user)
        for text in ("Інша сума", "До сплати", "Обіцяний платіж"):
            self.assertIn(text, html)
        self.assertNotIn("Other amount", html)
        self.assertRegex(html, r">\s*1\s500,00\s*<")
        self.assertRegex(html, r">\s*45,00\s*<")
        self.assertFalse(re.search(r">\s*1,500\.00\s*<", html))

    def test_bill_in_the_subscribers_language(self):
        """Odoo renders the invoice report in the partner's language (our
        addons do not override it): labels and amounts in Russian."""
        install_languages(self.env, ["ru_RU"], ["account"])
        invoice = self.alice_invoices[0]
        self._login(self.alice_user)
        response = self.url_open(f"/my/invoices/{invoice.id}?report_type=html")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()  # the report sends no charset
        self.assertIn('data-oe-lang="ru_RU"', html)
        self.assertIn("Описание", html)
        self.assertIn("Всего", html)
        self.assertNotIn("Description", html)
        self.assertRegex(html, r">\s*30,00\s*<")

    def test_same_page_in_english_for_an_english_subscriber(self):
        self.alice.lang = self.alice_user.lang = "en_US"
        html = self._page(self.alice_user)
        self.assertIn("Other amount", html)
        self.assertRegex(html, r">\s*90\.00\s*<")
