"""Benchmark of a payment-registry import: parse, match, pay, reconcile.

Prepares ``--lines`` subscribers, each with an MMR contract and one open
posted invoice of 30.00: one subscriber is made through the ORM, the others
are SQL ``INSERT ... SELECT`` copies of it (partners with distinct account
numbers, contracts, contract lines, invoices and their journal items). Then
imports a CSV registry of ``--lines`` rows (one 30.00 payment per subscriber)
through the OCA import wizard's steps and times each phase:

* parse: the registry mapping's row checks and the OCA sheet parser;
* create: the bank statement and its lines (OCA import, Odoo statement lines);
* lookup: finding the subscribers of all lines (one query);
* pay: per line, the core payment entry point (payment, oldest-first
  allocation, balance hook) and the reconciliation of the statement line
  with the payment.

Wall time and CPU time (this process plus its PostgreSQL backend, read from
/proc: on a shared machine the CPU time is about the idle-machine time) are
printed per phase. ``--profile`` prints the cProfile of the pay phase.
Everything runs in one transaction that is rolled back: the database is left
as it was.

Usage (a database with security_billing_bank installed)::

    python3 bench/bench_registry_import.py --db sb_bank8 \\
        [--addons-path /work/main,/opt/odoo18/addons] [--lines 10000] [--profile]

Goal: 10,000 lines in at most 60 s.

The same import through the wizard on a real server, run by background jobs
(from 500 lines): ``bench/prod_check_import.py``.
"""

import argparse
import base64
import cProfile
import io
import os
import pstats
import sys
import time
from datetime import date

from benchlib import (
    BackendCpu,
    clone,
    clone_contracts,
    make_mmr_product,
    mmr_contract_vals,
    reserve_ids,
)

import odoo
from odoo.tools import config

GOAL_SECONDS = 60.0
GOAL_LINES = 10000
ACCOUNT_BASE = 700000  # account numbers 700000x.. of the bench subscribers
PAYMENT_DATE = date(2025, 3, 3)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", default="/work/main,/opt/odoo18/addons")
    parser.add_argument("--lines", type=int, default=GOAL_LINES)
    parser.add_argument(
        "--profile",
        nargs="?",
        const="pay",
        default="",
        help="print the cProfile of these phases (comma-separated, default pay)",
    )
    parser.add_argument(
        "--profile-dump",
        metavar="FILE",
        help="also save the profiles as FILE.<phase> (pstats format)",
    )
    parser.add_argument(
        "--sql-stats",
        action="store_true",
        help="print the SQL queries of the pay phase taking the most time",
    )
    return parser.parse_args()


# --------------------------------------------------------------------- data
def make_account_ref(number):
    """The core numbering (importable once the addons path is configured)."""
    from odoo.addons.security_billing.tools import account_ref

    return account_ref.make_account_ref(number)


def make_template(env):
    """One subscriber with an MMR contract and a posted 30.00 invoice."""
    product = make_mmr_product(env, "Bench monitoring")
    partner = env["res.partner"].create(
        {
            "name": "Bench subscriber",
            "security_is_subscriber": True,
            "security_account_ref": make_account_ref(ACCOUNT_BASE),
        }
    )
    start = date(2025, 1, 1)
    contract = env["contract.contract"].create(
        mmr_contract_vals(partner, product, start, recurring_next_date=start)
    )
    contract.recurring_create_invoice().action_post()
    env.flush_all()
    return partner, contract


def clone_subscribers(env, template, count):
    """``count`` copies of the template subscriber; returns their numbers."""
    cr = env.cr
    partner, contract = template
    refs = [make_account_ref(ACCOUNT_BASE + i) for i in range(1, count + 1)]
    partners = reserve_ids(cr, "res_partner", count)
    clone(
        cr,
        "res_partner",
        partner.id,
        partners,
        {
            "name": "'Bench ' || u.a0",
            "complete_name": "'Bench ' || u.a0",
            "commercial_partner_id": "u.id",
            "security_account_ref": "u.a0",
        },
        [("text", refs)],
    )
    contracts, line_map = clone_contracts(cr, contract, partners)
    [contract_lines] = line_map.values()
    [move] = env["account.move"].search([("partner_id", "=", partner.id)])
    moves = reserve_ids(cr, "account_move", count)
    clone(
        cr,
        "account_move",
        move.id,
        moves,
        {
            "name": "'BENCH/' || u.id",
            "partner_id": "u.a0",
            "commercial_partner_id": "u.a0",
            "security_contract_id": "u.a1",
        },
        [("int", partners), ("int", contracts)],
    )
    for move_line in move.line_ids:
        clone(
            cr,
            "account_move_line",
            move_line.id,
            reserve_ids(cr, "account_move_line", count),
            {
                "move_id": "u.a0",
                "partner_id": "u.a1",
                "security_contract_id": "u.a2",
                "move_name": "'BENCH/' || u.a0",
                "contract_line_id": "u.a3" if move_line.contract_line_id else "NULL",
            },
            [
                ("int", moves),
                ("int", partners),
                ("int", contracts),
                ("int", contract_lines),
            ],
        )
    for table in (
        "res_partner",
        "contract_contract",
        "account_move",
        "account_move_line",
    ):
        cr.execute(f'ANALYZE "{table}"')
    env.invalidate_all()
    return [partner.security_account_ref, *refs]


def registry_csv(refs):
    rows = ["Account;PaymentID;Date;Amount;Comment"]
    stamp = int(time.time())
    for number, ref in enumerate(refs, start=1):
        rows.append(
            f"{ref};BENCH-{stamp}-{number};{PAYMENT_DATE:%d.%m.%Y};30.00;Monitoring"
        )
    return ("\r\n".join(rows) + "\r\n").encode()


# ------------------------------------------------------------------ timing
class Meter:
    """Wall time, and CPU time of this process plus its PostgreSQL backend."""

    def __init__(self, cr):
        self.pg_cpu = BackendCpu(cr)
        self.phases = {}
        self.dump = None

    def run(self, name, func, profile=False):
        wall, cpu, pg = time.perf_counter(), time.process_time(), self.pg_cpu()
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        result = func()
        if profiler:
            profiler.disable()
        self.phases[name] = (
            time.perf_counter() - wall,
            time.process_time() - cpu + self.pg_cpu() - pg
            if self.pg_cpu.local
            else None,
        )
        print(f"  {name:<7} wall {self.phases[name][0]:8.2f} s", flush=True)
        if profiler:
            print_profile(profiler)
            if self.dump:
                profiler.dump_stats(f"{self.dump}.{name}")
        return result


class SqlStats:
    """Time spent per query shape (first 120 characters) while active."""

    def __init__(self):
        self.stats = {}

    def __enter__(self):
        from odoo.sql_db import Cursor

        self.cursor_class, self.execute = Cursor, Cursor.execute
        stats = self.stats
        execute = self.execute

        def timed_execute(cursor, query, params=None, log_exceptions=True):
            start = time.perf_counter()
            try:
                return execute(cursor, query, params, log_exceptions)
            finally:
                text = " ".join(str(getattr(query, "code", query)).split())[:120]
                count, total = stats.get(text, (0, 0.0))
                stats[text] = (count + 1, total + time.perf_counter() - start)

        Cursor.execute = timed_execute
        return self

    def __exit__(self, *exc):
        self.cursor_class.execute = self.execute

    def print(self, top=15):
        total = sum(t for _c, t in self.stats.values())
        calls = sum(c for c, _t in self.stats.values())
        print(f"SQL: {calls} queries, {total:.2f} s; the {top} most costly shapes:")
        ranked = sorted(self.stats.items(), key=lambda item: -item[1][1])
        for text, (count, spent) in ranked[:top]:
            print(f"  {spent:7.2f} s {count:6d}x  {text}")


def print_profile(profiler):
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(key)
        stats.print_stats(30)
        print(out.getvalue())


# --------------------------------------------------------------------- run
def import_registry(env, meter, data, profile, sql_stats):
    journal = env["account.journal"].create(
        {"name": "Bench payment system", "code": "BNCH", "type": "bank"}
    )
    mapping = env.ref("security_billing_bank.sheet_mapping_payment_registry")
    # this bench times the inline import: no background jobs, whatever the size
    env["ir.config_parameter"].set_param(
        "security_billing_bank.import_job_threshold", str(10**9)
    )
    wizard = (
        env["account.statement.import"]
        .with_context(journal_id=journal.id)
        .create(
            {
                "statement_filename": "registry.csv",
                "statement_file": base64.b64encode(data),
                "sheet_mapping_id": mapping.id,
                "security_journal_id": journal.id,
            }
        )
    )
    meter.run("parse", lambda: wizard._parse_file(data))
    result = {"statement_ids": [], "notifications": []}
    meter.run(
        "create",
        lambda: wizard.import_single_file(data, result),
        "create" in profile.split(","),
    )
    # import_single_file parses again: count that time once, under parse
    meter.phases["create"] = tuple(
        (c - p) if c is not None else None
        for c, p in zip(meter.phases["create"], meter.phases["parse"], strict=True)
    )
    lines = env["account.bank.statement.line"].search(
        [("statement_id", "in", result["statement_ids"])]
    )
    profile_pay = "pay" in profile.split(",")
    meter.run("lookup", lambda: lines._security_find_subscribers())
    if sql_stats:
        with SqlStats() as stats:
            summary = meter.run(
                "pay", lambda: lines._security_match_and_pay(), profile_pay
            )
        stats.print()
    else:
        summary = meter.run("pay", lambda: lines._security_match_and_pay(), profile_pay)
    # the pay phase looked the subscribers up again: count it once
    meter.phases["pay"] = tuple(
        (c - p) if c is not None else None
        for c, p in zip(meter.phases["pay"], meter.phases["lookup"], strict=True)
    )
    return lines, summary


def check(env, lines, summary, count):
    assert summary["matched"] == count, summary
    assert all(lines.mapped("is_reconciled"))
    env.cr.execute(
        """SELECT count(*) FROM account_move m
            WHERE m.name LIKE 'BENCH/%%' AND m.payment_state != 'paid'"""
    )
    unpaid = env.cr.fetchone()[0]
    assert unpaid == 0, f"{unpaid} bench invoices are not paid"


def main():
    args = parse_args()
    config.parse_config(
        ["-d", args.db, "--addons-path", args.addons_path, "--log-level", "warn"]
    )
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(
            cr, odoo.SUPERUSER_ID, {"tracking_disable": True, "mail_notrack": True}
        )
        try:
            start = time.perf_counter()
            template = make_template(env)
            print(f"template in {time.perf_counter() - start:.1f} s", flush=True)
            refs = clone_subscribers(env, template, args.lines - 1)
            print(
                f"{args.lines} subscribers with an open invoice prepared in "
                f"{time.perf_counter() - start:.1f} s",
                flush=True,
            )
            meter = Meter(cr)
            meter.dump = args.profile_dump
            lines, summary = import_registry(
                env, meter, registry_csv(refs), args.profile, args.sql_stats
            )
            check(env, lines, summary, args.lines)
        finally:
            cr.rollback()
    print_summary(meter, args.lines)


def print_summary(meter, count):
    print()
    print(f"load average: {' '.join('%.1f' % x for x in os.getloadavg())}")
    print(" phase   |  wall (s) |  cpu (s) | ms/line (cpu)")
    wall_total = cpu_total = 0.0
    for name, (wall, cpu) in meter.phases.items():
        wall_total += wall
        cpu_total += cpu or 0.0
        per_line = f"{1000 * cpu / count:8.2f}" if cpu is not None else "     n/a"
        cpu_text = f"{cpu:8.2f}" if cpu is not None else "     n/a"
        print(f" {name:<7} | {wall:9.2f} | {cpu_text} | {per_line}")
    print(f" total   | {wall_total:9.2f} | {cpu_total:8.2f} |")
    estimate = cpu_total * GOAL_LINES / count
    verdict = "OK" if estimate <= GOAL_SECONDS else "OVER"
    print(
        f"goal: {GOAL_LINES} lines <= {GOAL_SECONDS:.0f} s; this run: {count} lines, "
        f"cpu {cpu_total:.1f} s -> {estimate:.0f} s for {GOAL_LINES} lines "
        f"({estimate / GOAL_SECONDS:.1f}x the goal) -> {verdict}"
    )


if __name__ == "__main__":
    sys.exit(main())
