"""Helpers shared by the benchmark scripts of this folder."""

import os

from odoo import Command, fields


class BackendCpu:
    """Reads the CPU time (s) of ``cr``'s PostgreSQL backend from
    /proc/<pid>/schedstat when called; 0.0, and ``local`` False, if
    PostgreSQL runs on another host."""

    def __init__(self, cr):
        cr.execute("SELECT pg_backend_pid()")
        self.path = f"/proc/{cr.fetchone()[0]}/schedstat"
        self.local = os.path.exists(self.path)

    def __call__(self):
        if not self.local:
            return 0.0
        with open(self.path) as stat:
            return int(stat.read().split()[0]) / 1e9


def make_mmr_product(env, name, price=30.0):
    """An MMR monitoring service without taxes."""
    return env["product.product"].create(
        {
            "name": name,
            "type": "service",
            "list_price": price,
            "security_is_mmr": True,
            "taxes_id": [Command.clear()],
        }
    )


def mmr_contract_vals(partner, product, date_start, line_name=None, **extra):
    """Values of a monthly pre-paid MMR contract of one line of ``product``."""
    return {
        "name": f"MMR {partner.name}",
        "partner_id": partner.id,
        "line_recurrence": False,
        "recurring_rule_type": "monthly",
        "recurring_invoicing_type": "pre-paid",
        "date_start": date_start,
        "contract_line_ids": [
            Command.create(
                {
                    "product_id": product.id,
                    "name": line_name or product.name,
                    "quantity": 1.0,
                    "price_unit": product.list_price,
                    "uom_id": product.uom_id.id,
                }
            )
        ],
        **extra,
    }


def make_billed_subscribers(env, product, name_prefix, count):
    """``count`` subscribers, each with an MMR contract of ``product`` and
    its first invoice posted today. Returns ``(partners, invoices)``."""
    partners = env["res.partner"].create(
        [
            {"name": f"{name_prefix} {index}", "security_is_subscriber": True}
            for index in range(count)
        ]
    )
    today = fields.Date.context_today(partners)
    contracts = env["contract.contract"].create(
        [
            mmr_contract_vals(partner, product, today, recurring_next_date=today)
            for partner in partners
        ]
    )
    invoices = contracts._recurring_create_invoice()
    invoices.action_post()
    return partners, invoices
