"""Benchmark of the device-app status file build (Ajax JSON and the other formats).

Builds 1,000 / 10,000 / 100,000 protected sites, each with its subscriber, MMR
contract, posted invoices and payments, then times:

* the set-based build (``security.app.connector._build_payload``:
  a few SQL queries plus serialization), with its parts;
* a naive per-record build: a loop over the sites reading the contract's ORM
  computed fields (fee, balance, next payment date, blocked, currency) one
  record at a time; above ``--naive-max`` sites it is extrapolated linearly
  from the largest measured run, and says so;
* the same loop with the ORM's normal prefetching (batches of 1,000).

Data: three subscribers are made through the ORM (monthly 300 with January
paid and February open; monthly 150.50 unpaid and suspended; quarterly 900
with 100 of credit), then cloned with SQL ``INSERT ... SELECT`` (partners,
contracts, lines, invoices and payment entries with their journal items,
sites with distinct hub ids). Everything runs in one transaction that is
rolled back at the end: the database is left as it was.

Usage (a throwaway database with security_billing installed)::

    python3 bench/bench_app_export.py --db sb_bench \\
        --addons-path /work/main,/opt/odoo18/addons [--sizes 1000,10000,100000]
        [--naive-max 10000]

Goal: 100,000 sites in at most 5 s on a 2-core machine.
"""

import argparse
import os
import sys
import time
from datetime import date

from benchlib import BackendCpu, clone, clone_contracts, make_mmr_product, reserve_ids
from freezegun import freeze_time

import odoo
from odoo import Command
from odoo.tools import config

TEMPLATE_COUNT = 3
# this run's sites: hub id = HUB_BASE + site id (distinct, 8 hex characters)
SITE_PREFIX = "Bench site %x " % int(time.time())
HUB_BASE = 0x10000000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", default="/work/main,/opt/odoo18/addons")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--naive-max", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args()


# --------------------------------------------------------------------- data
def make_templates(env):
    """Three subscribers with contracts, invoices and payments, via the ORM."""
    product = make_mmr_product(env, "Bench monitoring")
    specs = [
        ("monthly", 300.0, 2, 300.0, "active"),
        ("monthly", 150.5, 1, 0.0, "suspended"),
        ("quarterly", 900.0, 1, 1000.0, "active"),
    ]
    templates = []
    for index, (rule, price, invoices, paid, state) in enumerate(specs):
        partner = env["res.partner"].create(
            {"name": f"Bench template {index}", "security_is_subscriber": True}
        )
        with freeze_time("2024-01-01"):
            contract = env["contract.contract"].create(
                {
                    "name": f"Bench MMR {index}",
                    "partner_id": partner.id,
                    "line_recurrence": False,
                    "recurring_rule_type": rule,
                    "recurring_invoicing_type": "pre-paid",
                    "date_start": date(2024, 1, 1),
                    "recurring_next_date": date(2024, 1, 1),
                    "contract_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "name": product.name,
                                "quantity": 1.0,
                                "price_unit": price,
                                "uom_id": product.uom_id.id,
                            }
                        )
                    ],
                }
            )
        # lines created with the contract keep the default monthly rule
        contract.contract_line_ids.write({"recurring_rule_type": rule})
        for _i in range(invoices):
            with freeze_time(contract.recurring_next_date):
                contract.recurring_create_invoice().action_post()
        if paid:
            env["account.payment"]._security_register_payment(
                partner, paid, date=date(2024, 1, 5)
            )
        if state != "active":
            contract.security_state = state
        templates.append((partner, contract))
    env.flush_all()
    return templates


def clone_subscribers(env, template, count):
    """``count`` copies of one template subscriber, with one site each."""
    cr = env.cr
    partner, contract = template
    partners = reserve_ids(cr, "res_partner", count)
    clone(
        cr,
        "res_partner",
        partner.id,
        partners,
        {
            "name": "'Bench ' || u.id",
            "complete_name": "'Bench ' || u.id",
            "commercial_partner_id": "u.id",
            "security_account_ref": "NULL",
        },
    )
    contracts, line_map = clone_contracts(cr, contract, partners)
    moves = env["account.move"].search([("commercial_partner_id", "=", partner.id)])
    for move in moves:
        move_ids = reserve_ids(cr, "account_move", count)
        clone(
            cr,
            "account_move",
            move.id,
            move_ids,
            {
                "name": "'BENCH/' || u.id",
                "partner_id": "u.a0",
                "commercial_partner_id": "u.a0",
                "security_contract_id": "u.a1",
                "origin_payment_id": "NULL",
                "statement_line_id": "NULL",
            },
            [("int", partners), ("int", contracts)],
        )
        for line in move.line_ids:
            line_ids = reserve_ids(cr, "account_move_line", count)
            contract_lines = line_map.get(line.contract_line_id.id)
            clone(
                cr,
                "account_move_line",
                line.id,
                line_ids,
                {
                    "move_id": "u.a0",
                    "partner_id": "u.a1",
                    "security_contract_id": "u.a2",
                    "move_name": "'BENCH/' || u.a0",
                    "full_reconcile_id": "NULL",
                    "payment_id": "NULL",
                    "statement_line_id": "NULL",
                    "contract_line_id": "u.a3" if contract_lines else "NULL",
                },
                [
                    ("int", move_ids),
                    ("int", partners),
                    ("int", contracts),
                    ("int", contract_lines or contracts),
                ],
            )
    sites = reserve_ids(cr, "security_site", count)
    cr.execute(
        """
        INSERT INTO security_site (id, name, partner_id, company_id, vendor,
                                   device_id, contract_id, active, app_user_count,
                                   life_safety)
        SELECT u.s, %s || u.s, u.p, %s, 'ajax',
               upper(lpad(to_hex(%s + u.s), 8, '0')), u.c, TRUE, 0, FALSE
          FROM unnest(%s::int[], %s::int[], %s::int[]) AS u(s, p, c)
        """,
        (SITE_PREFIX, env.company.id, HUB_BASE, sites, partners, contracts),
    )


def grow(env, templates, total, state):
    """Add subscribers until there are ``total`` bench sites."""
    missing = total - state["sites"]
    for index, template in enumerate(templates):
        count = missing // TEMPLATE_COUNT + (
            1 if index < missing % TEMPLATE_COUNT else 0
        )
        if count:
            clone_subscribers(env, template, count)
    state["sites"] = total
    env.cr.execute("ANALYZE")
    env.invalidate_all()


# ------------------------------------------------------------------ builds
class Meter:
    """Wall time, and CPU time of this process plus its PostgreSQL backend.

    On a shared machine the wall time depends on the load; the CPU time is
    what the build costs (the two processes work in turn, not in parallel),
    i.e. about the wall time on an idle machine. The backend's CPU time is
    read from /proc, so only when PostgreSQL runs on this host.
    """

    def __init__(self, cr):
        self.pg_cpu = BackendCpu(cr)

    def best_of(self, repeat, func):
        """``(best wall, best cpu or None, result)`` over ``repeat`` runs."""
        walls, cpus, result = [], [], None
        for _i in range(repeat):
            wall, cpu, pg = time.perf_counter(), time.process_time(), self.pg_cpu()
            result = func()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu + self.pg_cpu() - pg)
        return min(walls), (min(cpus) if self.pg_cpu.local else None), result


def set_based(env, connector):
    env.invalidate_all()
    return connector._build_payload()


def set_based_parts(env, connector):
    """Time the steps of ``_collect_rows`` separately."""
    env.invalidate_all()
    parts = {}
    start = time.perf_counter()
    sites = connector._fetch_site_rows()
    parts["sites+fees+blocked"] = time.perf_counter() - start
    ids = list({row[3] for row in sites if row[3]})
    start = time.perf_counter()
    env["account.move"]._security_balance_rows("security_contract_id", ids)
    parts["balances"] = time.perf_counter() - start
    start = time.perf_counter()
    env["contract.contract"].browse(ids)._security_date_data()
    parts["dates"] = time.perf_counter() - start
    return parts


def naive_rows(env, sites, prefetch):
    """The loop a straightforward implementation would write."""
    env.invalidate_all()
    rows = []
    for site in sites:
        if not prefetch:
            site = site.with_prefetch()
        contract = site.contract_id
        if not prefetch:
            contract = contract.with_prefetch()
        if not contract or not site.device_id:
            continue
        rows.append(
            {
                "hubId": site.device_id,
                "subscriptionFee": "%.2f" % contract.security_monthly_fee,
                "balance": "%.2f" % contract.security_balance,
                "currency": contract.currency_id.name,
                "blocked": "true" if contract.security_blocked else "false",
                "paymentDate": str(contract.security_next_payment_date),
            }
        )
    return rows


def main():
    args = parse_args()
    config.parse_config(
        ["-d", args.db, "--addons-path", args.addons_path, "--log-level", "warn"]
    )
    sizes = [int(size) for size in args.sizes.split(",")]
    registry = odoo.modules.registry.Registry(args.db)
    results = []
    with registry.cursor() as cr:
        env = odoo.api.Environment(
            cr, odoo.SUPERUSER_ID, {"tracking_disable": True, "mail_notrack": True}
        )
        try:
            templates = make_templates(env)
            connector = env["security.app.connector"].create(
                {
                    "name": "Bench",
                    "vendor": "ajax",
                    "site_domain": repr([("name", "=like", SITE_PREFIX + "%")]),
                }
            )
            state = {"sites": 0}
            meter = Meter(cr)
            per_site = {}
            for size in sizes:
                start = time.perf_counter()
                grow(env, templates, size, state)
                built = time.perf_counter() - start
                print(f"[{size:>7} sites] data built in {built:.1f} s", flush=True)
                wall, cpu, payload = meter.best_of(
                    args.repeat, lambda: set_based(env, connector)
                )
                assert payload["records"] == size, payload["records"]
                row = {"size": size, "set": wall, "set_cpu": cpu}
                row["parts"] = set_based_parts(env, connector)
                sites = env["security.site"].search(connector._get_site_domain())
                # the first size is always measured: the others extrapolate it
                row["measured"] = size <= args.naive_max or not per_site
                for key, prefetch in (("naive", False), ("prefetch", True)):
                    if row["measured"]:
                        wall, cpu, _rows = meter.best_of(
                            1, lambda p=prefetch: naive_rows(env, sites, p)
                        )
                        per_site[key] = (wall / size, (cpu or 0.0) / size)
                    row[key] = per_site[key][0] * size
                    row[key + "_cpu"] = per_site[key][1] * size
                results.append(row)
                print_row(row)
        finally:
            cr.rollback()
    print_summary(results)


def print_row(row):
    parts = ", ".join(f"{k} {v:.2f}" for k, v in row["parts"].items())
    how = "measured" if row["measured"] else "extrapolated from the last measure"
    print(
        f"[{row['size']:>7} sites] set-based: wall {row['set']:.2f} s, cpu "
        f"{fmt(row['set_cpu'])} s (wall of the parts: {parts}); naive per-record: "
        f"wall {row['naive']:.1f} s, cpu {row['naive_cpu']:.1f} s; ORM loop with "
        f"prefetch: wall {row['prefetch']:.1f} s, cpu {row['prefetch_cpu']:.1f} s "
        f"({how})",
        flush=True,
    )


def fmt(value):
    return "n/a" if value is None else f"{value:.2f}"


def print_summary(results):
    print()
    print(f"load average: {' '.join('%.1f' % x for x in os.getloadavg())}")
    print(
        "   sites | set-based wall / cpu (s) | naive per-record wall / cpu (s) "
        "| ratio (wall, cpu) | ORM prefetch loop wall (s) | ratio"
    )
    for row in results:
        ratio_cpu = (
            f"{row['naive_cpu'] / row['set_cpu']:.0f}x" if row["set_cpu"] else "n/a"
        )
        mark = "" if row["measured"] else "  (naive figures extrapolated)"
        print(
            f"{row['size']:>8} | {row['set']:>11.2f} / {fmt(row['set_cpu']):>10} | "
            f"{row['naive']:>17.1f} / {row['naive_cpu']:>11.1f} | "
            f"{row['naive'] / row['set']:>7.0f}x, {ratio_cpu:>6} | "
            f"{row['prefetch']:>26.1f} | {row['prefetch'] / row['set']:>4.0f}x{mark}"
        )
    big = [row for row in results if row["size"] >= 100000]
    if big:
        best = big[0]["set_cpu"] or big[0]["set"]
        verdict = "OK" if best <= 5.0 else "OVER"
        print(
            f"goal: 100,000 sites <= 5 s: wall {big[0]['set']:.2f} s, cpu "
            f"{fmt(big[0]['set_cpu'])} s -> {verdict} (cpu = idle-machine time)"
        )


if __name__ == "__main__":
    sys.exit(main())
