"""Shared setup of the autopay, dunning, promised payment and notice tests."""

from datetime import timedelta

from odoo import Command, fields

from ..common import SecurityBillingCase


class DunningCase(SecurityBillingCase):
    """A subscriber with an MMR contract, a demo payment provider and tokens."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        cls.provider = cls._prepare_demo_provider()
        cls.demo_method = cls.env.ref("payment_demo.payment_method_demo")
        cls.partner = cls._create_subscriber(
            "Alice Alarm", email="alice@example.com", mobile="+32456001122"
        )
        cls.contract = cls._create_mmr_contract(cls.partner, price=30.0)

    @classmethod
    def _prepare_demo_provider(cls):
        base = cls.env.ref("payment.payment_provider_demo").sudo()
        provider = base.search(
            [("code", "=", "demo"), ("company_id", "=", cls.env.company.id)], limit=1
        ) or base.copy({"company_id": cls.env.company.id})
        provider.write({"state": "test"})
        return provider.sudo(False)

    @classmethod
    def _create_token(cls, partner, simulated_state="done", **vals):
        return cls.env["payment.token"].create(
            dict(
                {
                    "provider_id": cls.provider.id,
                    "payment_method_id": cls.env.ref(
                        "payment_demo.payment_method_demo"
                    ).id,
                    "payment_details": "4242",
                    "partner_id": partner.id,
                    "provider_ref": f"demo-token-{simulated_state}",
                    "demo_simulated_state": simulated_state,
                },
                **vals,
            )
        )

    @classmethod
    def _mmr_invoice(cls, contract, amount=30.0, days_ago=0, post=True):
        """A posted MMR invoice of ``contract`` dated and due ``days_ago``."""
        day = fields.Date.context_today(cls.env["res.partner"]) - timedelta(
            days=days_ago
        )
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": contract.partner_id.id,
                "invoice_date": day,
                "invoice_date_due": day,
                "security_contract_id": contract.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.mmr_product.id,
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        if post:
            invoice.action_post()
        return invoice

    def _days(self, days):
        return self.today + timedelta(days=days)

    def _run_dunning(self, days=0):
        return self.env["contract.contract"]._security_run_dunning(
            date_ref=self._days(days)
        )

    def _notices(self, event, partner=None):
        return self.env["security.notification.log"].search(
            [
                ("event", "=", event),
                ("partner_id", "=", (partner or self.partner).id),
            ]
        )
