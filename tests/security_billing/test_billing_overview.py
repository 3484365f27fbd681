"""The billing overview and its analyses: the figures on a small known data
set, who may read them, and that the views and the app's root menu open."""

import json
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..common import SecurityBillingCase

REPORTS = (
    "security.billing.report.rmr",
    "security.billing.report.aging",
    "security.billing.report.subscriber",
    "security.billing.report.collection",
    "security.billing.report.payment",
    "security.billing.overview",
)
BILLING = "base.group_user,security_billing.group_security_billing_user"


class OverviewCase(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.today = fields.Date.context_today(cls.env.user)
        cls.this_month = cls.today.replace(day=1)
        cls.last_month = cls.this_month - relativedelta(months=1)
        cls.two_months_ago = cls.this_month - relativedelta(months=2)

    def _card(self, figure, company=None):
        company = company or self.company
        return (
            self.env["security.billing.overview"]
            .with_company(company)
            .search(
                [
                    ("company_id", "=", company.id),
                    ("figure", "=", figure),
                ]
            )
        )

    @classmethod
    def _contract(cls, name, price, date_start, **vals):
        return cls._create_mmr_contract(
            cls._create_subscriber(name), price=price, date_start=date_start, **vals
        )

    @classmethod
    def _invoice(cls, contract, invoice_date, due_date=None):
        invoice = cls._invoice_contract(contract, post=False)
        invoice.write(
            {"invoice_date": invoice_date, "invoice_date_due": due_date or invoice_date}
        )
        invoice.action_post()
        return invoice


@tagged("post_install", "-at_install")
class TestOverviewRmr(OverviewCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # running since two months ago
        cls.contract_a = cls._contract("RMR A", 30.0, cls.two_months_ago)
        # quarterly 90.00: 30.00 a month, since two months ago
        cls.contract_q = cls._contract(
            "RMR Q", 90.0, cls.two_months_ago, rule="quarterly"
        )
        # new last month
        cls.contract_b = cls._contract(
            "RMR B", 50.0, cls.last_month + timedelta(days=9)
        )
        # since two months ago, lost last month
        cls.contract_c = cls._contract("RMR C", 20.0, cls.two_months_ago)
        cls.contract_c.contract_line_ids.write(
            {"date_end": cls.last_month + timedelta(days=14)}
        )
        # new this month
        cls.contract_d = cls._contract("RMR D", 40.0, cls.this_month)

    def _by_month(self):
        return {
            month: (rmr, new, lost, net)
            for month, rmr, new, lost, net in self.env[
                "security.billing.report.rmr"
            ]._read_group(
                [("company_id", "=", self.company.id)],
                ["month:month"],
                ["rmr:sum", "new_rmr:sum", "lost_rmr:sum", "net_rmr:sum"],
            )
        }

    def test_rmr_now_and_new_lost_net_by_month(self):
        months = self._by_month()
        # RMR, new, lost, net
        self.assertEqual(months[self.two_months_ago], (80.0, 80.0, 0.0, 80.0))
        self.assertEqual(months[self.last_month], (110.0, 50.0, 20.0, 30.0))
        self.assertEqual(months[self.this_month], (150.0, 40.0, 0.0, 40.0))
        self.assertEqual(
            set(months), {self.two_months_ago, self.last_month, self.this_month}
        )

        card = self._card("rmr")
        self.assertEqual(
            (card.rmr, card.rmr_new, card.rmr_lost, card.rmr_net),
            (150.0, 40.0, 0.0, 40.0),
        )

    def test_rmr_now_is_the_rmr_of_the_xlsx_report(self):
        rows = self.env["report.security_billing.report_rmr_xlsx"]._get_rmr_rows(
            self.company, self.today, "product"
        )
        self.assertEqual(sum(row[2] for row in rows), 150.0)
        self.assertEqual(sum(row[3] for row in rows), self._card("rmr").rmr_new)
        self.assertEqual(self._card("rmr").rmr, 150.0)

    def test_lost_line_flags_and_drill_down_rows(self):
        rows = self.env["security.billing.report.rmr"].search(
            [("contract_id", "=", self.contract_c.id)]
        )
        self.assertEqual(
            [(r.month, r.is_running, r.is_new, r.is_lost) for r in rows],
            [
                (self.last_month, False, False, True),
                (self.two_months_ago, True, True, False),
            ],
        )
        self.assertEqual(rows.partner_id, self.contract_c.partner_id)


@tagged("post_install", "-at_install")
class TestOverviewAging(OverviewCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoices = {}
        for days, price in (
            (10, 11.0),
            (45, 22.0),
            (75, 33.0),
            (120, 44.0),
            (-5, 55.0),
        ):
            contract = cls._contract(
                f"Aging {days}", price, cls.today - timedelta(days=200)
            )
            due = cls.today - timedelta(days=days)
            cls.invoices[days] = cls._invoice(contract, min(due, cls.today), due)

    def test_buckets_of_invoices_10_45_75_120_days_past_due(self):
        rows = self.env["security.billing.report.aging"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(
            sorted(
                (r.move_id.id, r.days_past_due, r.bucket, r.amount_residual)
                for r in rows
            ),
            sorted(
                [
                    (self.invoices[10].id, 10, "1_30", 11.0),
                    (self.invoices[45].id, 45, "31_60", 22.0),
                    (self.invoices[75].id, 75, "61_90", 33.0),
                    (self.invoices[120].id, 120, "over_90", 44.0),
                    (self.invoices[-5].id, -5, "current", 55.0),
                ]
            ),
        )
        card = self._card("past_due")
        self.assertEqual(
            (
                card.past_due_1_30,
                card.past_due_31_60,
                card.past_due_61_90,
                card.past_due_over_90,
                card.past_due,
            ),
            (11.0, 22.0, 33.0, 44.0, 110.0),
        )

    def test_buckets_agree_with_the_xlsx_report(self):
        rows = self.env[
            "report.security_billing.report_mmr_aging_xlsx"
        ]._get_aging_rows(self.company, self.today)
        # ref, name, current, 1-30, 31-60, 61-90, over 90, total
        columns = list(zip(*[row[2:] for row in rows], strict=True))
        self.assertEqual(
            [sum(column) for column in columns], [55.0, 11.0, 22.0, 33.0, 44.0, 165.0]
        )

    def test_a_payment_moves_the_oldest_invoice_out_of_its_bucket(self):
        self._pay(self.invoices[120].partner_id, 44.0)
        self.assertEqual(self._card("past_due").past_due_over_90, 0.0)
        self.assertEqual(self._card("past_due").past_due, 66.0)


@tagged("post_install", "-at_install")
class TestOverviewSubscribers(OverviewCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start = cls.today - timedelta(days=40)
        cls.contracts = {}
        for name, state in (
            ("Active 1", "active"),
            ("Active 2", "active"),
            ("Warned", "warning"),
            ("Suspended", "suspended"),
            ("Promised", "suspended"),
            ("Terminated", "terminated"),
        ):
            contract = cls._contract(name, 30.0, start)
            contract.sudo().write({"security_state": state})
            cls.contracts[name] = contract
        promised = cls.contracts["Promised"]
        cls.env["security.promised.payment"].sudo().create(
            {
                "partner_id": promised.partner_id.id,
                "contract_id": promised.id,
                "company_id": cls.company.id,
                "amount": 30.0,
                "date": cls.today,
                "due_date": cls.today + timedelta(days=5),
                "state": "open",
                "channel": "backend",
            }
        )

    def test_counts_by_service_status(self):
        card = self._card("subscribers")
        self.assertEqual(
            (
                card.count_active,
                card.count_warning,
                card.count_suspended,
                card.count_promised,
                card.count_terminated,
            ),
            (2, 1, 1, 1, 1),
        )
        row = self.env["security.billing.report.subscriber"].search(
            [("contract_id", "=", self.contracts["Promised"].id)]
        )
        self.assertEqual((row.state, row.contract_state), ("promised", "suspended"))
        self.assertEqual(row.promise_until, self.today + timedelta(days=5))

    def test_an_expired_promise_no_longer_counts(self):
        self.env["security.promised.payment"].sudo().search(
            [("contract_id", "=", self.contracts["Promised"].id)]
        ).write({"due_date": self.today - timedelta(days=1)})
        card = self._card("subscribers")
        self.assertEqual((card.count_suspended, card.count_promised), (2, 0))

    def test_next_billing_run_date_and_contracts_due(self):
        cron = self.env.ref("security_billing.ir_cron_security_billing_run").sudo()
        next_day = self.today + timedelta(days=3)
        cron.write(
            {"nextcall": datetime.combine(next_day, time(12, 0)), "active": True}
        )
        for contract in self.contracts.values():
            contract.recurring_next_date = self.today + timedelta(days=10)
        self.contracts["Warned"].recurring_next_date = next_day
        self.contracts["Active 1"].recurring_next_date = self.today
        card = self._card("next_run")
        self.assertEqual(card.next_run_date, next_day)
        self.assertEqual(card.next_run_contracts, 2)

        cron.active = False
        card.invalidate_recordset()
        self.assertFalse(card.next_run_date)
        self.assertEqual(card.next_run_contracts, 0)


@tagged("post_install", "-at_install")
class TestOverviewCollectionAndPayments(OverviewCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start = cls.today - timedelta(days=100)
        categories = cls.env["security.payment.category"]
        cls.bank = categories._get_by_code("bank")
        cls.terminal = categories._get_by_code("terminal")
        paid = cls._contract("Paid", 100.0, start)
        partly = cls._contract("Partly", 50.0, start)
        late = cls._contract("Late", 200.0, start)
        cls._invoice(paid, cls.today)
        cls._invoice(partly, cls.today)
        cls._invoice(late, cls.last_month)
        cls._pay(paid.partner_id, 100.0, category=cls.bank)
        cls._pay(partly.partner_id, 20.0, category=cls.terminal)
        cls._pay(late.partner_id, 50.0, category=cls.bank)

    def test_collection_rate_this_month_and_last_month(self):
        card = self._card("collection")
        self.assertAlmostEqual(card.collection_rate, 80.0)  # 120 of 150
        self.assertAlmostEqual(card.collection_rate_last_month, 25.0)  # 50 of 200
        rows = self.env["security.billing.report.collection"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(sum(rows.mapped("amount_invoiced")), 350.0)
        self.assertEqual(sum(rows.mapped("amount_paid")), 170.0)
        self.assertEqual(sum(rows.mapped("amount_due")), 180.0)

    def test_payments_by_category(self):
        card = self._card("payments")
        self.assertEqual((card.payment_amount, card.payment_count), (170.0, 3))
        categories = json.loads(card.payment_categories)
        self.assertEqual(
            [(c["id"], c["count"]) for c in categories],
            [(self.bank.id, 2), (self.terminal.id, 1)],
        )
        groups = self.env["security.billing.report.payment"]._read_group(
            [("company_id", "=", self.company.id)], ["category_id"], ["amount:sum"]
        )
        self.assertEqual(dict(groups), {self.bank: 150.0, self.terminal: 20.0})

    def test_no_invoice_no_rate(self):
        other = self.setup_other_company(name="Empty Guards")["company"]
        card = self._card("collection", company=other)
        self.assertEqual(card.collection_rate, 0.0)


@tagged("post_install", "-at_install")
class TestOverviewQueryCount(OverviewCase):
    """The dashboard costs the same number of queries whatever the number of
    subscribers: every figure is one grouped read of its analysis."""

    def _add_subscribers(self, count, tag):
        for index in range(count):
            contract = self._contract(
                f"Count {tag} {index}", 10.0 + index, self.today - timedelta(days=90)
            )
            self._invoice(contract, self.today - timedelta(days=40))
            self._invoice(contract, self.today)
            if index % 2:
                self._pay(contract.partner_id, 5.0)

    def _overview_queries(self):
        """Queries of the app's opening: every card with every figure."""
        Overview = self.env["security.billing.overview"].with_company(self.company)
        fnames = [
            fname
            for fname, field in Overview._fields.items()
            if field.compute and not field.automatic
        ]
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        cards = Overview.search([("company_id", "=", self.company.id)])
        cards.read(fnames)
        return self.env.cr.sql_log_count - before

    def test_queries_do_not_grow_with_subscribers(self):
        self._add_subscribers(2, "a")
        self._overview_queries()  # warm the caches of the registry
        few = self._overview_queries()
        self._add_subscribers(12, "b")
        many = self._overview_queries()
        self.assertEqual(many, few)
        self.assertLessEqual(few, 40)

    def _group_queries(self, model, groupby):
        Report = self.env[model].with_company(self.company)
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        Report.read_group([], ["__count"], groupby)
        return self.env.cr.sql_log_count - before

    def test_analyses_group_in_as_many_queries_whatever_the_data(self):
        groupings = {
            "security.billing.report.rmr": ["month:month"],
            "security.billing.report.aging": ["bucket"],
            "security.billing.report.subscriber": ["state"],
            "security.billing.report.collection": ["invoice_date:month"],
            "security.billing.report.payment": ["category_id"],
        }
        self._add_subscribers(2, "c")
        few = {}
        for model, groupby in groupings.items():
            self._group_queries(model, groupby)  # warm the caches
            few[model] = self._group_queries(model, groupby)
        self._add_subscribers(10, "d")
        for model, groupby in groupings.items():
            with self.subTest(model=model):
                self.assertEqual(self._group_queries(model, groupby), few[model])
                self.assertLessEqual(few[model], 5)


class TestOverviewAccess(OverviewCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="B Guards")["company"]
        contract = cls._contract("Of A", 30.0, cls.today - timedelta(days=70))
        cls._invoice(contract, cls.today - timedelta(days=40))
        cls._pay(contract.partner_id, 10.0)
        users = {
            "billing_a": (BILLING, cls.company),
            "billing_b": (BILLING, cls.company_b),
            "portal": ("base.group_portal", cls.company),
            "employee": ("base.group_user,base.group_partner_manager", cls.company),
        }
        for name, (groups, company) in users.items():
            user = cls._create_company_user(
                f"sb_overview_{name}", groups, company=company
            )
            setattr(cls, f"{name}_user", user)

    def test_billing_users_read_their_company_only(self):
        for model in REPORTS:
            with self.subTest(model=model):
                mine = self.env[model].with_user(self.billing_a_user).search([])
                self.assertTrue(mine, "company A's user sees its rows")
                self.assertEqual(mine.company_id, self.company)
                theirs = self.env[model].with_user(self.billing_b_user).search([])
                self.assertNotIn(self.company, theirs.company_id)
                # even when asked for by id or company
                rows_of_a = (
                    self.env[model]
                    .sudo()
                    .search([("company_id", "=", self.company.id)])
                )
                with self.assertRaises(AccessError):
                    rows_of_a.with_user(self.billing_b_user).read(["company_id"])

    def test_figures_of_another_company_stay_hidden(self):
        cards = (
            self.env["security.billing.overview"]
            .with_user(self.billing_b_user)
            .search([])
        )
        self.assertEqual(cards.company_id, self.company_b)
        self.assertEqual(sum(cards.mapped("past_due")), 0.0)
        self.assertEqual(sum(cards.mapped("count_active")), 0)

    def test_portal_and_employee_cannot_read(self):
        for user in (self.portal_user, self.employee_user):
            for model in REPORTS:
                with self.subTest(user=user.login, model=model):
                    with self.assertRaises(AccessError):
                        self.env[model].with_user(user).search_read([], ["id"])

    def test_nobody_writes(self):
        row = self.env["security.billing.report.aging"].search(
            [("company_id", "=", self.company.id)], limit=1
        )
        for user in (self.billing_a_user, self.env.ref("base.user_admin")):
            with self.assertRaises(AccessError):
                row.with_user(user).write({"amount_residual": 0.0})
            with self.assertRaises(AccessError):
                row.with_user(user).unlink()


@tagged("post_install", "-at_install")
class TestOverviewViews(OverviewCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls._create_company_user(
            "sb_overview_views", BILLING, company=cls.company
        )

    def test_views_load(self):
        views = {
            "security.billing.overview": ["kanban", "search"],
            "security.billing.report.rmr": ["graph", "pivot", "list", "search"],
            "security.billing.report.aging": ["list", "pivot", "graph", "search"],
            "security.billing.report.subscriber": ["list", "graph", "pivot", "search"],
            "security.billing.report.collection": ["pivot", "graph", "list", "search"],
            "security.billing.report.payment": ["graph", "pivot", "list", "search"],
        }
        for model, modes in views.items():
            with self.subTest(model=model):
                result = (
                    self.env[model]
                    .with_user(self.user)
                    .get_views([(False, mode) for mode in modes])
                )
                self.assertEqual(set(result["views"]), set(modes))

    def test_the_app_opens_on_the_overview(self):
        root = self.env.ref("security_billing.menu_security_billing_root")
        overview = self.env.ref("security_billing.action_security_billing_overview")
        self.assertEqual(root.action, overview)
        menus = self.env["ir.ui.menu"].with_user(self.user).load_web_menus(False)
        self.assertEqual(
            (menus[root.id]["actionModel"], menus[root.id]["actionID"]),
            ("ir.actions.act_window", overview.id),
        )
        cards = (
            self.env[overview.res_model]
            .with_user(self.user)
            .web_search_read([], {"figure": {}, "company_id": {"fields": {}}})
        )
        self.assertEqual(
            [card["figure"] for card in cards["records"]],
            ["rmr", "past_due", "subscribers", "collection", "payments", "next_run"],
        )

    def test_the_actions_of_the_cards_are_readable(self):
        for xmlid in (
            "action_security_billing_report_rmr",
            "action_security_billing_report_aging",
            "action_security_billing_report_subscriber",
            "action_security_billing_report_collection",
            "action_security_billing_report_payment",
            "action_security_billing_overview_due",
            "action_security_billing_report_wizard",
        ):
            with self.subTest(action=xmlid):
                action = self.env.ref(f"security_billing.{xmlid}")
                data = (
                    self.env["ir.actions.actions"]
                    .with_user(self.user)
                    ._for_xml_id(f"security_billing.{xmlid}")
                )
                self.assertEqual(data["res_model"], action.res_model)
