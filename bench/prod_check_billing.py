#!/usr/bin/env python3
"""Production check: the billing run on a real multi-worker Odoo server.

Copies an installed database (``--template-db``; or installs
security_billing without demo data), adds N subscribers with a monthly MMR
contract due today (default 20,000), then starts a real Odoo server as in
production::

    odoo --workers=2 --max-cron-threads=1 --load=base,web,queue_job
    (default limits: 60 s CPU / 120 s real per request, 2 GiB / 2.5 GiB)

with the jobrunner's channels ``root:2,root.security_billing:2``
(``--channels``). It presses *Run billing now* over XML-RPC as the admin,
waits (bounded by ``--timeout``) for the run to be *Done*, then checks:

* every due contract billed once (one posted invoice per contract and
  period, every contract moved to its next period, no run error);
* every chunk job done, none failed;
* no worker killed or over a limit: the server log has no ``timeout``,
  ``CPU time limit``, ``virtual memory limit``, ``Traceback`` or ``ERROR``.

Prints the figures: time *Run billing now* took to answer, wall time from
the click to *Done*, invoices per second, job count, mean and max job
execution time, job retries, load average. Exits 1 if a check fails.

    python3 bench/prod_check_billing.py --template-db sb_tpl --count 5000

``--db NAME`` reuses a database whose contracts are already built
(``--keep`` keeps the databases: the copy of the run's result is then
``<db>``). Talks to 127.0.0.1 only. Needs PostgreSQL client tools
(createdb, dropdb, psql) and Odoo 18 with queue_job importable.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from benchlib import (
    free_port,
    job_figures,
    jobs_check,
    log_check,
    poll_until,
    print_checks,
    psql,
    serving,
    sh,
    wait_jobs_ended,
    xmlrpc_caller,
)

ROOT = Path(__file__).resolve().parent
DEFAULT_ADDONS = f"{ROOT.parent},/opt/odoo18/addons"


def build(args, db):
    """The database: a copy of the template (or a fresh install) with N due
    contracts, built by bench_billing_run.py's build phase."""
    if args.template_db:
        print(f"copying {args.template_db} to {db} ...", flush=True)
        sh("createdb", "-T", args.template_db, db)
    else:
        print(f"installing security_billing in {db} (a few minutes) ...", flush=True)
        sh(
            sys.executable,
            "-m",
            "odoo",
            "-d",
            db,
            f"--addons-path={args.addons_path}",
            "-i",
            "security_billing",
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        )
    print(f"building {args.count} due MMR contracts ...", flush=True)
    sh(
        sys.executable,
        str(ROOT / "bench_billing_run.py"),
        "--phase",
        "build",
        "--db",
        db,
        "--count",
        str(args.count),
        "--addons-path",
        args.addons_path,
    )


def server_options(args, log):
    """Odoo's options of a production server: workers, one cron thread,
    queue_job's jobrunner, the log at INFO in ``log``."""
    return (
        f"--workers={args.workers}",
        "--max-cron-threads=1",
        "--load=base,web,queue_job",
        f"--logfile={log}",
        "--log-level=info",
    )


def run_billing(args, db, url, deadline):
    """Run billing now as admin over XML-RPC; wait for the run to end."""
    call = xmlrpc_caller(url, db, args.login, args.password)
    clicked = time.monotonic()
    action = call("security.billing.run", "action_security_run_billing_now")
    answered = time.monotonic() - clicked
    run_id = action["res_id"]
    fields = [
        "state",
        "contract_total",
        "contract_count",
        "invoice_count",
        "error_count",
        "chunk_count",
        "chunk_done_count",
    ]
    run = poll_until(
        lambda: call("security.billing.run", "read", [run_id], fields)[0],
        lambda run: run["state"] != "running",
        lambda run: (
            f"chunks {run['chunk_done_count']}/{run['chunk_count']}, "
            f"{run['invoice_count']} invoices"
        ),
        clicked,
        deadline,
        args.poll,
    )
    wall = time.monotonic() - clicked
    wait_jobs_ended(db, jobs_of(run_id), deadline, args.poll)
    return run_id, run, answered, wall


def jobs_of(run_id):
    """The FROM clause of the jobs of the run's chunks (``j``)."""
    return (
        "FROM queue_job j JOIN security_billing_run_chunk c "
        f"ON c.job_uuid = j.uuid WHERE c.run_id = {run_id}"
    )


def checks(db, run_id, run, log_text):
    """[(check, ok, detail)] on the database and the server log."""
    dup = psql(
        db,
        "SELECT count(*) FROM (SELECT l.contract_line_id, l.security_period_start "
        "FROM account_move_line l JOIN account_move m ON m.id = l.move_id "
        "WHERE m.move_type = 'out_invoice' AND m.state != 'cancel' "
        "AND l.contract_line_id IS NOT NULL "
        "GROUP BY 1, 2 HAVING count(DISTINCT m.id) > 1) d",
    )[0][0]
    posted = psql(
        db,
        "SELECT count(*), count(DISTINCT security_contract_id), "
        "count(*) FILTER (WHERE state = 'posted') FROM account_move "
        f"WHERE security_billing_run_id = {run_id}",
    )[0]
    still_due = psql(
        db,
        "SELECT count(*) FROM contract_contract c WHERE c.active "
        "AND c.recurring_next_date <= CURRENT_DATE AND EXISTS (SELECT 1 FROM "
        "contract_line l JOIN product_product p ON p.id = l.product_id "
        "JOIN product_template t ON t.id = p.product_tmpl_id "
        "WHERE l.contract_id = c.id AND t.security_is_mmr)",
    )[0][0]
    names = psql(
        db,
        "SELECT count(*) - count(DISTINCT (journal_id, name)) FROM account_move "
        "WHERE state = 'posted'",
    )[0][0]
    total = run["contract_total"]
    return [
        ("run done", run["state"] == "done", run["state"]),
        ("no run error", run["error_count"] == 0, f"{run['error_count']} errors"),
        (
            "one posted invoice per contract",
            posted == [str(total)] * 3,
            f"{posted[0]} invoices, {posted[1]} contracts, {posted[2]} posted "
            f"for {total} due",
        ),
        ("no period billed twice", dup == "0", f"{dup} periods twice"),
        ("no invoice number twice", names == "0", f"{names} duplicates"),
        ("no MMR contract still due", still_due == "0", f"{still_due} still due"),
        jobs_check(db, jobs_of(run_id), "every chunk job done"),
        log_check(log_text),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--template-db", help="installed database to copy")
    parser.add_argument("--db", help="database with the contracts already built")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--db-prefix", default="sb_prodcheck")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--channels", default="root:2,root.security_billing:2")
    parser.add_argument("--port", type=int, help="HTTP port (default: a free one)")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds")
    parser.add_argument("--addons-path", default=DEFAULT_ADDONS)
    args = parser.parse_args()

    db = args.db or f"{args.db_prefix}_{args.count}_{os.getpid()}"
    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(f"/tmp/{db}.log")
    ok = False
    if not args.db:
        build(args, db)
    log.unlink(missing_ok=True)
    deadline = time.monotonic() + args.timeout
    print(f"jobrunner channels: {args.channels}", flush=True)
    with serving(
        db,
        args.addons_path,
        port,
        *server_options(args, log),
        env=dict(os.environ, ODOO_QUEUE_JOB_CHANNELS=args.channels),
        timeout=args.timeout,
        stop_timeout=120,
    ):
        time.sleep(6)  # the jobrunner starts 5 s after the workers
        run_id, run, answered, wall = run_billing(args, db, url, deadline)
    try:
        results = checks(db, run_id, run, log.read_text(errors="replace"))
        jobs = job_figures(db, jobs_of(run_id))
        ok = all(passed for _name, passed, _detail in results)
        invoices = run["invoice_count"]
        print()
        print(f"contracts due:           {run['contract_total']}")
        print(f"workers / channels:      {args.workers} / {args.channels}")
        print(f"load (uptime):           {os.getloadavg()}")
        print(f"Run billing now answered in {answered:.2f} s")
        print(f"billing run wall time:   {wall:.1f} s (click to Done)")
        print(f"invoices:                {invoices} = {invoices / wall:.1f} invoices/s")
        print(
            f"jobs:                    {jobs['jobs']} chunks, mean {jobs['mean_s']} s,"
            f" max {jobs['max_s']} s, {jobs['retries']} retries"
        )
        print(f"server log:              {log}")
        print_checks(results)
    finally:
        if not args.keep and not args.db:
            subprocess.run(["dropdb", "--if-exists", "--force", db], check=False)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
