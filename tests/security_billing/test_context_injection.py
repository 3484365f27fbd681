"""Context keys sent by a remote caller decide no money, owner, contract or
state: every call goes over XML-RPC to the test HTTP server with an
attacker's ``context``, as an integrator or a billing user could send it."""

from odoo.tests import HttpCase, tagged

from ..common import RpcUsersMixin
from .dunning_common import DunningCase

API = "security.billing.api"


@tagged("post_install", "-at_install")
class TestContextInjection(RpcUsersMixin, DunningCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        users = {
            "api": ("security_billing.group_security_billing_api", cls.company),
            "manager": ("security_billing.group_security_billing_manager", cls.company),
        }
        cls._create_rpc_users("sbctx_", users)
        cls.ref = cls.partner.security_account_ref
        cls.other = cls._create_subscriber("Other Subscriber")
        cls.other_contract = cls._create_mmr_contract(cls.other, price=45.0)

    def _register(self, amount, external_id, context):
        result = self._rpc(
            self.api_user,
            API,
            "register_payment",
            self.ref,
            amount,
            external_id,
            context=context,
        )
        self.env.invalidate_all()
        return self.env["account.payment"].browse(result["payment_id"])

    # ------------------------------------------------------------- the payment
    def test_extra_vals_in_context_change_no_money(self):
        """The issue's exploit: 100,000 outbound instead of 10 inbound."""
        payment = self._register(
            10.0,
            "ctx-1",
            {
                "security_payment_extra_vals": {
                    "amount": 100000,
                    "payment_type": "outbound",
                }
            },
        )
        self.assertEqual(payment.amount, 10.0)
        self.assertEqual(payment.payment_type, "inbound")
        self.assertEqual(payment.partner_id, self.partner)
        request = self.env["security.payment.request"].search(
            [("external_id", "=", "api:ctx-1")]
        )
        self.assertEqual(request.amount, payment.amount)
        self.assertEqual(self.partner.security_balance, 10.0)

    def test_default_contracts_in_context_bind_to_no_other_contract(self):
        payment = self._register(
            10.0,
            "ctx-2",
            {
                "security_default_contract_ids": {
                    str(self.partner.id): self.other_contract.id,
                }
            },
        )
        self.assertEqual(payment.security_contract_id, self.contract)
        self.assertEqual(payment.move_id.security_contract_id, self.contract)

    def test_active_test_in_context_binds_to_no_archived_contract(self):
        """Archived contracts stay out of the default contract of a payment,
        also for a caller who sends ``active_test: False``."""
        old_contract = self._create_mmr_contract(self.partner, price=10.0)
        old_contract.active = False
        payment = self._register(10.0, "ctx-6", {"active_test": False})
        self.assertEqual(payment.security_contract_id, self.contract)
        self.assertEqual(payment.move_id.security_contract_id, self.contract)

    def _default_keys(self):
        """Odoo's ``default_<field>`` keys of what a payment is created
        without: its currency, its counterpart account."""
        other_currency = self.env["res.currency"].with_context(active_test=False)
        other_currency = other_currency.search(
            [("id", "!=", self.company.currency_id.id)], limit=1
        )
        other_currency.active = True
        self.env.flush_all()
        return {
            "default_currency_id": other_currency.id,
            "default_destination_account_id": self.company_data[
                "default_account_revenue"
            ].id,
            "default_amount": 100000,
            "default_state": "draft",
        }

    def _assert_plain_payment(self, payment, amount):
        self.assertEqual(payment.amount, amount)
        self.assertEqual(payment.currency_id, self.company.currency_id)
        self.assertEqual(
            payment.destination_account_id,
            self.partner.property_account_receivable_id,
        )
        self.assertEqual(payment.move_id.state, "posted")
        self.assertEqual(self.partner.security_balance, amount)

    def test_default_keys_in_context_change_no_api_payment(self):
        payment = self._register(10.0, "ctx-7", self._default_keys())
        self._assert_plain_payment(payment, 10.0)

    def test_default_keys_in_context_change_no_manual_payment(self):
        """The cash payment form, created and confirmed over XML-RPC by a
        billing user with Odoo's ``default_`` keys of the payment."""
        wizard_id = self._rpc(
            self.manager_user,
            "security.manual.payment",
            "create",
            {"partner_id": self.partner.id, "amount": 10.0},
        )
        self._rpc(
            self.manager_user,
            "security.manual.payment",
            "action_confirm",
            [wizard_id],
            context=self._default_keys(),
        )
        self.env.invalidate_all()
        payment = self.env["account.payment"].search(
            [("partner_id", "=", self.partner.id)]
        )
        self._assert_plain_payment(payment, 10.0)

    def test_remaining_internal_keys_change_no_payment(self):
        """The internal flags that remain (batch posting, commits, billing
        run, entry values, statement import) sent with a payment change
        nothing of it."""
        move_vals = {
            "security_is_payment": False,
            "security_contract_id": self.other_contract.id,
        }
        # keyed by the ids the payment may get (RPC keys are strings)
        last = self.env["account.payment"].search([], order="id desc", limit=1).id
        next_ids = [last + step for step in range(1, 4)]
        payment = self._register(
            10.0,
            "ctx-5",
            {
                "security_payment_move_vals": {str(i): move_vals for i in next_ids},
                "security_billing_batch_post": True,
                "security_billing_no_commit": True,
                "security_billing_run": True,
                "security_billing_run_id": 1,
                "security_bank_import": True,
            },
        )
        self.assertEqual(payment.amount, 10.0)
        self.assertEqual(payment.payment_type, "inbound")
        self.assertEqual(payment.security_contract_id, self.contract)
        self.assertTrue(payment.move_id.security_is_payment)
        self.assertEqual(payment.move_id.security_contract_id, self.contract)
        self.assertEqual(payment.move_id.state, "posted")
        self.assertEqual(self.partner.security_balance, 10.0)

    def test_state_origin_in_context_is_ignored(self):
        self._mmr_invoice(self.contract, 30.0, days_ago=20)
        self._run_dunning(0)
        self.assertEqual(self.contract.security_state, "suspended")
        self._register(30.0, "ctx-3", {"security_state_origin": "override"})
        self.assertEqual(self.contract.security_state, "active")
        log = self.contract.security_state_log_ids.sorted("id")[-1]
        self.assertEqual((log.old_state, log.new_state), ("suspended", "active"))
        self.assertEqual(log.origin, "payment")

    # ------------------------------------------------------- the stock OCA cron
    def _contract_invoices(self, contract):
        return self.env["account.move.line"].search(
            [("contract_line_id", "in", contract.contract_line_ids.ids)]
        )

    def test_stock_cron_never_bills_mmr_contracts(self):
        """OCA's public cron method, called remotely with the keys that used
        to switch its domain to MMR contracts, leaves them to the billing
        run."""
        self.assertLessEqual(self.contract.recurring_next_date, self.today)
        for context in (
            {"security_billing_include_mmr": True},
            {"security_billing_run": True},
        ):
            with self.subTest(context=context):
                self._rpc(
                    self.manager_user,
                    "contract.contract",
                    "cron_recurring_create_invoice",
                    context=context,
                )
                self.env.invalidate_all()
                self.assertFalse(self._contract_invoices(self.contract))
                self.assertEqual(self.contract.recurring_next_date, self.today)

    def test_run_billing_now_takes_nothing_from_the_context(self):
        """The billing run started over XML-RPC with Odoo's ``default_`` keys
        of an invoice and the run's own internal keys."""
        other = self.env["security.billing.run"].create({"company_id": self.company.id})
        context = dict(
            self._default_keys(),
            security_billing_run_id=other.id,
            security_billing_include_mmr=True,
            security_billing_no_commit=True,
            default_move_type="out_refund",
        )
        action = self._rpc(
            self.manager_user,
            "security.billing.run",
            "action_security_run_billing_now",
            context=context,
        )
        self.env.invalidate_all()
        run = self.env["security.billing.run"].browse(action["res_id"])
        self.assertEqual(run.state, "running")
        self._perform_run_jobs(run)
        self.assertEqual(run.state, "done")
        invoice = self._contract_invoices(self.contract).move_id
        self.assertEqual(invoice.security_billing_run_id, run)
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.currency_id, self.company.currency_id)
        self.assertEqual(invoice.amount_untaxed, 30.0)
