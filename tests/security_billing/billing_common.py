"""Helpers of the billing tests (frequencies, billing runs, balances)."""

from odoo import Command

from ..common import SecurityBillingCase


class BillingCase(SecurityBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.runs = cls.env["security.billing.run"]

    @classmethod
    def _create_billing_contract(
        cls,
        partner,
        rule="monthly",
        invoicing="pre-paid",
        date_start="2025-01-01",
        prorate=False,
        lines=None,
        **vals,
    ):
        """An MMR contract whose next invoice date OCA computes itself.

        ``lines`` is a list of ``(product, price, quantity)``.
        """
        lines = lines or [(cls.mmr_product, 30.0, 1.0)]
        return cls.env["contract.contract"].create(
            dict(
                {
                    "name": f"MMR {partner.name} {rule}",
                    "partner_id": partner.id,
                    "line_recurrence": False,
                    "recurring_rule_type": rule,
                    "recurring_invoicing_type": invoicing,
                    "date_start": cls._date(date_start),
                    "security_prorate_first_period": prorate,
                    "contract_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "name": product.name,
                                "quantity": quantity,
                                "price_unit": price,
                                "uom_id": product.uom_id.id,
                            }
                        )
                        for product, price, quantity in lines
                    ],
                },
                **vals,
            )
        )

    @classmethod
    def _create_due_subscribers(cls, label, count, date_start="2025-03-01"):
        """``count`` subscribers ``<label> <i>``, each with a monthly MMR
        contract of 30.00 from ``date_start``.

        :return: the subscribers (a list, in order) and their contracts
        """
        subscribers = [cls._create_subscriber(f"{label} {i}") for i in range(count)]
        contracts = cls.env["contract.contract"].browse(
            [
                cls._create_billing_contract(partner, date_start=date_start).id
                for partner in subscribers
            ]
        )
        return subscribers, contracts

    def _run_billing(self, date_ref):
        """Run the billing of the current company on ``date_ref``: start the
        run, then run its jobs."""
        run = self.runs._start(trigger="manual", date_ref=self._date(date_ref))
        self._perform_run_jobs(run)
        return run

    def _contract_invoices(self, contract):
        return self.env["account.move"].search(
            [
                ("security_contract_id", "=", contract.id),
                ("move_type", "=", "out_invoice"),
            ],
            order="id",
        )
