"""Two pays of the same subscriber at once, in real, concurrent transactions."""

import threading
from uuid import uuid4

from odoo import fields
from odoo.service.model import retrying
from odoo.tests import tagged

from ..race import CommittedRaceCase

PASSWORD = "terminal-secret-0123456789"


@tagged("post_install", "-at_install")
class TestTerminalPaysOfOneAccount(CommittedRaceCase):
    """Two terminal pays (two txn_ids) of one subscriber, each in its own
    committed transaction retried on serialization failures as Odoo's
    request layer does (``odoo.service.model.retrying``).

    The second pay waits for the first one's payment lock, then starts a
    new transaction that sees the first payment: it allocates what is still
    open and is neither refused nor replayed. Without the lock held across
    a new transaction, it would wait on the first one's receivable lines and
    fail to serialize when the first commits (replayed after up to 2 s).
    """

    def _create_fixture(self):
        tag = uuid4().hex[:10]
        self.code = f"race-{tag}"
        with self.registry.cursor() as cr:
            env = self._env(cr)
            company = env.ref("base.main_company")
            env = env(context=dict(env.context, allowed_company_ids=[company.id]))
            journal = env["account.journal"].search(
                [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
            )
            provider = env["security.terminal.provider"].create(
                {
                    "name": f"Race {tag}",
                    "code": self.code,
                    "company_id": company.id,
                    "journal_id": journal.id,
                    "allowed_networks": "127.0.0.1",
                    "login": "race",
                    "password": PASSWORD,
                    "min_amount": 1.0,
                }
            )
            partner = env["res.partner"].create(
                {
                    "name": f"Race pays {tag}",
                    "security_is_subscriber": True,
                    "company_id": company.id,
                }
            )
            product = self._create_mmr_product(env, tag)
            contract = env["contract.contract"].create(
                self._mmr_contract_vals(f"Race {tag}", partner, product)
            )
            invoices = contract._recurring_create_invoice()
            invoices |= contract._recurring_create_invoice()
            invoices.action_post()
            self.provider_id = provider.id
            self.partner_id = partner.id
            self.product_id = product.id
            self.contract_id = contract.id
            self.invoice_ids = invoices.ids
            self.ref = partner.security_account_ref

    def _delete_fixture(self):
        with self.registry.cursor() as cr:
            env = self._env(cr, force_delete=True)
            env["security.terminal.payment"].search(
                [("provider_id", "=", self.provider_id)]
            ).unlink()
            env["security.payment.request"].search(
                [("external_id", "=like", f"osmp:{self.code}:%")]
            ).unlink()
            payments = env["account.payment"].search(
                [("partner_id", "=", self.partner_id)]
            )
            payments.action_draft()
            payments.unlink()
            moves = env["account.move"].search(
                [("partner_id", "=", self.partner_id)], order="id desc"
            )
            moves.filtered(lambda m: m.state == "posted").button_draft()
            moves.unlink()
            env["contract.contract"].browse(self.contract_id).unlink()
            env["product.product"].browse(self.product_id).unlink()
            env["security.terminal.provider"].browse(self.provider_id).unlink()
            env["res.partner"].browse(self.partner_id).unlink()

    def _pay(self, name, txn_id, out, held=None, release=None):
        """One pay request in its own transaction, committed by ``retrying``
        (held after the pay, before the commit, when ``release`` is given)."""
        try:
            with self.registry.cursor() as cr:
                out[name, "pid"] = cr._cnx.get_backend_pid()
                env = self._env(cr)

                def pay():
                    out[name, "tries"] = out.get((name, "tries"), 0) + 1
                    provider = env["security.terminal.provider"]._osmp_get_provider(
                        self.code
                    )
                    params = {
                        "command": "pay",
                        "txn_id": txn_id,
                        "account": self.ref,
                        "sum": "30.00",
                        "txn_date": fields.Datetime.now().strftime("%Y%m%d%H%M%S"),
                    }
                    # as the endpoint does
                    provider._osmp_wait_for_account(params)
                    answer = provider._osmp_pay(params)
                    if release:
                        held.set()  # paid and allocated, not committed
                        release.wait(120)
                    return answer

                out[name] = retrying(pay, env)
        except Exception as exc:  # reported by the test thread
            out[name] = exc
        finally:
            if held:
                held.set()

    def test_second_pay_waits_then_pays_without_replay(self):
        out = {}
        held, release = threading.Event(), threading.Event()
        first = threading.Thread(
            target=self._pay, args=("first", "1001", out, held, release)
        )
        waited, second_done_while_first_held = self._race_against_held(
            first,
            held,
            release,
            lambda: threading.Thread(target=self._pay, args=("second", "1002", out)),
            out,
            "second",
        )
        self.assertIsInstance(out["first"], dict, out)
        self.assertIsInstance(out["second"], dict, out)
        self.assertTrue(waited, "the second pay waited on the first one's lock")
        self.assertFalse(second_done_while_first_held)
        self.assertEqual(out["first"]["result"], 0, out["first"])
        self.assertEqual(out["second"]["result"], 0, out["second"])
        # neither failed to serialize nor was replayed (each pay ran once)
        self.assertEqual((out["first", "tries"], out["second", "tries"]), (1, 1))
        with self.registry.cursor() as cr:
            env = self._env(cr)
            records = env["security.terminal.payment"].search(
                [("provider_id", "=", self.provider_id)], order="txn_id"
            )
            self.assertEqual(records.mapped("txn_id"), ["1001", "1002"])
            self.assertEqual(
                [str(r.payment_id.id) for r in records],
                [out["first"]["prv_txn"], out["second"]["prv_txn"]],
            )
            payments = env["account.payment"].search(
                [("partner_id", "=", self.partner_id)]
            )
            self.assertEqual(payments.mapped("amount"), [30.0, 30.0])
            invoices = env["account.move"].browse(self.invoice_ids)
            # each pay paid one invoice, oldest first
            self.assertEqual(invoices.mapped("payment_state"), ["paid", "paid"])
            partner = env["res.partner"].browse(self.partner_id)
            self.assertEqual(partner.security_balance, 0.0)
            self.assertEqual(partner.security_balance_due, 0.0)

    def test_payment_lock_released_after_the_request(self):
        """The session lock does not stay on the pooled connection."""
        out = {}
        self._pay("first", "2001", out)
        self.assertEqual(out["first"]["result"], 0, out["first"])
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = %s AND objid = %s",
                [0x5342504C, self.partner_id],
            )
            self.assertEqual(cr.fetchone()[0], 0)
