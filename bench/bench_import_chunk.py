"""Benchmark of the jobs of a background registry import: CPU and queries
per line of its creation jobs and of its payment jobs, and where a payment
job's time goes.

Prepares ``--lines`` subscribers with one open 30.00 invoice each (the SQL
copies of ``bench_registry_import.py``), imports a registry of one payment
per subscriber through the import wizard with the background threshold at
its default (500 lines): the wizard creates the import, its chunks of
``--chunk-size`` lines and their jobs. Then runs, in this process, every
chunk's creation job, then every chunk's payment job (the jobs' own methods,
``_create_job`` and ``_pay_job``, without commit) and prints per job kind the
CPU time (this process plus its PostgreSQL backend, from /proc: about the
idle-machine time on a shared machine) and the SQL queries, per line, over
the chunks but the first (the first creation job refreshes the planner's
statistics, the first payment job pays before they count its payments).

``--split`` profiles the payment jobs (cProfile) and prints where their time
goes: finding the subscribers, the core entry point
(``_security_register_payments``: payments created and posted, allocated to
the invoices, balance hook), the statement lines' reconciliation with their
payments (and, in it, putting the lines' entries on the subscriber), the
rest. Everything runs in one transaction that is rolled back.

Run it with each version's addons path on one database to compare them
side by side (the database's modules need no update between the two)::

    python3 bench/bench_import_chunk.py --db sb_bench \\
        --addons-path /work/main,/opt/odoo18/addons --lines 1000 [--split]

Measured on the shared 2-core machine (1,000 lines, 5 chunks of 200, means
of chunks 2-5; CPU = Odoo process + PostgreSQL backend, ms per line; runs
one after the other, alternating the versions, load 1.7-2.3)::

    job        version   CPU ms/line        queries/line  CPU ms/line from the
                                                          first payment named
    creation   main      13.3  13.5  12.7   12.33          -
               impspeed  14.4  14.9         18.37          -
    payment    main      23.2  25.5  24.3   26.01         20.8  22.6  21.7
               impspeed  17.8  19.5         22.94         15.4  16.9

The whole import on a real server (``prod_check_import.py --lines 2000``,
registry, 2 workers, one after the other, load 1.5-2.0): main 56.8 s
(35.2 lines/s), impspeed 47.4 s (42.2 lines/s).

Creating the lines with their subscriber costs the creation job (run in
parallel with the payment jobs) about 1 ms and 6 queries per line: Odoo
reads each partner's fiscal position and makes the partner a follower of
the posted entry. The payment job, which the other payment jobs of the
journal wait for from its first payment named to its commit, saves the
partner write (about 5-6 ms of 23-25 ms per line).

Where a payment job's time goes (``--split``, cProfile, chunks 2-5; the
profiler inflates the times, the shares are what matters; load 1.8-2.8)::

    main: entry point 64 % (payments create 3 %, post 47 % of which naming
    9 %, allocation to the invoices + balance hook 14 %), statement-line
    reconcile 29 % (of which the partner write 17 %), matching 0.1 %,
    locks and checks 0.1 %, mark matched 0.2 %.
    impspeed: entry point 79 % (create 4 %, post 57 % of which naming 11 %,
    allocation + balance hook 17 %), statement-line reconcile 13 % (partner
    write 0 %), matching 0.1 %, locks and checks 0.2 %, mark matched 0.2 %.

About 85-90 % of a payment job runs after its first payment is named: what
remains to shorten the serialized part is the core entry point (posting the
payments, allocating them) and Odoo's reconciliation.
"""

import argparse
import base64
import contextlib
import cProfile
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_registry_import import (
    SqlStats,
    clone_subscribers,
    make_template,
    registry_csv,
)  # noqa: E402
from benchlib import BackendCpu  # noqa: E402

import odoo  # noqa: E402
from odoo.tools import config  # noqa: E402

LINE = "account_bank_statement_line.py"
# Functions whose cumulative time is the split of a payment job, in the
# order they run: (label, function name, file name ends with).
SPLIT = [
    ("lock + matchable checks", "_security_lock", LINE),
    ("matching (lookup)", "_security_find_subscribers", LINE),
    ("checks before paying", "_security_check_payable", LINE),
    ("entry point (all)", "_security_register_payments", "account_payment.py"),
    ("  payments create+post", "_security_create_posted", "account_payment.py"),
    ("    payments create", "create", "account/models/account_payment.py"),
    ("    payments post", "action_post", "account/models/account_payment.py"),
    ("    naming the entries", "_set_next_sequence", "sequence_mixin.py"),
    ("  allocation + balance hook", "_security_allocate", "account_payment.py"),
    ("  balance hook", "_security_on_balance_changed", "res_partner_balance.py"),
    ("line reconcile (all)", "_security_reconcile_with_payments", LINE),
    ("  partner write", "_security_set_partner", LINE),
    ("_reconcile_plan (allocation + line)", "_reconcile_plan", "account_move_line.py"),
    ("mark matched", "_security_mark_matched", LINE),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", default="/work/main,/opt/odoo18/addons")
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=200)
    parser.add_argument("--split", action="store_true", help="profile the payment jobs")
    parser.add_argument(
        "--sql",
        choices=("creation", "payment"),
        help="print the query shapes of these jobs (chunks 2..n) run most",
    )
    return parser.parse_args()


class Meter:
    """CPU time (process + backend) and queries of each call, and the CPU
    time from the first entry named (``_set_next_sequence``) to the end of
    the call: the part of a payment job that another payment job of the
    journal waits for (Odoo's names are taken until the commit)."""

    def __init__(self, env):
        self.cr = env.cr
        self.pg_cpu = BackendCpu(env.cr)
        self.first_named = None
        moves = type(env["account.move"])
        set_next_sequence = moves._set_next_sequence
        meter = self

        def timed_set_next_sequence(record):
            if meter.first_named is None:
                meter.first_named = meter.cpu()
            return set_next_sequence(record)

        moves._set_next_sequence = timed_set_next_sequence

    def cpu(self):
        return time.process_time() + self.pg_cpu()

    def run(self, func, profiler=None):
        start, queries = self.cpu(), self.cr.sql_log_count
        self.first_named = None
        if profiler:
            profiler.enable()
        func()
        if profiler:
            profiler.disable()
        end = self.cpu()
        return (
            end - start,
            self.cr.sql_log_count - queries,
            end - (self.first_named or end),
        )


def start_import(env, data, chunk_size):
    journal = env["account.journal"].create(
        {"name": "Bench payment system", "code": "BNCH", "type": "bank"}
    )
    params = env["ir.config_parameter"]
    params.set_param("security_billing_bank.import_job_threshold", "500")
    params.set_param("security_billing_bank.import_chunk_size", str(chunk_size))
    wizard = (
        env["account.statement.import"]
        .with_context(journal_id=journal.id)
        .create(
            {
                "statement_filename": "registry.csv",
                "statement_file": base64.b64encode(data),
                "sheet_mapping_id": env.ref(
                    "security_billing_bank.sheet_mapping_payment_registry"
                ).id,
                "security_journal_id": journal.id,
            }
        )
    )
    result = {"statement_ids": [], "notifications": []}
    wizard.import_single_file(data, result)
    return env["security.bank.import"].browse(result["security_import_id"])


@contextlib.contextmanager
def sql_of(stats, active):
    """Count the queries in ``stats`` (a ``SqlStats``) when ``active``."""
    if not active:
        yield
        return
    with stats:
        yield


def split_of(profiler):
    """``{label: cumulative seconds}`` of SPLIT, and the profile's total."""
    stats = pstats.Stats(profiler).stats
    found = {}
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        for label, func, suffix in SPLIT:
            if name == func and filename.endswith(suffix):
                found[label] = found.get(label, 0.0) + cumulative
    total = sum(tt for _cc, _nc, tt, _ct, _callers in stats.values())
    return found, total


def main():
    args = parse_args()
    config.parse_config(
        ["-d", args.db, "--addons-path", args.addons_path, "--log-level", "warn"]
    )
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(
            cr,
            odoo.SUPERUSER_ID,
            {
                "tracking_disable": True,
                "mail_notrack": True,
                "security_billing_no_commit": True,
            },
        )
        try:
            refs = clone_subscribers(env, make_template(env), args.lines - 1)
            imp = start_import(env, registry_csv(refs), args.chunk_size)
            chunks = imp.chunk_ids.sorted("sequence")
            meter = Meter(env)
            figures = {"creation": [], "payment": []}
            sql = SqlStats()
            for index, chunk in enumerate(chunks):
                with sql_of(sql, args.sql == "creation" and index):
                    cpu, queries, named = meter.run(chunk._create_job)
                figures["creation"].append((chunk.line_count, cpu, queries, named))
            profiler = cProfile.Profile() if args.split else None
            for index, chunk in enumerate(chunks):
                with sql_of(sql, args.sql == "payment" and index):
                    cpu, queries, named = meter.run(
                        chunk._pay_job, profiler if index else None
                    )
                figures["payment"].append((chunk.line_count, cpu, queries, named))
            imp.invalidate_recordset()
            paid = sum(chunks.mapped("matched_count"))
            assert paid == args.lines, f"{paid} lines paid of {args.lines}"
        finally:
            cr.rollback()
    print(f"addons path: {args.addons_path}")
    print(f"load average: {' '.join('%.1f' % x for x in os.getloadavg())}")
    print(f"{args.lines} lines, {len(chunks)} chunks of {args.chunk_size}")
    print(
        " job       | CPU ms/line | queries/line | CPU ms/line from the first"
        " entry named (chunks 2..n)"
    )
    for kind, rows in figures.items():
        rows = rows[1:] or rows
        lines = sum(row[0] for row in rows)
        cpu = 1000 * sum(row[1] for row in rows) / lines
        queries = sum(row[2] for row in rows) / lines
        named = 1000 * sum(row[3] for row in rows) / lines
        print(f" {kind:<9} | {cpu:11.2f} | {queries:12.2f} | {named:11.2f}")
    if args.sql:
        sql.print(25)
    if profiler:
        found, total = split_of(profiler)
        lines = sum(row[0] for row in figures["payment"][1:])
        print(f"payment jobs 2..n, profiled: {1000 * total / lines:.2f} ms/line")
        for label, _func, _suffix in SPLIT:
            spent = found.get(label, 0.0)
            print(
                f"  {label:<28} {1000 * spent / lines:7.2f} ms/line "
                f"{100 * spent / total:5.1f} %"
            )


if __name__ == "__main__":
    main()
