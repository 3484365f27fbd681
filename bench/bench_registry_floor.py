"""Floor of a registry import: what stock OCA and Odoo cost alone.

Measures, in throwaway databases with only ``account`` and the OCA
``account_statement_import_sheet_file`` (none of our addons, no demo data,
Odoo's generic chart of accounts), for ``--lines`` lines:

* (a) the stock OCA import of a CSV payment registry of N rows
  (``Account;PaymentID;Date;Amount;Comment``) through a sheet mapping with
  the values of ours (security_billing_bank's
  ``sheet_mapping_payment_registry``; the account number goes to the stock
  ``reference_column``): ``account.statement.import._import_file``, i.e.
  parse, one duplicate search per row, one statement created with its N
  lines (each an ``account.move`` with two journal items, named and
  posted), the attachment; no matching, no payment;
* (b) Odoo's bare ``account.bank.statement.line.create`` of N lines with the
  same values, in batches of ``--line-batch`` (100), without statement;
* (c) Odoo's bare creation and posting of N inbound ``account.payment`` of
  one customer (manual method of the bank journal, batches of
  ``--payment-batch``, 50, as our core posts them): one payment per line
  is the least that matching adds (the reconciliation is not counted);
* (d) as (b), but the values give each line its two journal items
  (``line_ids`` from ``_prepare_move_line_default_vals``, what Odoo's create
  otherwise writes line by line), as security_billing_bank does for its
  imports: the cheapest statement line the ORM makes.

Each case runs in its own copy (``createdb -T``) of a base database that the
script installs the first time (``<prefix>_base``, kept for later runs; the
copies are dropped unless ``--keep-dbs``), after a warm-up of a few lines in
another journal, and is committed (the commit is timed). Printed per case:
wall time, CPU time of this process and of its PostgreSQL backend (read from
/proc), SQL queries, ms per line, the load average, and how many times the
goal (10,000 lines in 60 s) that case alone takes: its time scaled to 10,000
lines (linearly: at 10,000 lines the measure is direct).

Usage::

    python3 bench/bench_registry_floor.py [--db-prefix sb_floor] \\
        [--odoo-addons /opt/odoo18/addons] [--lines 10000] [--cases a,b,c,d] \\
        [--analyze] [--keep-dbs]

Measured (2026-11-22, 2 cores shared with other jobs, load average 1.9-3.3;
cpu = this process + its PostgreSQL backend; x goal = cpu scaled to 10,000
lines / 60 s)::

                      N=1,000            | N=10,000
                      cpu ms/line x goal | wall s   cpu s  ms/line x goal
    stock (no --analyze)
    (a) OCA import          41.7    7.0  |  880.9   737.6    73.8  12.3
    (b) statement lines     42.9    7.1  | 1126.3   822.3    82.2  13.7
    (c) payments            22.9    3.8  |  713.2   616.8    61.7  10.3
    (d) lines with items    20.0    3.3  |
    --analyze
    (b) statement lines     31.5    5.3  |  335.6   324.0    32.4   5.4
    (c) payments            19.5    3.2  |  201.2   193.3    19.3   3.2
    (d) lines with items    19.4    3.2  |  188.9   182.0    18.2   3.0

(a) queries 23.1/line (N=1,000), 24.9/line (N=10,000); (b) 21.2; (c) 21.6;
(d) 12.3. Parsing the file: 0.26-0.29 ms cpu per line. At 10,000 lines
without ANALYZE the PostgreSQL CPU dominates ((a) 452 s, (b) 544 s, (c)
469 s): all lines are created in one transaction, never analyzed, so
Odoo's naming queries on account_move are planned for the entries of before
the run and each line reads the journal's entries (n^2). With --analyze the
cost is linear (1,000 and 10,000 lines cost the same per line) and the
Python CPU of Odoo's ORM is most of it. Floor of one matched line with
Odoo's own records, before matching and reconciliation: (d)+(c) = 37.5 ms
cpu = 6.3x the goal (6 ms per line); each of (b), (c), (d) alone is over it.
"""

import argparse
import base64
import os
import shutil
import subprocess
import sys
import time
from datetime import date

from benchlib import BackendCpu

import odoo
from odoo import Command
from odoo.tools import config

GOAL_SECONDS = 60.0
GOAL_LINES = 10000
ACCOUNT_BASE = 700000
PAYMENT_DATE = date(2025, 3, 3)
WARM_UP_LINES = 20
MODULE = "account_statement_import_sheet_file"
# what our core uses when it creates payments (security_billing QUIET_CONTEXT)
QUIET_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}
# security_billing_bank/data/account_statement_import_sheet_mapping_data.xml,
# stock fields only: its security_account_ref_column becomes reference_column
MAPPING_VALS = {
    "name": "Payment registry (bench, stock OCA)",
    "file_encoding": "utf-8-sig",
    "delimiter": "semicolon",
    "quotechar": '"',
    "header_lines_skip_count": 1,
    "footer_lines_skip_count": 0,
    "float_thousands_sep": "none",
    "float_decimal_sep": "dot",
    "timestamp_format": "%d.%m.%Y",
    "timestamp_column": "Date",
    "amount_type": "simple_value",
    "amount_column": "Amount",
    "transaction_id_column": "PaymentID",
    "description_column": "Comment",
    "reference_column": "Account",
}
CASES = {
    "a": "stock OCA sheet import (statement + lines)",
    "b": "bare statement line create (batches)",
    "c": "bare payment create + post (batches)",
    "d": "statement line create with its journal items (batches)",
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-prefix", default="sb_floor")
    parser.add_argument("--odoo-addons", default="/opt/odoo18/addons")
    parser.add_argument("--lines", type=int, default=GOAL_LINES)
    parser.add_argument("--cases", default="a,b,c,d")
    parser.add_argument("--line-batch", type=int, default=100)
    parser.add_argument("--payment-batch", type=int, default=50)
    parser.add_argument("--keep-dbs", action="store_true")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="(b), (c), (d): ANALYZE account_move after the first batch",
    )
    args = parser.parse_args()
    args.cases = [case for case in args.cases.split(",") if case]
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    return args


# ---------------------------------------------------------------- databases
def db_exists(name):
    query = f"SELECT 1 FROM pg_database WHERE datname = {quote_literal(name)}"
    out = subprocess.run(
        ["psql", "-d", "postgres", "-Atc", query],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip() == "1"


def quote_literal(text):
    return "'" + text.replace("'", "''") + "'"


def ensure_base(name, odoo_addons):
    """The base database: account + the OCA sheet import, no demo."""
    if not db_exists(name):
        print(f"installing {MODULE} in {name} (once)...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "odoo",
                "-d",
                name,
                f"--addons-path={odoo_addons}",
                "-i",
                MODULE,
                "--without-demo=all",
                "--stop-after-init",
                "--log-level=warn",
            ],
            check=True,
        )
    with odoo.modules.registry.Registry(name).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        check_base(env)
    close(name)


def check_base(env):
    """No addon of ours; a chart of accounts (loaded if missing)."""
    ours = env["ir.module.module"].search(
        [("name", "=like", "security_billing%"), ("state", "=", "installed")]
    )
    assert not ours, f"{ours.mapped('name')} installed: the floor must run without"
    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company)
    bank = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
    )
    assert bank.default_account_id, "no bank journal with an account"
    print(
        f"base: chart {company.chart_template}, currency {company.currency_id.name},"
        f" bank journal {bank.code}",
        flush=True,
    )


def close(name):
    odoo.modules.registry.Registry.delete(name)
    odoo.sql_db.close_db(name)


def copy_db(base, name):
    drop_db(name)
    subprocess.run(["createdb", "-T", base, name], check=True)
    if os.path.isdir(config.filestore(base)):
        shutil.copytree(config.filestore(base), config.filestore(name))


def drop_db(name):
    close(name)
    # no NOTICE when it does not exist
    env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    subprocess.run(["dropdb", "--if-exists", name], check=True, env=env)
    shutil.rmtree(config.filestore(name), ignore_errors=True)


# --------------------------------------------------------------------- data
def registry_csv(count, stamp):
    rows = ["Account;PaymentID;Date;Amount;Comment"]
    for number in range(1, count + 1):
        rows.append(
            f"{ACCOUNT_BASE + number};{stamp}-{number};{PAYMENT_DATE:%d.%m.%Y};"
            "30.00;Monitoring"
        )
    return ("\r\n".join(rows) + "\r\n").encode()


def statement_line_vals(journal, count, stamp):
    """The values OCA's sheet parser gives each line (see case (a))."""
    return [
        {
            "journal_id": journal.id,
            "date": PAYMENT_DATE,
            "amount": 30.0,
            "payment_ref": "Monitoring",
            "ref": str(ACCOUNT_BASE + number),
            "narration": f"Transaction ID: {stamp}-{number}",
            "unique_import_id": f"{journal.id}-{stamp}-{number}",
            "sequence": number,
        }
        for number in range(1, count + 1)
    ]


def payment_vals(journal, partner, count, stamp):
    method_line = journal.inbound_payment_method_line_ids.filtered(
        lambda line: line.code == "manual"
    )[:1]
    assert method_line, f"no manual inbound method on {journal.code}"
    return [
        {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": partner.id,
            "amount": 30.0,
            "date": PAYMENT_DATE,
            "journal_id": journal.id,
            "payment_method_line_id": method_line.id,
            "memo": f"{stamp}-{number}",
        }
        for number in range(1, count + 1)
    ]


def make_journal(env, name, code):
    return env["account.journal"].create({"name": name, "code": code, "type": "bank"})


# -------------------------------------------------------------------- cases
def run_import(env, journal, count, stamp):
    """(a): the OCA wizard's import, as its button does."""
    mapping = env["account.statement.import.sheet.mapping"].search(
        [("name", "=", MAPPING_VALS["name"])], limit=1
    ) or env["account.statement.import.sheet.mapping"].create(MAPPING_VALS)
    wizard = (
        env["account.statement.import"]
        .with_context(journal_id=journal.id)
        .create(
            {
                "statement_filename": f"registry-{stamp}.csv",
                "statement_file": base64.b64encode(registry_csv(count, stamp)),
                "sheet_mapping_id": mapping.id,
            }
        )
    )
    result = wizard._import_file()
    statements = env["account.bank.statement"].browse(result["statement_ids"])
    return statements.line_ids


def parse_only(env, journal, count, stamp):
    """The sheet parser alone (part of (a)), for information."""
    mapping = env["account.statement.import.sheet.mapping"].create(
        dict(MAPPING_VALS, name=f"{MAPPING_VALS['name']} {stamp}")
    )
    parser = env["account.statement.import.sheet.parser"].with_context(
        journal_id=journal.id
    )
    return parser.parse(registry_csv(count, stamp), mapping, "registry.csv")


def run_import_case(env, journal, count, stamp, args):
    return run_import(env, journal, count, stamp)


def run_lines(env, journal, count, stamp, args, with_items=False):
    """(b): statement lines created in batches, nothing else.

    (d) ``with_items``: the values also give the two journal items of each
    line (``_prepare_move_line_default_vals``, what Odoo's create would write
    line by line), as security_billing_bank does for its imports."""
    model = env["account.bank.statement.line"]
    vals_list = statement_line_vals(journal, count, stamp)
    if with_items:
        vals_list = [with_journal_items(model, vals) for vals in vals_list]
    lines = model
    for start in range(0, count, args.line_batch):
        lines |= model.create(vals_list[start : start + args.line_batch])
        if start == 0:
            analyze(env, args)
    return lines


def analyze(env, args):
    """``--analyze``: refresh the planner statistics of the journal entries
    after the first batch, inside the transaction, as security_billing_bank
    does (without, Odoo's naming queries are planned for the entries of
    before the run and the run costs n^2)."""
    if args.analyze:
        env.flush_all()
        env.cr.execute("ANALYZE account_move")


def with_journal_items(model, vals):
    items = model.new(vals)._prepare_move_line_default_vals()
    for item in items:
        item.pop("move_id", None)
    return {**vals, "line_ids": [Command.create(item) for item in items]}


def run_lines_with_items(env, journal, count, stamp, args):
    return run_lines(env, journal, count, stamp, args, with_items=True)


def run_payments(env, journal, count, stamp, args):
    """(c): inbound customer payments created and posted in batches."""
    batch = args.payment_batch
    partner = env["res.partner"].search([("name", "=", "Bench payer")], limit=1)
    partner = partner or env["res.partner"].create({"name": "Bench payer"})
    model = env["account.payment"]
    vals_list = payment_vals(journal, partner, count, stamp)
    payments = model
    for start in range(0, count, batch):
        chunk = model.create(vals_list[start : start + batch])
        chunk.action_post()
        payments |= chunk
        if start == 0:
            analyze(env, args)
    return payments


def check_moves(env, moves, count):
    """``count`` posted, named entries of two journal items each."""
    env.flush_all()
    assert len(moves) == count, f"{len(moves)} entries, expected {count}"
    env.cr.execute(
        """SELECT count(*) FILTER (WHERE m.state = 'posted' AND m.name != '/'),
                  count(DISTINCT m.name),
                  (SELECT count(*) FROM account_move_line l
                    WHERE l.move_id = ANY(%s))
             FROM account_move m WHERE m.id = ANY(%s)""",
        [moves.ids, moves.ids],
    )
    posted, names, items = env.cr.fetchone()
    assert (posted, names, items) == (count, count, 2 * count), (
        posted,
        names,
        items,
    )


# ------------------------------------------------------------------- timing
def measure(cr, func):
    """Run ``func`` then commit; wall, process and backend CPU, queries."""
    backend = BackendCpu(cr)
    queries = odoo.sql_db.sql_counter
    wall, cpu, pg = time.perf_counter(), time.process_time(), backend()
    result = func()
    cr.commit()
    figures = {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "pg": backend() - pg if backend.local else None,
        "queries": odoo.sql_db.sql_counter - queries,
        "load": os.getloadavg(),
    }
    return result, figures


def run_case(case, db, args):
    stamp = f"{case.upper()}{int(time.time())}"
    lines = args.lines
    with odoo.modules.registry.Registry(db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, QUIET_CONTEXT)
        warm = make_journal(env, "Bench warm-up", "WARM")
        journal = make_journal(env, "Bench payment system", "BNCH")
        cr.commit()
        run = RUNNERS[case]

        def work(journal, count, stamp):
            return run(env, journal, count, stamp, args)

        measure(cr, lambda: work(warm, WARM_UP_LINES, f"W{stamp}"))
        env.invalidate_all()
        records, figures = measure(cr, lambda: work(journal, lines, stamp))
        check_moves(env, records.move_id, lines)
        if case == "a":
            _parsed, parse = measure(
                cr, lambda: parse_only(env, journal, lines, f"P{stamp}")
            )
            figures["parse"] = parse
    return figures


RUNNERS = {
    "a": run_import_case,
    "b": run_lines,
    "c": run_payments,
    "d": run_lines_with_items,
}


# ------------------------------------------------------------------- output
def cpu_total(figures):
    return figures["cpu"] + (figures["pg"] or 0.0)


def times_goal(seconds, count):
    return seconds * GOAL_LINES / count / GOAL_SECONDS


def print_case(case, figures, count):
    pg = figures["pg"]
    total = cpu_total(figures)
    print(
        f"({case}) {CASES[case]}, {count} lines:\n"
        f"    wall {figures['wall']:8.2f} s | cpu {figures['cpu']:8.2f} s python + "
        + (f"{pg:7.2f} s postgres" if pg is not None else "    n/a postgres")
        + f" = {total:8.2f} s | {figures['queries']} queries"
        f" ({figures['queries'] / count:.1f}/line)\n"
        f"    per line: {1000 * figures['wall'] / count:.2f} ms wall,"
        f" {1000 * total / count:.2f} ms cpu"
        f" (budget {1000 * GOAL_SECONDS / GOAL_LINES:.1f} ms)"
        f" | load {' '.join('%.1f' % x for x in figures['load'])}\n"
        f"    ({case}) alone = {times_goal(total, count):.1f}x the goal by cpu,"
        f" {times_goal(figures['wall'], count):.1f}x by wall",
        flush=True,
    )
    parse = figures.get("parse")
    if parse:
        print(
            f"    of which parsing the file (measured apart): "
            f"{1000 * cpu_total(parse) / count:.2f} ms cpu per line",
            flush=True,
        )


def print_summary(results, count):
    print()
    print(f"summary, {count} lines; goal {GOAL_LINES} lines in {GOAL_SECONDS:.0f} s")
    print(" case | wall (s) | cpu (s) | ms/line cpu | x goal (cpu) | queries")
    for case, figures in results.items():
        total = cpu_total(figures)
        print(
            f"  ({case}) | {figures['wall']:8.2f} | {total:7.2f} |"
            f" {1000 * total / count:11.2f} | {times_goal(total, count):12.1f} |"
            f" {figures['queries']}"
        )
    combined = {
        "a": "stock import plus one payment per line",
        "d": "statement lines with their items plus one payment per line",
    }
    for case, label in combined.items():
        if {case, "c"} <= results.keys():
            total = cpu_total(results[case]) + cpu_total(results["c"])
            print(
                f"  ({case})+(c), {label} (no matching, no reconciliation):"
                f" {1000 * total / count:.2f} ms cpu per line ="
                f" {times_goal(total, count):.1f}x the goal"
            )
    print(f"load average now: {' '.join('%.1f' % x for x in os.getloadavg())}")


def main():
    args = parse_args()
    config.parse_config(["--addons-path", args.odoo_addons, "--log-level", "warn"])
    base = f"{args.db_prefix}_base"
    ensure_base(base, args.odoo_addons)
    print(
        f"{args.lines} lines; batches of {args.line_batch} statement lines,"
        f" {args.payment_batch} payments; ANALYZE after the first batch:"
        f" {'yes' if args.analyze else 'no (stock)'}",
        flush=True,
    )
    results = {}
    for case in args.cases:
        db = f"{args.db_prefix}_{case}"
        copy_db(base, db)
        try:
            results[case] = run_case(case, db, args)
        finally:
            if args.keep_dbs:
                close(db)
            else:
                drop_db(db)
        print_case(case, results[case], args.lines)
    print_summary(results, args.lines)


if __name__ == "__main__":
    sys.exit(main())
