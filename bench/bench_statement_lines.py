"""Benchmark of the creation of imported statement lines with partners.

Creates ``--lines`` bank statement lines, each with its own partner (as a 1C
file whose payers' bank accounts are known), on a new bank journal per mode:

* ``import``: as the statement import does (context key of
  ``security_billing_bank``): the lines get their journal items at creation;
* ``odoo``: Odoo's own creation (one write of the items per line), the path
  lines with a partner took before they got their items at creation.

Prints wall time and CPU time (this process plus its PostgreSQL backend)
per mode, and the load average. Everything runs in one transaction that is
rolled back: the database is left as it was.

Usage (a database copied from one with security_billing_bank installed)::

    python3 bench/bench_statement_lines.py --db sb_copy \\
        [--addons-path /work/main,/opt/odoo18/addons] [--lines 1000] \\
        [--modes import,odoo] [--without-partner] [--foreign]
"""

import argparse
import os
import sys
import time

from benchlib import BackendCpu

import odoo
from odoo.tools import config

MODES = ("import", "odoo")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", default="/work/main,/opt/odoo18/addons")
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help="creation paths to time, in this order (import, odoo)",
    )
    parser.add_argument(
        "--without-partner",
        action="store_true",
        help="lines without partner, for comparison",
    )
    parser.add_argument(
        "--foreign",
        action="store_true",
        help="lines in a foreign currency (amount_currency given)",
    )
    return parser.parse_args()


def make_partners(env, count):
    return env["res.partner"].create(
        [{"name": f"Bench payer {index}"} for index in range(count)]
    )


def lines_vals(env, journal, partners, foreign, with_partner):
    statement = env["account.bank.statement"].create(
        {"name": f"Bench {journal.code}", "journal_id": journal.id}
    )
    vals_list = []
    for index, partner in enumerate(partners, start=1):
        vals = {
            "statement_id": statement.id,
            "journal_id": journal.id,
            "date": "2025-03-03",
            "payment_ref": f"Payment {index}",
            "amount": 30.0,
            "partner_id": partner.id if with_partner else False,
            "unique_import_id": f"bench-{journal.code}-{index}",
        }
        if foreign:
            vals.update(foreign_currency_id=foreign.id, amount_currency=27.0)
        vals_list.append(vals)
    return vals_list


def run_mode(env, mode, partners, foreign, number, with_partner=True):
    from odoo.addons.security_billing_bank.models import (
        account_bank_statement_line_import as line_import,
    )

    journal = env["account.journal"].create(
        {"name": f"Bench lines {mode}", "code": f"BL{number}", "type": "bank"}
    )
    vals_list = lines_vals(env, journal, partners, foreign, with_partner)
    model = env["account.bank.statement.line"]
    if mode == "import":
        model = model.with_context(**{line_import.IMPORT_CONTEXT_KEY: True})
    env.flush_all()
    pg_cpu = BackendCpu(env.cr)
    wall, cpu, pg = time.perf_counter(), time.process_time(), pg_cpu()
    lines = model.create(vals_list)
    env.flush_all()
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu + pg_cpu() - pg
    check(lines, [partner.id if with_partner else False for partner in partners])
    return wall, cpu if pg_cpu.local else None


def check(lines, partner_ids):
    """Each line's entry is posted, with two items, all on the line's partner."""
    assert len(lines) == len(partner_ids)
    for line, partner_id in zip(lines, partner_ids, strict=True):
        move = line.move_id
        assert move.state == "posted", move.state
        assert move.partner_id.id == partner_id, (move.partner_id, partner_id)
        assert len(move.line_ids) == 2
        assert move.line_ids.partner_id.id == partner_id


def main():
    args = parse_args()
    config.parse_config(
        ["-d", args.db, "--addons-path", args.addons_path, "--log-level", "warn"]
    )
    registry = odoo.modules.registry.Registry(args.db)
    results = {}
    with registry.cursor() as cr:
        env = odoo.api.Environment(
            cr, odoo.SUPERUSER_ID, {"tracking_disable": True, "mail_notrack": True}
        )
        try:
            partners = make_partners(env, args.lines)
            foreign = False
            if args.foreign:
                company_currency = env.company.currency_id
                foreign = env.ref(
                    "base.EUR" if company_currency.name != "EUR" else "base.USD"
                )
                foreign.active = True
            for number, mode in enumerate(args.modes.split(","), start=1):
                results[mode] = run_mode(
                    env, mode, partners, foreign, number, not args.without_partner
                )
                print(f"  {mode:<7} wall {results[mode][0]:8.2f} s", flush=True)
        finally:
            cr.rollback()
    print()
    print(f"load average: {' '.join('%.1f' % x for x in os.getloadavg())}")
    partner = "without" if args.without_partner else "with"
    foreign = ", in a foreign currency" if args.foreign else ""
    print(f" {args.lines} lines {partner} partners{foreign}")
    print(" mode    |  wall (s) |  cpu (s) | ms/line (cpu)")
    for mode, (wall, cpu) in results.items():
        per_line = f"{1000 * cpu / args.lines:8.2f}" if cpu is not None else "n/a"
        cpu_text = f"{cpu:8.2f}" if cpu is not None else "n/a"
        print(f" {mode:<7} | {wall:9.2f} | {cpu_text} | {per_line}")


if __name__ == "__main__":
    sys.exit(main())
