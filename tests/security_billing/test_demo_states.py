"""Right after install, the demo shows every feature at once: each service
status, a granted promised payment, autopay attempts (one declined and
waiting for its retry, one paid on its retry) and an app connector with an
export. Runs against a database installed with demo data (``./dev test``
installs it); skipped on databases without it."""

from odoo.tests import tagged

from ..common import DemoDataCase


@tagged("post_install", "-at_install")
class TestDemoStates(DemoDataCase):
    def test_every_service_status(self):
        self.assertEqual(
            set(self.contracts.mapped("security_state")),
            {"active", "warning", "suspended", "terminated"},
        )
        self.assertEqual(
            set(self.subscribers.mapped("security_service_state")),
            {"active", "warning", "suspended", "terminated"},
        )

    def test_a_granted_promised_payment(self):
        promises = self.env["security.promised.payment"].search(
            [("partner_id", "in", self.subscribers.ids)]
        )
        self.assertEqual(len(promises), 1)
        self.assertGreater(promises.amount, 0)
        self.assertGreaterEqual(promises.due_date, promises.date)

    def test_autopay_attempts_declined_and_retried(self):
        attempts = self.env["security.autopay.attempt"].search(
            [("partner_id", "in", self.subscribers.ids)]
        )
        waiting = attempts.filtered(lambda a: a.state == "failed" and a.error)
        self.assertTrue(waiting, "a declined charge")
        retried = attempts.filtered(lambda a: a.state == "done")
        self.assertEqual(len(retried), 1)
        self.assertEqual(retried.attempt_no, 2)
        first = attempts.filtered(
            lambda a: a.invoice_id == retried.invoice_id and a.attempt_no == 1
        )
        self.assertEqual(first.state, "failed")
        self.assertIn(retried.invoice_id.payment_state, ("paid", "in_payment"))
        open_invoice = (waiting - first).invoice_id
        self.assertIn(open_invoice.payment_state, ("not_paid", "partial"))

    def test_app_connector_with_an_export(self):
        connector = self.env.ref("security_billing.demo_app_connector_ajax")
        logs = self.env["security.app.export.log"].search(
            [("connector_id", "=", connector.id)]
        )
        self.assertEqual(len(logs), 1)
        self.assertGreater(logs.record_count, 0)
        self.assertTrue(logs.attachment_id, "the built file is kept on the log")
