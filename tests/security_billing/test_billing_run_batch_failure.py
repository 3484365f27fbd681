"""A chunk whose whole batch fails: the failure is kept on the run, its
contracts stay due, the other chunks are billed and the run ends."""

from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.security_billing.models.contract_contract_billing import (
    ContractContract,
)

from .billing_common import BillingCase


@tagged("post_install", "-at_install")
class TestBillingRunBatchFailure(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _subscribers, cls.contracts = cls._create_due_subscribers("Batch", 5)
        cls.env["ir.config_parameter"].set_param(
            "security_billing.billing_run_batch_size", "2"
        )

    def test_a_failed_batch_is_one_error_and_the_run_ends(self):
        run = self.runs._start(trigger="manual", date_ref=self._date("2025-03-01"))
        first, second, last = self._run_jobs(run)
        self._perform_job(first)
        with patch.object(
            ContractContract,
            "_security_bill_due",
            autospec=True,
            side_effect=ValueError("billing is down"),
        ):
            self._perform_job(second)
        self._perform_job(last)
        run.invalidate_recordset()
        chunk = run.chunk_ids.sorted("sequence")[1]
        ids = self.contracts.sorted("id").ids
        self.assertEqual(
            (chunk.state, chunk.contract_count, chunk.invoice_count), ("done", 0, 0)
        )
        self.assertEqual(chunk.error_count, 1)
        self.assertEqual(run.state, "done")
        self.assertEqual((run.chunk_done_count, run.contract_count), (3, 3))
        self.assertEqual((run.invoice_count, run.error_count), (3, 1))
        self.assertFalse(run.error_ids.contract_id)
        self.assertEqual(
            run.error_ids.message,
            "A batch of 2 contracts (ids %s to %s) failed and was not billed: "
            "billing is down" % (ids[2], ids[3]),
        )
        # nothing of the failed batch was billed: its contracts stay due
        for contract in chunk._security_contracts():
            self.assertFalse(self._contract_invoices(contract))
            self.assertEqual(str(contract.recurring_next_date), "2025-03-01")
        self.assertEqual(len(run.invoice_ids), 3)
