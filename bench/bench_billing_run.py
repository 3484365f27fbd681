#!/usr/bin/env python3
"""Benchmark: stock OCA contract invoice cron versus the security billing run.

Builds N MMR contracts (one subscriber each, monthly, due today) in a
throwaway database, snapshots it twice with ``createdb -T``, then runs in a
fresh process each:

* stock: ``contract.contract.cron_recurring_create_invoice()`` (OCA), which
  creates draft invoices only, in one transaction;
* ours: the security billing run, which creates AND posts the invoices, in
  batches committed one by one.

Prints both times, the ratio, the invoices made and the resident memory of
the billing run after 1k/5k/10k... contracts (memory stays flat: batches).

    python3 bench/bench_billing_run.py --count 1000
    python3 bench/bench_billing_run.py --count 10000 --template-db sb_core3

``--template-db`` copies an existing database that has security_billing
installed (faster than installing); without it a new one is installed.
``--db NAME`` reuses a database already built by a previous run (with
``--keep``), skipping the build. Needs PostgreSQL client tools (createdb,
dropdb) and Odoo 18 importable.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADDONS = f"{ROOT},/opt/odoo18/addons"
CHECKPOINTS = (1000, 5000, 10000, 20000, 50000)


# ------------------------------------------------------------------ helpers
def sh(*cmd):
    subprocess.run(cmd, check=True)


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
    Command = odoo.Command
    started = time.perf_counter()
    with registry.cursor() as cr:
        env = odoo.api.Environment(
            cr,
            odoo.SUPERUSER_ID,
            {"tracking_disable": True, "mail_create_nolog": True},
        )
        today = odoo.fields.Date.context_today(env["res.partner"])
        product = env["product.product"].create(
            {
                "name": "Monitoring (bench)",
                "type": "service",
                "list_price": 30.0,
                "security_is_mmr": True,
                "taxes_id": [Command.clear()],
            }
        )
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
                    {
                        "name": f"MMR {partner.name}",
                        "partner_id": partner.id,
                        "line_recurrence": False,
                        "recurring_rule_type": "monthly",
                        "recurring_invoicing_type": "pre-paid",
                        "date_start": today,
                        "contract_line_ids": [
                            Command.create(
                                {
                                    "product_id": product.id,
                                    "name": "Monitoring #START# - #END#",
                                    "quantity": 1.0,
                                    "price_unit": 30.0,
                                    "uom_id": product.uom_id.id,
                                }
                            )
                        ],
                    }
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
    """The stock OCA cron (drafts only), MMR contracts included."""
    registry, odoo = odoo_env(args.db, args.addons_path)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        contracts = env["contract.contract"].with_context(
            security_billing_include_mmr=True
        )
        started = time.perf_counter()
        contracts.cron_recurring_create_invoice()
        cr.commit()
        seconds = time.perf_counter() - started
        cr.execute(
            "SELECT state, count(*) FROM account_move "
            "WHERE move_type = 'out_invoice' GROUP BY state"
        )
        states = dict(cr.fetchall())
    return {"seconds": seconds, "invoices": states, "peak_rss_mb": peak_rss_mb()}


def phase_ours(args):
    """The security billing run: create and post, batches committed."""
    registry, odoo = odoo_env(args.db, args.addons_path)
    rss_at = {}
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param(
            "security_billing.billing_run_batch_size", str(args.batch_size)
        )
        cr.commit()
        run_class = type(env["security.billing.run"])
        process_batch = run_class._security_process_batch
        done = [0]

        def measured(self, contract_ids):
            result = process_batch(self, contract_ids)
            done[0] += len(contract_ids)
            for mark in CHECKPOINTS:
                if done[0] >= mark and mark not in rss_at:
                    rss_at[mark] = round(rss_mb(), 1)
            return result

        run_class._security_process_batch = measured
        started = time.perf_counter()
        run = env["security.billing.run"]._security_start(trigger="manual")
        seconds = time.perf_counter() - started
        cr.execute(
            "SELECT state, count(*) FROM account_move "
            "WHERE move_type = 'out_invoice' GROUP BY state"
        )
        states = dict(cr.fetchall())
        errors = run.error_count
    return {
        "seconds": seconds,
        "invoices": states,
        "errors": errors,
        "rss_mb_after": rss_at,
        "peak_rss_mb": peak_rss_mb(),
    }


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
    parser.add_argument("--addons-path", default=DEFAULT_ADDONS)
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        print("RESULT " + json.dumps(PHASES[args.phase](args)), flush=True)
        return

    suffix = f"{args.count}_{os.getpid()}"
    source = args.db or f"sb_bench_src_{suffix}"
    stock_db, ours_db = f"sb_bench_stock_{suffix}", f"sb_bench_ours_{suffix}"
    try:
        if not args.db:
            build_database(args, source)
        for name in (stock_db, ours_db):
            sh("createdb", "-T", source, name)
        print("stock OCA cron (drafts only) ...", flush=True)
        stock = run_phase("stock", stock_db, args)
        print("security billing run (create and post) ...", flush=True)
        ours = run_phase("ours", ours_db, args)
    finally:
        if not args.keep:
            for name in (stock_db, ours_db) + (() if args.db else (source,)):
                dropdb(name)

    ratio = stock["seconds"] / ours["seconds"] if ours["seconds"] else 0.0
    print()
    print(f"contracts:                       {args.count}")
    print(
        f"stock OCA cron, drafts only:     {stock['seconds']:8.1f} s   "
        f"invoices {stock['invoices']}   peak RSS {stock['peak_rss_mb']:.0f} MB"
    )
    print(
        f"security billing run, posted:    {ours['seconds']:8.1f} s   "
        f"invoices {ours['invoices']}   errors {ours['errors']}   "
        f"peak RSS {ours['peak_rss_mb']:.0f} MB"
    )
    print(f"ratio stock / ours:              {ratio:8.2f}x  (goal >= 4x)")
    print(
        "billing run RSS after N contracts (MB): "
        + ", ".join(
            f"{k}: {v}"
            for k, v in sorted(ours["rss_mb_after"].items(), key=lambda kv: int(kv[0]))
        )
    )


if __name__ == "__main__":
    main()
