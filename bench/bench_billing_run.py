#!/usr/bin/env python3
"""Benchmark: stock OCA contract invoice cron versus the security billing run.

Builds N MMR contracts (one subscriber each, monthly, due today) in a
throwaway database, snapshots it twice with ``createdb -T``, then runs in a
fresh process each:

* stock: ``contract.contract.cron_recurring_create_invoice()`` (OCA), which
  creates draft invoices only, in one transaction;
* ours: the security billing run, which creates AND posts the invoices, its
  chunks run one after the other in the process, each committed.

Prints for each: wall time, CPU time of the Python process and of its
PostgreSQL backend (/proc/<pid>/schedstat, 0 if PostgreSQL is remote) and SQL
queries; the billing run per invoice; the ratios stock / ours (wall, and CPU
process + PostgreSQL); the load average (the machine is shared: compare CPU
figures); the invoices made and the resident memory of the billing run after
1k/5k/10k... contracts (memory stays flat: batches).

    python3 bench/bench_billing_run.py --count 1000 --template-db sb_tpl \
        --db-prefix sb_me --keep
    python3 bench/bench_billing_run.py --count 1000 --db sb_me_src_1000_<pid> \
        --db-prefix sb_me --phases ours --profile /tmp/billing

``--template-db`` copies an existing database that has security_billing
installed (faster than installing); without it a new one is installed.
``--db NAME`` reuses a database already built by a previous run (with
``--keep``), skipping the build. ``--db-prefix`` names the databases created
(``<prefix>_src|stock|ours_<count>_<pid>``; default ``sb_bench``).
``--phases stock`` or ``ours`` runs one side only; ``jobs`` adds the billing
run as queue_job chunk jobs on a real server (``--workers=2``, jobrunner
channels ``root:1`` then ``root:2``, through prod_check_billing.py), and prints
1 vs 2 job workers against the stock cron; ``--profile PATH`` writes a
cProfile of each phase to ``PATH.stock`` / ``PATH.ours`` (slows it down a
lot: use it for proportions, not times). ``--addons-path`` can point at
another checkout to measure the code before a change on the same data.
Needs PostgreSQL client tools (createdb, dropdb) and Odoo 18 importable.
"""

import argparse
import contextlib
import cProfile
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchlib import BackendCpu, make_mmr_product, mmr_contract_vals, sh

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADDONS = f"{ROOT},/opt/odoo18/addons"
CHECKPOINTS = (1000, 5000, 10000, 20000, 50000)


# ------------------------------------------------------------------ helpers
def invoice_states(cr):
    """Customer invoices by state: ``{state: count}``."""
    cr.execute(
        "SELECT state, count(*) FROM account_move "
        "WHERE move_type = 'out_invoice' GROUP BY state"
    )
    return dict(cr.fetchall())


def dropdb(name):
    subprocess.run(["dropdb", "--if-exists", name], check=True)


def rss_mb():
    """Current resident set size of this process, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Meter:
    """Wall time, CPU of this process and of its PostgreSQL backend, and SQL
    queries of one cursor, from ``start()`` to ``stop()``."""

    def __init__(self, cr):
        self.cr = cr
        self.pg_cpu = BackendCpu(cr)

    def start(self):
        self.values = (
            time.perf_counter(),
            time.process_time(),
            self.pg_cpu(),
            self.cr.sql_log_count,
        )

    def stop(self):
        wall, cpu, pg_cpu, queries = self.values
        return {
            "seconds": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu,
            "pg_cpu": self.pg_cpu() - pg_cpu,
            "queries": self.cr.sql_log_count - queries,
        }


def odoo_env(db, addons_path):
    """(registry, odoo module) of ``db``, configured quietly."""
    import odoo
    from odoo.tools import config

    config.parse_config([f"--addons-path={addons_path}", "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    return registry, odoo


def run_phase(phase, db, args):
    """Run one phase in a fresh Python process; return its JSON result."""
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--db",
        db,
        "--count",
        str(args.count),
        "--addons-path",
        args.addons_path,
        "--batch-size",
        str(args.batch_size),
    ]
    if args.profile:
        cmd += ["--profile", args.profile]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    sys.stderr.write(out.stdout + out.stderr)
    raise RuntimeError(f"phase {phase} printed no result")


# ------------------------------------------------------------------- phases
def phase_build(args):
    """Create N subscribers with a monthly MMR contract due today."""
    registry, odoo = odoo_env(args.db, args.addons_path)
    started = time.perf_counter()
    with registry.cursor() as cr:
        env = odoo.api.Environment(
            cr,
            odoo.SUPERUSER_ID,
            {"tracking_disable": True, "mail_create_nolog": True},
        )
        today = odoo.fields.Date.context_today(env["res.partner"])
        product = make_mmr_product(env, "Monitoring (bench)")
        chunk = 500
        for start in range(0, args.count, chunk):
            size = min(chunk, args.count - start)
            partners = env["res.partner"].create(
                [
                    {"name": f"Bench {start + i}", "security_is_subscriber": True}
                    for i in range(size)
                ]
            )
            env["contract.contract"].create(
                [
                    mmr_contract_vals(
                        partner, product, today, line_name="Monitoring #START# - #END#"
                    )
                    for partner in partners
                ]
            )
            cr.commit()
            env.invalidate_all()
        count = env["contract.contract"].search_count(
            [("security_is_mmr", "=", True), ("recurring_next_date", "<=", today)]
        )
    return {"contracts": count, "seconds": time.perf_counter() - started}


def phase_stock(args):
    """What the stock OCA cron does (drafts only) on the due MMR contracts,
    which the cron itself leaves to the billing run: OCA's invoice creation
    of each company's contracts, as ``_cron_recurring_create`` calls it."""
    registry, odoo = odoo_env(args.db, args.addons_path)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        Contract = env["contract.contract"]
        today = odoo.fields.Date.context_today(Contract)
        meter = Meter(cr)
        meter.start()
        with profiled(args, "stock"):
            contracts = Contract.search(Contract._security_billing_run_domain(today))
            for company, company_contracts in contracts.grouped("company_id").items():
                company_contracts.filtered(
                    lambda c: not c.date_end or c.recurring_next_date <= c.date_end
                ).with_company(company)._recurring_create_invoice(today)
        cr.commit()
        measured = meter.stop()
        states = invoice_states(cr)
    return dict(measured, invoices=states, peak_rss_mb=peak_rss_mb())


def phase_ours(args):
    """The security billing run: create and post, its chunks run one after
    the other in this process (``queue_job__no_delay``), each committed."""
    registry, odoo = odoo_env(args.db, args.addons_path)
    rss_at = {}
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param(
            "security_billing.billing_run_batch_size", str(args.batch_size)
        )
        cr.commit()
        chunk_class = type(env["security.billing.run.chunk"])
        bill_range = chunk_class._bill_range
        done = [0]

        def measured(self):
            result = bill_range(self)
            done[0] += self.contract_total
            for mark in CHECKPOINTS:
                if done[0] >= mark and mark not in rss_at:
                    rss_at[mark] = round(rss_mb(), 1)
            return result

        chunk_class._bill_range = measured
        meter = Meter(cr)
        meter.start()
        with profiled(args, "ours"):
            run = (
                env["security.billing.run"]
                .with_context(queue_job__no_delay=True)
                ._start(trigger="manual")
            )
        cr.commit()
        measured = meter.stop()
        states = invoice_states(cr)
        run.invalidate_recordset()
        errors = run.error_count
        created = run.invoice_count
    return dict(
        measured,
        invoices=states,
        errors=errors,
        created=created,
        rss_mb_after=rss_at,
        peak_rss_mb=peak_rss_mb(),
    )


def run_jobs(db, args, channels):
    """The billing run on a real server (prod_check_billing.py) whose
    jobrunner has ``channels``; returns (wall seconds, invoices)."""
    out = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("prod_check_billing.py")),
            "--db",
            db,
            "--channels",
            channels,
            "--addons-path",
            args.addons_path,
        ],
        capture_output=True,
        text=True,
    )
    sys.stdout.write(out.stdout)
    wall = re.search(r"wall time:\s+([\d.]+) s", out.stdout)
    invoices = re.search(r"invoices:\s+(\d+) =", out.stdout)
    if out.returncode or not (wall and invoices):
        sys.stderr.write(out.stderr[-3000:])
        raise RuntimeError(f"the jobs run ({channels}) failed its checks")
    return {"seconds": float(wall.group(1)), "created": int(invoices.group(1))}


@contextlib.contextmanager
def profiled(args, phase):
    """cProfile (CPU time) of the block into ``<--profile>.<phase>`` if asked."""
    if not args.profile:
        yield
        return
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(f"{args.profile}.{phase}")


PHASES = {"build": phase_build, "stock": phase_stock, "ours": phase_ours}


# --------------------------------------------------------------------- main
def build_database(args, name):
    if args.template_db:
        print(f"copying {args.template_db} to {name} ...", flush=True)
        sh("createdb", "-T", args.template_db, name)
    else:
        print(f"installing security_billing in {name} (a few minutes) ...")
        sh(
            sys.executable,
            "-m",
            "odoo",
            "-d",
            name,
            f"--addons-path={args.addons_path}",
            "-i",
            "security_billing",
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        )
    built = run_phase("build", name, args)
    print(
        f"built {built['contracts']} due MMR contracts in {built['seconds']:.1f} s",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--template-db", help="installed database to copy")
    parser.add_argument("--db", help="database with the contracts already built")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument(
        "--db-prefix",
        default="sb_bench",
        help="prefix of the databases created (default sb_bench)",
    )
    parser.add_argument(
        "--phases",
        default="stock,ours",
        help="phases to run, comma-separated: stock, ours, jobs (1 and 2 job "
        "workers on a real server) (default stock,ours)",
    )
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="cProfile (CPU time) of each phase into PATH.stock / PATH.ours",
    )
    parser.add_argument("--addons-path", default=DEFAULT_ADDONS)
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        print("RESULT " + json.dumps(PHASES[args.phase](args)), flush=True)
        return

    suffix = f"{args.count}_{os.getpid()}"
    prefix = args.db_prefix
    source = args.db or f"{prefix}_src_{suffix}"
    phases = args.phases.split(",")
    dbs = {
        phase: f"{prefix}_{phase}_{suffix}"
        for phase in ("stock", "ours", "jobs1", "jobs2")
        if phase in phases or (phase.startswith("jobs") and "jobs" in phases)
    }
    results = {}
    try:
        if not args.db:
            build_database(args, source)
        for name in dbs.values():
            sh("createdb", "-T", source, name)
        if "stock" in dbs:
            print("stock OCA cron (drafts only) ...", flush=True)
            results["stock"] = run_phase("stock", dbs["stock"], args)
        if "ours" in dbs:
            print("security billing run, chunks in this process ...", flush=True)
            results["ours"] = run_phase("ours", dbs["ours"], args)
        for phase, channels in (
            ("jobs1", "root:1,root.security_billing:1"),
            ("jobs2", "root:2,root.security_billing:2"),
        ):
            if phase in dbs:
                print(f"billing run as jobs, server --workers=2, {channels} ...")
                results[phase] = run_jobs(dbs[phase], args, channels)
    finally:
        if not args.keep:
            for name in list(dbs.values()) + ([] if args.db else [source]):
                dropdb(name)
    report(args, results.get("stock"), results.get("ours"))
    report_jobs(results)


def report_jobs(results):
    stock = results.get("stock")
    for phase, label in (("jobs1", "1 job worker"), ("jobs2", "2 job workers")):
        jobs = results.get(phase)
        if not jobs:
            continue
        line = (
            f"billing run, {label}:     {jobs['seconds']:8.1f} s wall  "
            f"{jobs['created'] / jobs['seconds']:.1f} invoices/s"
        )
        if stock:
            line += f"   stock / this: {stock['seconds'] / jobs['seconds']:.2f}x wall"
        print(line + ("  (goal >= 4x)" if phase == "jobs2" and stock else ""))
    if results.get("jobs1") and results.get("jobs2"):
        speedup = results["jobs1"]["seconds"] / results["jobs2"]["seconds"]
        print(f"2 job workers / 1:               {speedup:.2f}x wall")


def describe(result):
    """Wall, CPU and queries of a phase, as printed."""
    return (
        f"{result['seconds']:8.1f} s wall  {result['cpu']:6.1f} s CPU "
        f"+ {result['pg_cpu']:5.1f} s PG CPU  {result['queries']} queries"
    )


def report(args, stock, ours):
    print()
    print(f"contracts:                       {args.count}")
    print(f"load (uptime):                   {os.getloadavg()}")
    if stock:
        print(
            f"stock OCA cron, drafts only:     {describe(stock)}   "
            f"invoices {stock['invoices']}   peak RSS {stock['peak_rss_mb']:.0f} MB"
        )
    if ours:
        invoices = ours["created"] or 1  # made by the run (not pre-existing)
        print(
            f"security billing run, posted:    {describe(ours)}   "
            f"invoices {ours['invoices']}   errors {ours['errors']}   "
            f"peak RSS {ours['peak_rss_mb']:.0f} MB"
        )
        print(
            f"billing run per invoice:         {1000 * ours['seconds'] / invoices:.1f}"
            f" ms wall, {1000 * ours['cpu'] / invoices:.1f} ms CPU, "
            f"{1000 * ours['pg_cpu'] / invoices:.1f} ms PG CPU, "
            f"{ours['queries'] / invoices:.1f} queries"
        )
        print(
            "billing run RSS after N contracts (MB): "
            + ", ".join(
                f"{k}: {v}"
                for k, v in sorted(
                    ours["rss_mb_after"].items(), key=lambda kv: int(kv[0])
                )
            )
        )
    if stock and ours:
        ratio = stock["seconds"] / ours["seconds"] if ours["seconds"] else 0.0
        cpu_ratio = (stock["cpu"] + stock["pg_cpu"]) / (
            (ours["cpu"] + ours["pg_cpu"]) or 1
        )
        print(
            f"ratio stock / ours:              {ratio:8.2f}x wall, "
            f"{cpu_ratio:.2f}x CPU (process + PG)  (goal >= 4x)"
        )


if __name__ == "__main__":
    main()
