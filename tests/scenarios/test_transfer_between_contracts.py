"""A transfer of credit between two contracts of one subscriber."""

from datetime import timedelta

from odoo.tests import tagged

from .common import ScenarioCase


@tagged("post_install", "-at_install")
class TestTransferBetweenContracts(ScenarioCase):
    """Erin has two MMR contracts, each with an Ajax hub: her home (30.00 a
    month) and her shop (45.00 a month), both billed 20 days ago.

    1. She pays 100.00 online on her home's card in the portal: the home
       bill is paid and 70.00 stays as credit of the home contract; the shop
       bill is still open.
    2. Today's dunning suspends the shop (20 days past due); the export
       shows the shop's hub blocked, the home's free with its credit.
    3. She calls; the accountant transfers 45.00 from the home contract to
       the shop contract (Transfer Funds): one balanced entry pays the shop
       bill and restores the shop in the same transaction.
    4. Balances: home 25.00 credit, shop 0.00, Erin 25.00 in all.
    5. The portal shows both cards green.
    6. The export shows both hubs unblocked, with their own balances.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.erin = cls._create_subscriber("Erin Owner", email="erin@example.com")
        cls.erin_user = cls._create_portal_user(cls.erin, "erin_sb")
        cls.start = cls.today - timedelta(days=20)
        cls.home = cls._create_billing_contract(
            cls.erin, date_start=cls.start.isoformat(), name="Erin Home"
        )
        cls.shop = cls._create_billing_contract(
            cls.erin,
            date_start=cls.start.isoformat(),
            name="Erin Shop",
            lines=[(cls.mmr_product, 45.0, 1.0)],
        )
        cls.home_site = cls._create_site(
            cls.erin, cls.home, device_id="0E0E0E01", name="Erin Home"
        )
        cls.shop_site = cls._create_site(
            cls.erin, cls.shop, device_id="0E0E0E02", name="Erin Shop"
        )

    def _balances(self):
        self.env.invalidate_all()
        return {
            "home": self.home.security_balance,
            "shop": self.shop.security_balance,
            "erin": self.erin.security_balance,
        }

    def test_transfer_between_contracts(self):
        run = self._run_billing_on(self.start)
        bills = {
            contract.name: run.invoice_ids.filtered(
                lambda m, c=contract: m.security_contract_id == c
            )
            for contract in (self.home, self.shop)
        }
        self.assertEqual(bills["Erin Home"].amount_total, 30.0)
        self.assertEqual(bills["Erin Shop"].amount_total, 45.0)

        # 1. 100.00 online on the home card
        self._login(self.erin_user)
        tx = self._pay_online(self.home, amount="100")
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.payment_id.security_contract_id, self.home)
        self.assertEqual(bills["Erin Home"].payment_state, "paid")
        self.assertEqual(bills["Erin Shop"].payment_state, "not_paid")
        self.assertEqual(self._balances(), {"home": 70.0, "shop": -45.0, "erin": 25.0})

        # 2. the shop is suspended; the export tells the hubs apart
        self._run_dunning(self.today)
        self.assertEqual(self._state(self.shop), "suspended")
        self.assertEqual(self._state(self.home), "active")
        rows = {
            site: self._export_row(site) for site in (self.home_site, self.shop_site)
        }
        self.assertEqual(
            (rows[self.home_site]["blocked"], rows[self.home_site]["balance"]),
            ("false", "70.00"),
        )
        self.assertEqual(
            (rows[self.shop_site]["blocked"], rows[self.shop_site]["balance"]),
            ("true", "-45.00"),
        )
        cards = self._portal_cards(self.erin_user)
        self.assertEqual(cards[self.shop.id]["status"], "past_due")
        self.assertEqual(cards[self.home.id]["status"], "paid")

        # 3. the accountant's transfer
        wizard = self._transfer(self.erin, self.home, self.shop, 45.0)
        move = wizard.move_id
        self.assertEqual(move.state, "posted")
        self.assertEqual(sum(move.line_ids.mapped("debit")), 45.0)
        self.assertEqual(sum(move.line_ids.mapped("credit")), 45.0)
        self.assertEqual(bills["Erin Shop"].payment_state, "paid")
        self.assertEqual(self._state(self.shop), "active", "restored at once")
        log = self._last_state_log(self.shop)
        self.assertEqual(
            (log.old_state, log.new_state, log.origin),
            ("suspended", "active", "payment"),
            "money in, not a cron",
        )

        # 4. balances
        self.assertEqual(self._balances(), {"home": 25.0, "shop": 0.0, "erin": 25.0})

        # 5. the portal
        cards = self._portal_cards(self.erin_user)
        for contract in (self.home, self.shop):
            card = cards[contract.id]
            self.assertEqual(
                (card["status"], card["balance_due"], card["past_due"]),
                ("paid", "0.00", "0.00"),
                contract.name,
            )
            self.assertIsNone(card["service"], contract.name)

        # 6. the export
        rows = {
            site: self._export_row(site) for site in (self.home_site, self.shop_site)
        }
        self.assertEqual(
            (rows[self.home_site]["blocked"], rows[self.home_site]["balance"]),
            ("false", "25.00"),
        )
        self.assertEqual(
            (rows[self.shop_site]["blocked"], rows[self.shop_site]["balance"]),
            ("false", "0.00"),
        )
