"""Base class of the race tests: work in real, committed transactions.

The test cursor serializes everything, so a race test commits its fixture
through registry cursors, runs each competitor in its own cursor and thread,
and deletes what it committed in a cleanup (``_delete_fixture``).
"""

import threading
import time
from unittest.mock import patch
from uuid import uuid4

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.tests import TransactionCase

from odoo.addons.security_billing.models.account_move import AccountMove
from odoo.addons.security_billing.models.security_billing_run import (
    SecurityBillingRun,
)


class CommittedRaceCase(TransactionCase):
    def setUp(self):
        super().setUp()
        self.assertFalse(self.registry.in_test_mode(), "cursors must be real")
        self.today = fields.Date.today()
        self._create_fixture()
        self.addCleanup(self._delete_fixture)

    def _create_fixture(self):
        raise NotImplementedError

    def _delete_fixture(self):
        raise NotImplementedError

    def _env(self, cr, **context):
        return api.Environment(cr, SUPERUSER_ID, dict(context, tracking_disable=True))

    def _backend_waits_on_lock(self, pid):
        """Whether the PostgreSQL backend ``pid`` waits on a lock now."""
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
            )
            row = cr.fetchone()
        return bool(row and row[0] == "Lock")

    def _wait_done_or_locked(self, thread, out, name):
        """Poll (no timing) until ``thread`` ends or its backend, whose pid
        it reports as ``out[name, "pid"]``, waits on a lock. Returns
        ``(waited on a lock, thread done)``."""
        waited = False
        while thread.is_alive() and not waited:
            pid = out.get((name, "pid"))
            waited = bool(pid) and self._backend_waits_on_lock(pid)
            time.sleep(0.05)
        return waited, not thread.is_alive()

    def _race_against_held(self, first, held, release, make_second, out, name):
        """Start the thread ``first``, which sets ``held`` when it holds its
        locks and then waits for ``release``; once it holds, start the thread
        that ``make_second()`` returns and poll it (``_wait_done_or_locked``
        on ``name``); then release the first and join both. Returns
        ``(second waited on a lock, second done while the first held)``."""
        first.start()
        try:
            self.assertTrue(held.wait(120), "the first transaction never got there")
            second = make_second()
            second.start()
            result = self._wait_done_or_locked(second, out, name)
        finally:
            release.set()
            first.join(120)
        second.join(120)
        return result

    def _create_due_contracts(self, env, label, count):
        """``count`` subscribers of the main company, each with a monthly MMR
        contract due today in its sales journal, plus one more subscriber
        without a contract; committed by the caller's cursor.

        :return: ``(company, journal, product, partners, contracts)``
        """
        tag = uuid4().hex[:8]
        company = env.ref("base.main_company")
        journal = env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        product = self._create_mmr_product(env, tag)
        partners = env["res.partner"].create(
            [
                {
                    "name": f"{label} {tag} {i}",
                    "security_is_subscriber": True,
                    "company_id": company.id,
                }
                for i in range(count + 1)
            ]
        )
        contracts = env["contract.contract"].create(
            [
                self._mmr_contract_vals(
                    f"MMR {label} {tag} {i}", partner, product, journal_id=journal.id
                )
                for i, partner in enumerate(partners[:count])
            ]
        )
        return company, journal, product, partners, contracts

    def _invoice_vals(self, partner, journal, name):
        """A customer invoice of today of 100 without taxes."""
        return {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "company_id": journal.company_id.id,
            "journal_id": journal.id,
            "invoice_date": self.today,
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": name,
                        "quantity": 1,
                        "price_unit": 100.0,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        }

    def _billing_patches(self, worker, entered=None, release=None, out=None):
        """Patches of a billing race: the run bills this test's contracts
        only (``self.contract_ids``); in the thread named ``worker``, the
        batch stops after Odoo numbered its first invoice, uncommitted
        (``entered`` set, then it waits for ``release``), and
        ``out["first"]`` keeps the name it is numbered after."""
        domain = SecurityBillingRun._contracts_domain
        number_after = AccountMove._security_number_after
        contract_ids = self.contract_ids

        def only_ours(run):
            return domain(run) + [("id", "in", contract_ids)]

        def held_number_after(moves, previous):
            if getattr(threading.current_thread(), "worker", None) == worker:
                if out is not None:
                    out["first"] = previous.name
                if entered:
                    entered.set()  # first invoice numbered, uncommitted
                    release.wait(120)
            return number_after(moves, previous)

        return (
            patch.object(
                SecurityBillingRun,
                "_contracts_domain",
                autospec=True,
                side_effect=only_ours,
            ),
            patch.object(
                AccountMove,
                "_security_number_after",
                autospec=True,
                side_effect=held_number_after,
            ),
        )

    def _delete_billed(self, env, run_id):
        """Delete what a billing run made for the fixture's subscribers,
        the run (its errors, and the jobs of its chunks) included."""
        moves = env["account.move"].search(
            [("partner_id", "in", self.partner_ids)], order="id desc"
        )
        moves.filtered(lambda m: m.state == "posted").button_draft()
        moves.unlink()
        if isinstance(run_id, int):
            run = env["security.billing.run"].browse(run_id)
            if "queue.job" in env:
                env["queue.job"].search(
                    [("uuid", "in", run.chunk_ids.mapped("job_uuid"))]
                ).unlink()
            run.error_ids.unlink()
            run.unlink()
        env["contract.contract"].browse(self.contract_ids).unlink()
        env["product.product"].browse(self.product_id).unlink()
        env["res.partner"].browse(self.partner_ids).unlink()

    def _create_mmr_product(self, env, tag):
        return env["product.product"].create(
            {
                "name": f"Race monitoring {tag}",
                "type": "service",
                "list_price": 30.0,
                "security_is_mmr": True,
                "taxes_id": [Command.clear()],
            }
        )

    def _mmr_contract_vals(self, name, partner, product, **extra):
        """A monthly MMR contract of ``partner`` due today."""
        return {
            "name": name,
            "partner_id": partner.id,
            "company_id": partner.company_id.id,
            "line_recurrence": False,
            "recurring_rule_type": "monthly",
            "date_start": self.today,
            "recurring_next_date": self.today,
            "contract_line_ids": [
                Command.create(
                    {
                        "product_id": product.id,
                        "name": product.name,
                        "quantity": 1,
                        "price_unit": product.list_price,
                        "uom_id": product.uom_id.id,
                    }
                )
            ],
            **extra,
        }
