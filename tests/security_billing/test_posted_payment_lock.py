"""Issue 14, exploit 6: with the company's *Allow Editing Posted Payments* off,
no path undoes a posted payment of a subscriber.

Each path is called over JSON-RPC (``/jsonrpc``, the same ``execute_kw`` as
XML-RPC, which cannot return the ``None`` of most of these methods) through
the test HTTP server, as a billing user (Security Billing / User) would: the
reversal wizard, resetting, cancelling, writing or deleting the payment's
entry or its items, unreconciling it (remove_move_reconcile, the invoice's
payment widget, deleting the partial reconciliation) and detaching the
payment from its entry. Each is refused with the lock's message and nothing
moves: balances, the paid invoice, the payment, its entry and its
reconciliation. When the company allows editing, Security Billing Managers
keep their rights.
"""

import json
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged

from ..common import RpcUsersMixin, SecurityBillingCase

LOCKED = (
    r"is posted: changing, cancelling, reversing or unreconciling posted "
    r"payments is not allowed in company .* \(Security Billing settings\)"
)
MANAGER_ONLY = r"is posted: only a Security Billing Manager may change"
COMPUTED = r"computed .* these fields cannot be written"


class RpcError(Exception):
    """The ``error.data`` of a JSON-RPC answer (``name``, ``message``)."""


@tagged("post_install", "-at_install")
class TestPostedPaymentLockRpc(RpcUsersMixin, SecurityBillingCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.today = fields.Date.context_today(cls.env.user)
        users = {
            "user": "security_billing.group_security_billing_user",
            "manager": "security_billing.group_security_billing_manager",
        }
        cls._create_rpc_users("sb_lock_", users, "{}")
        # an invoice of 30 paid by a payment of 50: 20 left as credit
        cls.paid_partner = cls._create_subscriber("Lock Paid")
        contract = cls._create_mmr_contract(cls.paid_partner)
        cls.invoice = cls._invoice_contract(contract)
        cls.paid_payment = cls._payment_of(cls.paid_partner, 50.0)
        # a payment of 40 with nothing to pay: all of it open credit
        cls.credit_partner = cls._create_subscriber("Lock Credit")
        cls.credit_payment = cls._payment_of(cls.credit_partner, 40.0)

    @classmethod
    def _payment_of(cls, partner, amount):
        result = cls._pay(partner, amount)
        return cls.env["account.payment"].browse(result["payment_id"])

    # ----------------------------------------------------------------- helpers
    def _rpc(self, user, model, method, *args, **kwargs):
        """``execute_kw`` of ``user`` over JSON-RPC; raise RpcError on an error."""
        self.env.flush_all()
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [
                    self.env.cr.dbname,
                    user.id,
                    self._password(user.login),
                    model,
                    method,
                    list(args),
                    kwargs,
                ],
            },
        }
        response = self.url_open(
            "/jsonrpc",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 200, response.text)
        answer = response.json()
        if "error" in answer:
            raise RpcError(answer["error"]["data"])
        return answer.get("result")  # no key for None

    def _receivable(self, payment):
        return payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )

    def _state(self):
        """What an undone payment would change."""
        partners = self.paid_partner | self.credit_partner
        payments = self.paid_payment | self.credit_payment
        return {
            "balances": partners.mapped("security_balance"),
            "balance_due": self.paid_partner.security_balance_due,
            "invoice": self.invoice.payment_state,
            "payments": [(p.state, p.move_id.id, p.amount) for p in payments],
            "entries": [
                (m.state, m.security_is_payment, m.origin_payment_id.id)
                for m in payments.move_id
            ],
            "lines": [
                (line.id, line.partner_id.id, line.account_id.id, line.balance)
                for line in payments.move_id.line_ids
            ],
            "partials": self._receivable(self.paid_payment).matched_debit_ids.ids,
            "reversals": self.env["account.move"].search_count(
                [("reversed_entry_id", "in", payments.move_id.ids)]
            ),
        }

    def _assert_refused(self, pattern, user, model, method, *args, **kwargs):
        before = self._state()
        self.assertEqual(before["invoice"], "paid")
        self.assertEqual(before["balances"], [20.0, 40.0])
        with self.assertRaises(RpcError) as caught:
            self._rpc(user, model, method, *args, **kwargs)
        error = caught.exception.args[0]
        self.assertEqual(error["name"], "odoo.exceptions.UserError", error["message"])
        self.assertRegex(error["message"], pattern)
        self.assertEqual(self._state(), before)

    def _reversal_wizard(self, user, move, date=None):
        return self._rpc(
            user,
            "account.move.reversal",
            "create",
            {
                "move_ids": [(6, 0, move.ids)],
                "journal_id": move.journal_id.id,
                "date": fields.Date.to_string(date or self.today),
            },
            context={"active_model": "account.move", "active_ids": move.ids},
        )

    # ------------------------------------------------------------ reversal
    def test_reversal_wizard_refused(self):
        for payment in (self.paid_payment, self.credit_payment):
            wizard_id = self._reversal_wizard(self.user, payment.move_id)
            self._assert_refused(
                LOCKED, self.user, "account.move.reversal", "refund_moves", [wizard_id]
            )

    def test_reversal_at_a_later_date_refused(self):
        # auto-posted later: no reconciliation now, the reversal waits
        wizard_id = self._reversal_wizard(
            self.user, self.credit_payment.move_id, self.today + timedelta(days=5)
        )
        self._assert_refused(
            LOCKED, self.user, "account.move.reversal", "refund_moves", [wizard_id]
        )

    def test_reverse_and_modify_refused(self):
        wizard_id = self._reversal_wizard(self.user, self.paid_payment.move_id)
        self._assert_refused(
            LOCKED, self.user, "account.move.reversal", "modify_moves", [wizard_id]
        )

    # ---------------------------------------------------------- the entry
    def test_reset_and_cancel_of_the_entry_refused(self):
        for method in ("button_draft", "button_cancel"):
            for payment in (self.paid_payment, self.credit_payment):
                self._assert_refused(
                    LOCKED, self.user, "account.move", method, payment.move_id.ids
                )

    def test_writing_the_entry_refused(self):
        move = self.credit_payment.move_id
        for vals in (
            {"state": "draft"},
            {"state": "cancel"},
            {"origin_payment_id": False},
        ):
            with self.subTest(vals=vals):
                self._assert_refused(
                    LOCKED, self.user, "account.move", "write", move.ids, vals
                )
        self._assert_refused(
            COMPUTED,
            self.user,
            "account.move",
            "write",
            move.ids,
            {"security_is_payment": False},
        )

    def test_deleting_the_entry_or_its_items_refused(self):
        # force_delete is a context key: anyone may send it over XML-RPC
        move = self.credit_payment.move_id
        context = {"force_delete": True}
        self._assert_refused(
            LOCKED, self.user, "account.move", "unlink", move.ids, context=context
        )
        self._assert_refused(
            LOCKED,
            self.user,
            "account.move.line",
            "unlink",
            move.line_ids.ids,
            context=context,
        )

    def test_moving_the_credit_to_another_partner_refused(self):
        line = self._receivable(self.credit_payment)
        self._assert_refused(
            LOCKED,
            self.user,
            "account.move.line",
            "write",
            line.ids,
            {"partner_id": self.paid_partner.id},
        )

    def test_adding_items_to_the_entry_refused(self):
        move = self.credit_payment.move_id
        line = self._receivable(self.credit_payment)
        other = move.line_ids - line
        vals = {"move_id": move.id, "partner_id": self.credit_partner.id}
        self._assert_refused(
            LOCKED,
            self.user,
            "account.move.line",
            "create",
            [
                dict(vals, account_id=line.account_id.id, debit=40.0, credit=0.0),
                dict(vals, account_id=other.account_id.id, debit=0.0, credit=40.0),
            ],
        )

    def test_writing_computed_balance_fields_refused(self):
        """Stored computed fields are writable over RPC: the ones the
        balances are summed from are refused to everyone (see
        test_balance_flags_of_an_invoice_refused_to_everyone)."""
        line = self._receivable(self.credit_payment)
        for vals in (
            {"security_in_balance": False},
            {"amount_residual": 0.0},
            {"reconciled": True},
        ):
            with self.subTest(vals=vals):
                self._assert_refused(
                    COMPUTED, self.user, "account.move.line", "write", line.ids, vals
                )
        self._assert_refused(
            COMPUTED,
            self.user,
            "account.move",
            "write",
            self.credit_payment.move_id.ids,
            {"security_in_balance": False},
        )

    def test_rewriting_what_a_partial_settles_refused(self):
        partial = self._receivable(self.paid_payment).matched_debit_ids
        self._assert_refused(
            LOCKED,
            self.user,
            "account.partial.reconcile",
            "write",
            partial.ids,
            {
                "amount": 1.0,
                "debit_amount_currency": 1.0,
                "credit_amount_currency": 1.0,
            },
        )

    # -------------------------------------------------------- unreconcile
    def test_unreconcile_refused(self):
        line = self._receivable(self.paid_payment)
        partial = line.matched_debit_ids
        self.assertEqual(len(partial), 1)
        self._assert_refused(
            LOCKED, self.user, "account.move.line", "remove_move_reconcile", line.ids
        )
        # the same through the invoice's lines
        invoice_line = partial.debit_move_id
        self._assert_refused(
            LOCKED,
            self.user,
            "account.move.line",
            "remove_move_reconcile",
            invoice_line.ids,
        )
        # the invoice's payment widget
        self._assert_refused(
            LOCKED,
            self.user,
            "account.move",
            "js_remove_outstanding_partial",
            self.invoice.ids,
            partial.id,
        )
        self._assert_refused(
            LOCKED, self.user, "account.partial.reconcile", "unlink", partial.ids
        )

    # ------------------------------------------------------------ the payment
    def test_detaching_the_payment_from_its_entry_refused(self):
        self._assert_refused(
            LOCKED,
            self.user,
            "account.payment",
            "write",
            self.credit_payment.ids,
            {"move_id": self.paid_payment.move_id.id},
        )

    # ------------------------------------------------------------ allowed
    def test_when_allowed_only_managers_may(self):
        self.company.security_allow_payment_edit = True
        line = self._receivable(self.paid_payment)
        wizard_id = self._reversal_wizard(self.user, self.paid_payment.move_id)
        self._assert_refused(
            MANAGER_ONLY,
            self.user,
            "account.move.reversal",
            "refund_moves",
            [wizard_id],
        )
        self._assert_refused(
            MANAGER_ONLY,
            self.user,
            "account.move.line",
            "remove_move_reconcile",
            line.ids,
        )
        self._assert_refused(
            MANAGER_ONLY,
            self.user,
            "account.move",
            "write",
            self.credit_payment.move_id.ids,
            {"state": "draft"},
        )
        # the manager unreconciles, then reverses the payment of 50
        self._rpc(self.manager, "account.move.line", "remove_move_reconcile", line.ids)
        self.assertEqual(self.invoice.payment_state, "not_paid")
        self.assertEqual(self.paid_partner.security_balance, 20.0)
        wizard_id = self._reversal_wizard(self.manager, self.paid_payment.move_id)
        self._rpc(self.manager, "account.move.reversal", "refund_moves", [wizard_id])
        self.assertEqual(self.paid_partner.security_balance, -30.0)
        self.assertEqual(self.paid_partner.security_balance_due, 30.0)
        # and resets the other payment's entry
        self._rpc(
            self.manager,
            "account.move",
            "button_draft",
            self.credit_payment.move_id.ids,
        )
        self.assertEqual(self.credit_payment.move_id.state, "draft")
        self.assertEqual(self.credit_partner.security_balance, 0.0)

    def test_other_entries_are_not_locked(self):
        """An entry of a customer who is not a subscriber is reversed and
        unreconciled by a billing user as in Odoo."""
        customer = self.env["res.partner"].create({"name": "Not a subscriber"})
        payment = self.env["account.payment"].create(
            {
                "partner_id": customer.id,
                "amount": 5.0,
                "payment_type": "inbound",
                "partner_type": "customer",
                "journal_id": self.bank_journal.id,
            }
        )
        payment.action_post()
        wizard_id = self._reversal_wizard(self.user, payment.move_id)
        self._rpc(self.user, "account.move.reversal", "refund_moves", [wizard_id])
        self.assertEqual(
            self.env["account.move"].search_count(
                [("reversed_entry_id", "=", payment.move_id.id)]
            ),
            1,
        )

    # ------------------------------------------------- what makes a balance
    def _open_invoice(self, name):
        partner = self._create_subscriber(name)
        invoice = self._invoice_contract(self._create_mmr_contract(partner))
        self.assertEqual(partner.security_balance, -30.0)
        return partner, invoice

    def test_balance_flags_of_an_invoice_refused_to_everyone(self):
        """The flags that make an invoice count in a balance and its items'
        residuals are computed: no user, manager included, writes them over
        RPC to make a debt disappear."""
        partner, invoice = self._open_invoice("Open Debt")
        receivable = invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        writes = [
            ("account.move", invoice.ids, {"security_is_mmr": False}),
            ("account.move", invoice.ids, {"security_in_balance": False}),
            ("account.move.line", receivable.ids, {"security_in_balance": False}),
            ("account.move.line", receivable.ids, {"amount_residual": 0.0}),
            (
                "account.move.line",
                receivable.ids,
                {"reconciled": True, "amount_residual": 0.0},
            ),
        ]
        for user in (self.user, self.manager):
            for model, ids, vals in writes:
                with self.subTest(user=user.login, model=model, vals=vals):
                    with self.assertRaises(RpcError) as caught:
                        self._rpc(user, model, "write", ids, vals)
                    self.assertRegex(caught.exception.args[0]["message"], COMPUTED)
                    self.assertEqual(partner.security_balance, -30.0)
                    self.assertEqual(partner.security_balance_due, 30.0)

    def test_an_entry_cannot_pose_as_a_subscriber_payment(self):
        """Marking any journal entry as a subscriber payment would credit the
        balance without a payment: refused at creation and later."""
        partner, invoice = self._open_invoice("Posing Debt")
        receivable = invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        entry_vals = {
            "move_type": "entry",
            "journal_id": self.company_data["default_journal_misc"].id,
            "security_is_payment": True,
            "line_ids": [
                Command.create(
                    {
                        "account_id": receivable.account_id.id,
                        "partner_id": partner.id,
                        "credit": 30.0,
                    }
                ),
                Command.create(
                    {
                        "account_id": self.company_data["default_account_revenue"].id,
                        "debit": 30.0,
                    }
                ),
            ],
        }
        with self.assertRaises(RpcError) as caught:
            self._rpc(self.manager, "account.move", "create", [entry_vals])
        self.assertRegex(caught.exception.args[0]["message"], r"cannot be written")
        entry_vals.pop("security_is_payment")
        [entry_id] = self._rpc(self.manager, "account.move", "create", [entry_vals])
        with self.assertRaises(RpcError):
            self._rpc(
                self.manager,
                "account.move",
                "write",
                [entry_id],
                {"security_is_payment": True},
            )
        self._rpc(self.manager, "account.move", "action_post", [entry_id])
        self.assertEqual(partner.security_balance, -30.0)
