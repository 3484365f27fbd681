"""SQL queries of /my/billing do not grow with the customer's history."""

import logging

from odoo.tests import tagged

from .common import SecurityPortalCase

_logger = logging.getLogger(__name__)

MAX_QUERIES = 30


@tagged("post_install", "-at_install")
class TestPortalQueryCount(SecurityPortalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 3 contracts (one site each) with 24 monthly bills; 22 of them paid.
        cls.dave = cls._create_subscriber("Dave ThreeSites")
        cls.dave_user = cls._create_portal_user(cls.dave, "dave_sb")
        for index in range(3):
            price = 20.0 + 5 * index
            contract = cls._create_contract_since(
                cls.dave, 23, price=price, name=f"Dave Site {index + 1}"
            )
            cls._create_site(
                cls.dave, contract, device_id=f"00DD00{index:02d}", name=f"Site {index}"
            )
            for month in range(24):
                cls._invoice_contract(contract)
                if month < 22:
                    cls._pay(cls.dave, price, contract=contract)

    def _count_queries(self, url):
        self.env.flush_all()
        before = self.cr.sql_log_count
        self._get(url)
        return self.cr.sql_log_count - before

    def test_billing_page_query_count(self):
        self._login(self.dave_user)
        html = self._get("/my/billing").text  # warm the caches
        self.assertEqual(html.count("o_security_billing_card"), 3)
        self.assertEqual(html.count('class="o_security_unpaid_invoice"'), 6)
        measured = self._count_queries("/my/billing")
        _logger.info("/my/billing: %s SQL queries (3 contracts, 24 months)", measured)
        print(f"\n/my/billing SQL queries (3 contracts x 24 months): {measured}")
        with self.assertQueryCount(MAX_QUERIES):
            self._get("/my/billing")

    def test_history_pages_query_count_do_not_grow(self):
        self._login(self.dave_user)
        self._get("/my/billing/bills")
        self._get("/my/billing/payments")
        bills = self._count_queries("/my/billing/bills")
        payments = self._count_queries("/my/billing/payments")
        print(f"\nbills page: {bills} queries, payments page: {payments} queries")
        with self.assertQueryCount(MAX_QUERIES):
            self._get("/my/billing/bills/page/3")
        with self.assertQueryCount(MAX_QUERIES):
            self._get("/my/billing/payments/page/3")
