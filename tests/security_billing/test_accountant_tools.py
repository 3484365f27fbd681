"""Accountant tools: payment categories, manual payments, company billing
settings, recommended amount, transfer of funds."""

from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from ..common import SecurityBillingCase


@tagged("post_install", "-at_install")
class AccountantToolsCase(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.cash_journal = cls.company_data["default_journal_cash"]
        cls.categories = cls.env["security.payment.category"]
        cls.cash = cls.categories._get_by_code("cash")
        cls.today = fields.Date.context_today(cls.env.user)
        cls.accountant = cls._create_company_user("sb_accountant", company=cls.company)

    def _subscriber_with_invoices(self, name, count=2, price=30.0, months_ago=0):
        partner = self._create_subscriber(name)
        start = self.today - timedelta(days=31 * months_ago)
        contract = self._create_mmr_contract(partner, price=price, date_start=start)
        invoices = self.env["account.move"]
        for _i in range(count):
            invoices |= self._invoice_contract(contract)
        return partner, contract, invoices

    def _form_on(self, model, record):
        """The wizard's form opened on ``record`` (its action's context)."""
        return Form(
            self.env[model].with_context(active_model=record._name, active_id=record.id)
        )

    def _manual_payment(self, partner, amount, **vals):
        wizard = (
            self.env["security.manual.payment"]
            .with_context(active_model="res.partner", active_id=partner.id)
            .create(dict({"amount": amount}, **vals))
        )
        wizard.action_confirm()
        return self.env["account.payment"].search(
            [("partner_id", "=", partner.id)], order="id desc", limit=1
        )


@tagged("post_install", "-at_install")
class TestPaymentCategories(AccountantToolsCase):
    def test_payment_views_filter_and_group_by_category(self):
        views = self.env["account.payment"].get_views(
            [(False, "search"), (False, "list"), (False, "form")]
        )["views"]
        search = views["search"]["arch"]
        for code in ("cash", "bank", "terminal", "online", "autopay", "correction"):
            self.assertIn(f'name="security_category_{code}"', search)
        self.assertIn("'group_by': 'security_category_id'", search)
        self.assertIn('name="security_category_id"', views["list"]["arch"])
        self.assertIn('name="security_category_id"', views["form"]["arch"])

    def test_category_filter_and_subscriber_payments_action(self):
        partner = self._create_subscriber("Cat")
        self._pay(partner, 10.0, category=self.cash)
        self._pay(partner, 20.0, category=self.categories._get_by_code("terminal"))
        other = self.env["res.partner"].create({"name": "Not a subscriber"})
        self.env["account.payment"].create(
            {
                "partner_id": other.id,
                "amount": 5.0,
                "payment_type": "inbound",
                "partner_type": "customer",
                "journal_id": self.bank_journal.id,
            }
        ).action_post()
        Payment = self.env["account.payment"]
        cash = Payment.search(
            [
                ("security_category_id.code", "=", "cash"),
                ("partner_id", "=", partner.id),
            ]
        )
        self.assertEqual(cash.mapped("amount"), [10.0])
        action = self.env.ref("security_billing.action_security_subscriber_payments")
        found = Payment.search(safe_eval(action.domain))
        self.assertIn(partner, found.partner_id)
        self.assertNotIn(other, found.partner_id)


@tagged("post_install", "-at_install")
class TestManualPayment(AccountantToolsCase):
    def test_cash_payment_allocated_oldest_first_and_logged(self):
        partner, _contract, invoices = self._subscriber_with_invoices("Cash")
        payment = self._manual_payment(partner, 45.0, memo="desk 1")
        self.assertEqual(payment.security_category_id, self.cash)
        self.assertEqual(payment.memo, "desk 1")
        self.assertEqual(payment.journal_id, self.cash_journal)
        self.assertEqual(payment.date, self.today)
        self.assertIn(payment.state, ("in_process", "paid"))
        self.assertEqual(invoices[0].payment_state, "paid")
        self.assertEqual(invoices[1].amount_residual, 15.0)
        self.assertEqual(partner.security_balance, -15.0)
        message = partner.message_ids[:1]
        self.assertIn(payment.name, message.body)
        self.assertIn(invoices[0].name, message.body)
        self.assertIn(invoices[1].name, message.body)

    def test_contract_payment_pays_that_contract_only(self):
        partner, contract, invoices = self._subscriber_with_invoices("Two", 1)
        other = self._create_mmr_contract(partner, price=50.0)
        other_invoice = self._invoice_contract(other)
        self._manual_payment(partner, 50.0, contract_id=other.id)
        self.assertEqual(other_invoice.payment_state, "paid")
        self.assertEqual(invoices.amount_residual, 30.0)
        self.assertIn("50.00", other.message_ids[:1].body)
        self.assertEqual(contract.security_balance, -30.0)

    def test_date_is_today_unless_the_company_allows_choosing_it(self):
        partner = self._create_subscriber("Dated")
        yesterday = self.today - timedelta(days=1)
        self.assertFalse(self.company.security_allow_cash_date)
        with self.assertRaisesRegex(UserError, "does not allow choosing the date"):
            self._manual_payment(partner, 10.0, date=yesterday)
        self.assertFalse(
            self.env["account.payment"].search([("partner_id", "=", partner.id)])
        )
        form = Form(
            self.env["security.manual.payment"].with_context(
                active_model="res.partner", active_id=partner.id
            )
        )
        self.assertTrue(form._get_modifier("date", "readonly"))
        self.company.security_allow_cash_date = True
        payment = self._manual_payment(partner, 10.0, date=yesterday)
        self.assertEqual(payment.date, yesterday)

    def test_only_cash_or_correction(self):
        partner = self._create_subscriber("Bank")
        correction = self.categories._get_by_code("correction")
        payment = self._manual_payment(partner, 7.0, category_id=correction.id)
        self.assertEqual(payment.security_category_id, correction)
        with self.assertRaisesRegex(UserError, "cash payment or a correction"):
            self._manual_payment(
                partner, 7.0, category_id=self.categories._get_by_code("bank").id
            )

    def test_refuses_bad_amount_and_foreign_contract(self):
        partner = self._create_subscriber("Bad")
        stranger, contract, _inv = self._subscriber_with_invoices("Stranger", 1)
        with self.assertRaisesRegex(UserError, "positive"):
            self._manual_payment(partner, 0.0)
        with self.assertRaisesRegex(UserError, "does not belong to"):
            self._manual_payment(partner, 5.0, contract_id=contract.id)
        payments = self.env["account.payment"].search(
            [("partner_id", "in", (partner | stranger).ids)]
        )
        self.assertFalse(payments)

    def test_accountant_can_register_a_manual_payment(self):
        partner, _contract, invoices = self._subscriber_with_invoices("ByUser", 1)
        wizard = (
            self.env["security.manual.payment"]
            .with_user(self.accountant)
            .with_context(active_model="res.partner", active_id=partner.id)
            .create({"amount": 30.0})
        )
        wizard.action_confirm()
        self.assertEqual(invoices.payment_state, "paid")
        self.assertEqual(partner.message_ids[:1].author_id, self.accountant.partner_id)

    def _manual_wizard(self, partner, amount, **vals):
        return (
            self.env["security.manual.payment"]
            .with_context(active_model="res.partner", active_id=partner.id)
            .create(dict({"amount": amount}, **vals))
        )

    def _partner_payments(self, partner):
        return self.env["account.payment"].search([("partner_id", "=", partner.id)])

    def test_confirming_the_same_form_twice_books_once(self):
        partner, _contract, invoices = self._subscriber_with_invoices("Twice")
        wizard = self._manual_wizard(partner, 45.0)
        self.assertTrue(wizard.idempotency_key)
        wizard.action_confirm()
        messages = len(partner.message_ids)
        wizard.action_confirm()  # double-click / resubmitted request
        payment = self._partner_payments(partner)
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.amount, 45.0)
        self.assertEqual(
            payment.security_external_id, f"manual:{wizard.idempotency_key}"
        )
        # no memo given: none (the category and the key have their fields)
        self.assertFalse(payment.memo)
        self.assertEqual(invoices[0].payment_state, "paid")
        self.assertEqual(invoices[1].amount_residual, 15.0)
        self.assertEqual(partner.security_balance, -15.0)
        self.assertEqual(len(partner.message_ids), messages, "logged once")
        # the same form saved again by a resubmitted request: same key
        self._manual_wizard(
            partner, 45.0, idempotency_key=wizard.idempotency_key
        ).action_confirm()
        self.assertEqual(self._partner_payments(partner), payment)
        self.assertEqual(partner.security_balance, -15.0)

    def test_the_form_saves_the_key_it_was_opened_with(self):
        """The web client sends the key of the opened form with the record,
        so a form saved twice (resubmitted request) keeps one key."""
        partner = self._create_subscriber("Form key")
        form = self._form_on("security.manual.payment", partner)
        key = form.idempotency_key
        self.assertTrue(key)
        form.amount = 12.0
        wizard = form.save()
        self.assertEqual(wizard.idempotency_key, key)
        wizard.action_confirm()
        self.assertEqual(
            self._partner_payments(partner).security_external_id, f"manual:{key}"
        )

    def test_two_forms_with_the_same_amount_book_two_payments(self):
        partner, _contract, invoices = self._subscriber_with_invoices("Two forms")
        first = self._manual_wizard(partner, 30.0)
        second = self._manual_wizard(partner, 30.0)
        self.assertNotEqual(first.idempotency_key, second.idempotency_key)
        first.action_confirm()
        second.action_confirm()
        payments = self._partner_payments(partner)
        self.assertEqual(payments.mapped("amount"), [30.0, 30.0])
        self.assertEqual(set(invoices.mapped("payment_state")), {"paid"})
        self.assertEqual(partner.security_balance, 0.0)

    def test_failed_confirmation_can_be_corrected_and_confirmed(self):
        """A refused confirmation keeps no key: the fixed form still books."""
        partner = self._create_subscriber("Fix me")
        wizard = self._manual_wizard(
            partner, 10.0, category_id=self.categories._get_by_code("bank").id
        )
        with self.assertRaisesRegex(UserError, "cash payment or a correction"):
            wizard.action_confirm()
        wizard.category_id = self.cash
        wizard.action_confirm()
        self.assertEqual(self._partner_payments(partner).amount, 10.0)
        self.assertEqual(partner.security_balance, 10.0)


@tagged("post_install", "-at_install")
class TestPostedPaymentLock(AccountantToolsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner, cls.contract, cls.invoices = cls._make_paid_subscriber()

    @classmethod
    def _make_paid_subscriber(cls):
        partner = cls._create_subscriber("Locked")
        contract = cls._create_mmr_contract(partner)
        invoices = cls._invoice_contract(contract)
        result = cls._pay(partner, 30.0, category=cls.cash)
        cls.payment = cls.env["account.payment"].browse(result["payment_id"])
        cls.posted_state = cls.payment.state
        return partner, contract, invoices

    def test_nobody_may_change_posted_payments_by_default(self):
        self.assertFalse(self.company.security_allow_payment_edit)
        for action in (
            self.payment.action_draft,
            self.payment.action_cancel,
            lambda: self.payment.write({"amount": 10.0}),
            lambda: self.payment.write({"memo": "changed"}),
            self.payment.move_id.button_draft,
            self.payment.unlink,
        ):
            with self.assertRaisesRegex(UserError, "not allowed in company"):
                action()
        self.assertEqual(self.payment.state, self.posted_state)
        self.assertEqual(self.payment.amount, 30.0)
        self.assertEqual(self.invoices.payment_state, "paid")
        # harmless flags stay writable
        self.payment.mark_as_sent()
        self.assertTrue(self.payment.is_sent)

    def test_when_allowed_only_managers_may(self):
        self.company.security_allow_payment_edit = True
        payment = self.payment.with_user(self.accountant)
        with self.assertRaisesRegex(UserError, "only a Security Billing Manager"):
            payment.action_draft()
        with self.assertRaisesRegex(UserError, "only a Security Billing Manager"):
            payment.action_cancel()
        self.assertEqual(self.payment.state, self.posted_state)
        self.payment.action_draft()
        self.assertEqual(self.payment.state, "draft")
        self.assertEqual(self.invoices.payment_state, "not_paid")
        self.assertEqual(self.partner.security_balance, -30.0)
        self.payment.action_cancel()
        self.assertEqual(self.payment.state, "canceled")

    def test_other_payments_are_not_locked(self):
        other = self.env["res.partner"].create({"name": "Vendor-ish"})
        payment = self.env["account.payment"].create(
            {
                "partner_id": other.id,
                "amount": 5.0,
                "payment_type": "inbound",
                "partner_type": "customer",
                "journal_id": self.bank_journal.id,
            }
        )
        payment.action_post()
        payment.action_draft()
        self.assertEqual(payment.state, "draft")


@tagged("post_install", "-at_install")
class TestBillingSettings(AccountantToolsCase):
    def test_settings_write_the_company(self):
        tax = self.company_data["default_tax_sale"]
        settings = self.env["res.config.settings"].create(
            {
                "security_allow_payment_edit": True,
                "security_allow_cash_date": True,
                "security_mmr_tax_id": tax.id,
                "security_recommended_method": "months",
                "security_recommended_months": 3,
            }
        )
        settings.execute()
        self.assertTrue(self.company.security_allow_payment_edit)
        self.assertTrue(self.company.security_allow_cash_date)
        self.assertEqual(self.company.security_mmr_tax_id, tax)
        self.assertEqual(self.company.security_recommended_method, "months")
        self.assertEqual(self.company.security_recommended_months, 3)

    def test_defaults_are_off(self):
        company = self.env["res.company"].create({"name": "Fresh Co"})
        self.assertFalse(company.security_allow_payment_edit)
        self.assertFalse(company.security_allow_cash_date)
        self.assertEqual(company.security_recommended_method, "balance_due")
        self.assertEqual(company.security_recommended_months, 1)

    def test_months_must_be_positive(self):
        with self.assertRaisesRegex(ValidationError, "at least 1"):
            self.company.security_recommended_months = 0

    def test_default_tax_of_new_mmr_products(self):
        tax = self.company_data["default_tax_sale"].copy({"name": "MMR 5%"})
        tax.amount = 5.0
        self.company.security_mmr_tax_id = tax
        mmr = self.env["product.product"].create(
            {"name": "Monitoring plus", "security_is_mmr": True}
        )
        self.assertEqual(mmr.taxes_id, tax)
        explicit = self._create_mmr_product("No tax", 10.0)
        self.assertFalse(explicit.taxes_id)
        other = self.env["product.product"].create({"name": "Hardware"})
        self.assertNotIn(tax, other.taxes_id)
        draft = self.env["product.template"].new(
            {"name": "From the form", "security_is_mmr": True}
        )
        draft._onchange_security_is_mmr()
        self.assertEqual(draft.taxes_id._origin, tax)


@tagged("post_install", "-at_install")
class TestRecommendedAmount(AccountantToolsCase):
    def _set_method(self, method, months=1):
        self.company.write(
            {
                "security_recommended_method": method,
                "security_recommended_months": months,
            }
        )

    def test_methods_with_debt(self):
        partner, contract, _invoices = self._subscriber_with_invoices("Debt", 1)
        self._set_method("balance_due")
        self.assertEqual(contract._security_recommended_amount(), {contract.id: 30.0})
        self._set_method("balance_due_next")
        self.assertEqual(contract._security_recommended_amount()[contract.id], 60.0)
        self._set_method("months", 3)
        self.assertEqual(contract._security_recommended_amount()[contract.id], 120.0)
        contract.invalidate_recordset(["security_recommended_amount"])
        partner.invalidate_recordset(["security_recommended_amount"])
        self.assertEqual(contract.security_recommended_amount, 120.0)
        self.assertEqual(partner.security_recommended_amount, 120.0)

    def test_credit_is_deducted(self):
        partner, contract, _invoices = self._subscriber_with_invoices("Credit", 1)
        self._pay(partner, 100.0)  # 30 paid, 70 credit
        self._set_method("balance_due")
        self.assertEqual(contract._security_recommended_amount()[contract.id], 0.0)
        self._set_method("balance_due_next")
        self.assertEqual(contract._security_recommended_amount()[contract.id], 0.0)
        self._set_method("months", 3)
        self.assertEqual(contract._security_recommended_amount()[contract.id], 20.0)
        self.assertEqual(partner._security_recommended_amount(), {partner.id: 20.0})

    def test_fee_includes_taxes_and_many_contracts_at_once(self):
        tax = self.company_data["default_tax_sale"].copy({"name": "VAT 10"})
        tax.write({"amount": 10.0, "amount_type": "percent", "price_include": False})
        product = self._create_mmr_product(
            "Taxed", 30.0, taxes_id=[Command.set(tax.ids)]
        )
        taxed = self._create_mmr_contract(
            self._create_subscriber("Taxed"), price=30.0, product=product
        )
        plain = self._create_mmr_contract(self._create_subscriber("Plain"), price=20.0)
        self._set_method("balance_due_next")
        amounts = (taxed | plain)._security_recommended_amount()
        self.assertEqual(amounts, {taxed.id: 33.0, plain.id: 20.0})

    def test_unbound_debt_counts_for_the_subscriber(self):
        partner, contract, _invoices = self._subscriber_with_invoices("Two c", 1)
        second = self._create_mmr_contract(partner, price=10.0)
        self._invoice_contract(second)
        self._set_method("balance_due")
        self.assertEqual(partner._security_recommended_amount(), {partner.id: 40.0})
        # credit without a contract (two contracts: the payment is not bound)
        self._pay(partner, 5.0)
        self.assertEqual(partner._security_recommended_amount(), {partner.id: 35.0})


@tagged("post_install", "-at_install")
class TestTransferFunds(AccountantToolsCase):
    def _transfer(self, source, target, amount, **vals):
        wizard = self.env["security.transfer.funds"].create(
            dict(
                {
                    "source_partner_id": source.id,
                    "target_partner_id": target.id,
                    "amount": amount,
                },
                **vals,
            )
        )
        wizard.action_transfer()
        return wizard

    def test_transfer_moves_credit_and_pays_target_oldest_first(self):
        source = self._create_subscriber("Old home")
        source_contract = self._create_mmr_contract(source)
        self._pay(source, 100.0)
        target, target_contract, invoices = self._subscriber_with_invoices("New home")
        self.assertEqual(source.security_balance, 100.0)
        self.assertEqual(target.security_balance, -60.0)

        wizard = self._transfer(
            source,
            target,
            50.0,
            source_contract_id=source_contract.id,
            target_contract_id=target_contract.id,
        )
        move = wizard.move_id
        self.assertEqual(move.state, "posted")
        self.assertTrue(move.security_is_payment)
        self.assertEqual(len(move.line_ids), 2)
        self.assertEqual(sum(move.line_ids.mapped("debit")), 50.0)
        self.assertEqual(sum(move.line_ids.mapped("credit")), 50.0)
        debit = move.line_ids.filtered("debit")
        self.assertEqual(debit.partner_id, source)
        self.assertTrue(debit.reconciled)

        source.invalidate_recordset()
        target.invalidate_recordset()
        (source_contract | target_contract).invalidate_recordset()
        self.assertEqual(source.security_balance, 50.0)
        self.assertEqual(source_contract.security_balance, 50.0)
        self.assertEqual(target.security_balance, -10.0)
        self.assertEqual(target_contract.security_balance, -10.0)
        self.assertEqual(invoices[0].payment_state, "paid")
        self.assertEqual(invoices[1].amount_residual, 10.0)
        for record in (source, target, source_contract, target_contract):
            self.assertIn(move.name, record.message_ids[:1].body)
        self.assertIn(invoices[0].name, target.message_ids[:1].body)

    def test_transfer_between_contracts_of_one_subscriber(self):
        partner = self._create_subscriber("Mover")
        first = self._create_mmr_contract(partner)
        self._pay(partner, 40.0, contract=first)
        second = self._create_mmr_contract(partner, price=25.0)
        invoice = self._invoice_contract(second)
        self._transfer(
            partner,
            partner,
            25.0,
            source_contract_id=first.id,
            target_contract_id=second.id,
        )
        self.assertEqual(invoice.payment_state, "paid")
        (first | second).invalidate_recordset()
        self.assertEqual(first.security_balance, 15.0)
        self.assertEqual(second.security_balance, 0.0)

    def test_refuses_more_than_the_available_credit(self):
        source = self._create_subscriber("Poor")
        self._pay(source, 20.0)
        target = self._create_subscriber("Rich")
        moves_before = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, "has only .*20.00"):
            self._transfer(source, target, 20.01)
        with self.assertRaisesRegex(UserError, "positive"):
            self._transfer(source, target, 0.0)
        with self.assertRaisesRegex(UserError, "same"):
            self._transfer(source, source, 5.0)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(source.security_balance, 20.0)

    def test_available_credit_shown(self):
        source = self._create_subscriber("Shown")
        self._pay(source, 12.5)
        wizard = self.env["security.transfer.funds"].new(
            {"source_partner_id": source.id}
        )
        self.assertEqual(wizard.available_amount, 12.5)

    def test_confirming_the_same_transfer_twice_moves_once(self):
        source = self._create_subscriber("Twice from")
        self._pay(source, 100.0)
        target, _contract, invoices = self._subscriber_with_invoices("Twice to")
        wizard = self._transfer(source, target, 40.0)
        move = wizard.move_id
        wizard.action_transfer()  # double-click / resubmitted request
        self.assertEqual(wizard.move_id, move)
        transfers = self.env["account.move"].search(
            [
                ("journal_id", "=", wizard.journal_id.id),
                ("line_ids.partner_id", "=", target.id),
            ]
        )
        self.assertEqual(transfers, move)
        source.invalidate_recordset()
        target.invalidate_recordset()
        self.assertEqual(source.security_balance, 60.0)
        self.assertEqual(target.security_balance, -20.0)
        self.assertEqual(invoices[0].payment_state, "paid")
        self.assertEqual(invoices[1].amount_residual, 20.0)

    def _transfers_to(self, target):
        return self.env["account.move"].search(
            [
                ("move_type", "=", "entry"),
                ("security_is_payment", "=", True),
                ("line_ids.partner_id", "=", target.id),
            ]
        )

    def test_a_resubmitted_form_transfers_once(self):
        """The same form saved again by a resubmitted request is a second
        wizard record with the same key: it books nothing more."""
        source = self._create_subscriber("Resubmitted from")
        self._pay(source, 100.0)
        target, _contract, invoices = self._subscriber_with_invoices("Resubmitted to")
        first = self._transfer(source, target, 40.0)
        self.assertTrue(first.idempotency_key)
        move = first.move_id
        messages = len(target.message_ids)
        second = self._transfer(
            source, target, 40.0, idempotency_key=first.idempotency_key
        )
        self.assertNotEqual(second, first)
        self.assertEqual(second.move_id, move)
        self.assertEqual(self._transfers_to(target), move)
        self.assertEqual(len(target.message_ids), messages, "logged once")
        request = self.env["security.payment.request"].search(
            [("external_id", "=", f"transfer:{first.idempotency_key}")]
        )
        self.assertEqual(request._get_result(), {"move_id": move.id})
        self.assertEqual(request.partner_id, source)
        source.invalidate_recordset()
        target.invalidate_recordset()
        self.assertEqual(source.security_balance, 60.0)
        self.assertEqual(target.security_balance, -20.0)
        self.assertEqual(invoices[1].amount_residual, 20.0)

    def test_two_transfer_forms_book_two_transfers(self):
        source = self._create_subscriber("Two forms from")
        self._pay(source, 100.0)
        target, _contract, invoices = self._subscriber_with_invoices("Two forms to")
        first = self._transfer(source, target, 30.0)
        second = self._transfer(source, target, 30.0)
        self.assertNotEqual(first.idempotency_key, second.idempotency_key)
        self.assertEqual(self._transfers_to(target), first.move_id | second.move_id)
        self.assertEqual(len(self._transfers_to(target)), 2)
        source.invalidate_recordset()
        target.invalidate_recordset()
        self.assertEqual(source.security_balance, 40.0)
        self.assertEqual(target.security_balance, 0.0)
        self.assertEqual(invoices.mapped("payment_state"), ["paid", "paid"])

    def test_a_refused_transfer_leaves_its_key_free(self):
        """A transfer refused by its checks is rolled back with its claim
        (as the request of the form is): the same form, corrected, books."""
        source = self._create_subscriber("Refused from")
        self._pay(source, 20.0)
        target = self._create_subscriber("Refused to")
        wizard = self.env["security.transfer.funds"].create(
            {
                "source_partner_id": source.id,
                "target_partner_id": target.id,
                "amount": 25.0,
            }
        )
        with self.assertRaises(UserError) as refused:  # in a savepoint
            wizard.action_transfer()
        self.assertIn("has only", str(refused.exception))
        wizard.amount = 20.0
        wizard.action_transfer()
        self.assertTrue(wizard.move_id)
        self.assertEqual(self._transfers_to(target), wizard.move_id)

    def test_changing_a_subscriber_drops_its_foreign_contract(self):
        first, first_contract, _inv = self._subscriber_with_invoices("First", 1)
        second, second_contract, _inv = self._subscriber_with_invoices("Second", 1)
        form = self._form_on("security.transfer.funds", first_contract)
        self.assertEqual(form.source_partner_id, first)
        self.assertEqual(form.source_contract_id, first_contract)
        form.target_partner_id = second
        form.target_contract_id = second_contract
        form.source_partner_id = second
        self.assertFalse(form.source_contract_id)
        self.assertEqual(form.target_contract_id, second_contract)
        form.target_partner_id = first
        self.assertFalse(form.target_contract_id)
        manual = self._form_on("security.manual.payment", second_contract)
        self.assertEqual(manual.partner_id, second)
        self.assertEqual(manual.contract_id, second_contract)
        manual.partner_id = first
        self.assertFalse(manual.contract_id)
