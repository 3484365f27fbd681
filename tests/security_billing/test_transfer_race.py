"""Two confirmations of one transfer form in real, concurrent transactions."""

import threading
from uuid import uuid4

from odoo.service.model import retrying
from odoo.tests import tagged

from ..race import CommittedRaceCase


@tagged("post_install", "-at_install")
class TestTransferFundsRace(CommittedRaceCase):
    """The same transfer form confirmed twice at once (a resubmitted request:
    two wizard records, one key), each in its own committed transaction
    retried on serialization failures as Odoo's request layer does.

    What makes it single: the form's key is claimed first (a unique row of
    ``security.payment.request``). The second confirmation waits on the
    first one's uncommitted claim, fails to serialize when it commits, and
    its retry finds the claim and books nothing. With a lock on the wizard
    row only, the second (another wizard record) would wait on the source's
    credit lines instead, then book a second transfer from what is left.
    """

    def _create_fixture(self):
        tag = uuid4().hex[:8]
        self.key = f"race-{tag}"
        with self.registry.cursor() as cr:
            env = self._env(cr)
            company = env.ref("base.main_company")
            partners = env["res.partner"].create(
                [
                    {
                        "name": f"Race transfer {name} {tag}",
                        "security_is_subscriber": True,
                        "company_id": company.id,
                    }
                    for name in ("from", "to")
                ]
            )
            result = (
                env["account.payment"]
                .with_company(company)
                ._security_register_payment(
                    partners[0], 100.0, external_id=f"race-transfer:{tag}"
                )
            )
            self.source_id, self.target_id = partners.ids
            self.company_id = company.id
            self.payment_external_id = f"race-transfer:{tag}"
            self.payment_id = result["payment_id"]

    def _delete_fixture(self):
        with self.registry.cursor() as cr:
            env = self._env(cr, force_delete=True)
            partners = env["res.partner"].browse([self.source_id, self.target_id])
            moves = env["account.move"].search(
                [
                    ("line_ids.partner_id", "in", partners.ids),
                    ("origin_payment_id", "=", False),
                ]
            )
            moves.button_draft()
            moves.unlink()
            payment = env["account.payment"].browse(self.payment_id)
            payment.action_draft()
            payment.unlink()
            env["security.payment.request"].search(
                [
                    (
                        "external_id",
                        "in",
                        [self.payment_external_id, f"transfer:{self.key}"],
                    )
                ]
            ).unlink()
            env["security.transfer.funds"].search(
                [("source_partner_id", "in", partners.ids)]
            ).unlink()
            partners.unlink()

    def _confirm(self, name, out, entered=None, release=None):
        """One request confirming the form: a wizard record with the key,
        retried on serialization failures and committed by ``retrying``
        (held before its commit when ``release`` is given)."""
        try:
            with self.registry.cursor() as cr:
                out[name, "pid"] = cr._cnx.get_backend_pid()
                env = self._env(cr)
                env = env(
                    context=dict(env.context, allowed_company_ids=[self.company_id])
                )

                def confirm():
                    out[name, "tries"] = out.get((name, "tries"), 0) + 1
                    wizard = env["security.transfer.funds"].create(
                        {
                            "source_partner_id": self.source_id,
                            "target_partner_id": self.target_id,
                            "amount": 40.0,
                            "idempotency_key": self.key,
                        }
                    )
                    wizard.action_transfer()
                    if release:
                        entered.set()  # booked, not committed
                        release.wait(120)
                    return wizard.move_id.id

                # commits (Odoo's request layer calls it the same way)
                out[name] = retrying(confirm, env)
        except Exception as exc:  # reported by the test thread
            out[name] = exc
        finally:
            if entered:
                entered.set()

    def test_second_confirmation_waits_then_books_nothing(self):
        out = {}
        entered, release = threading.Event(), threading.Event()
        first = threading.Thread(
            target=self._confirm, args=("first", out, entered, release)
        )
        waited, second_done_while_first_held = self._race_against_held(
            first,
            entered,
            release,
            lambda: threading.Thread(target=self._confirm, args=("second", out)),
            out,
            "second",
        )
        self.assertIsInstance(out["first"], int, out)
        self.assertTrue(waited, "the second request waited on the first's claim")
        self.assertFalse(second_done_while_first_held)
        # its claim failed to serialize when the first committed; the retry
        # found the first request's claim and its entry
        self.assertEqual(out["second", "tries"], 2)
        self.assertEqual(out["second"], out["first"])
        with self.registry.cursor() as cr:
            env = self._env(cr)
            source, target = env["res.partner"].browse([self.source_id, self.target_id])
            transfers = env["account.move"].search(
                [("line_ids.partner_id", "=", target.id)]
            )
            self.assertEqual(transfers.ids, [out["first"]])
            self.assertEqual(source.security_balance, 60.0)
            self.assertEqual(target.security_balance, 40.0)
