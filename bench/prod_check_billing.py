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
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_ADDONS = f"{ROOT.parent},/opt/odoo18/addons"
KILLED = re.compile(
    r"timeout after|CPU time limit|virtual memory limit|Traceback| ERROR | CRITICAL "
)


def sh(*cmd):
    subprocess.run(cmd, check=True)


def psql(db, query):
    """Rows of ``query`` on ``db`` (psql, tuples only, | separated)."""
    out = subprocess.run(
        ["psql", "-XAtq", "-F", "|", "-d", db, "-c", query],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line.split("|") for line in out.splitlines() if line]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def odoo_bin():
    """The odoo-bin script of the importable Odoo (``python -m odoo`` cannot
    spawn the gevent process of a multi-worker server), else ``odoo``."""
    import odoo

    script = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"
    return str(script) if script.exists() else shutil.which("odoo")


def start_server(args, db, port, log):
    env = dict(os.environ, ODOO_QUEUE_JOB_CHANNELS=args.channels)
    cmd = [
        sys.executable,
        odoo_bin(),
        "-d",
        db,
        f"--db-filter=^{db}$",
        f"--addons-path={args.addons_path}",
        f"--workers={args.workers}",
        "--max-cron-threads=1",
        "--load=base,web,queue_job",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        f"--gevent-port={free_port()}",
        f"--logfile={log}",
        "--log-level=info",
    ]
    print(f"starting: {' '.join(cmd[2:])}  (channels {args.channels})", flush=True)
    return subprocess.Popen(cmd, env=env, start_new_session=True)


def wait_up(url, server, deadline):
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {server.returncode})")
        try:
            xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").version()
            return
        except OSError:
            time.sleep(1)
    raise RuntimeError("the server did not answer in time")


def run_billing(args, db, url, deadline):
    """Run billing now as admin over XML-RPC; wait for the run to end."""
    common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")
    uid = common.authenticate(db, args.login, args.password, {})
    if not uid:
        raise RuntimeError(f"cannot log in as {args.login}")
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *params, **kw):
        return models.execute_kw(db, uid, args.password, model, method, params, kw)

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
    last = None
    while time.monotonic() < deadline:
        run = call("security.billing.run", "read", [run_id], fields)[0]
        progress = (run["chunk_done_count"], run["chunk_count"])
        if progress != last:
            print(
                f"  {time.monotonic() - clicked:6.1f} s: chunks {progress[0]}/"
                f"{progress[1]}, {run['invoice_count']} invoices",
                flush=True,
            )
            last = progress
        if run["state"] != "running":
            break
        time.sleep(args.poll)
    wall = time.monotonic() - clicked
    # the last chunk closes the run, then queue_job marks its job done
    while time.monotonic() < deadline and live_jobs(db, run_id) != "0":
        time.sleep(args.poll)
    return run_id, run, answered, wall


def live_jobs(db, run_id):
    return psql(
        db,
        "SELECT count(*) FROM queue_job j JOIN security_billing_run_chunk c "
        f"ON c.job_uuid = j.uuid WHERE c.run_id = {run_id} "
        "AND j.state IN ('pending', 'enqueued', 'started')",
    )[0][0]


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
    jobs = dict(
        psql(
            db,
            "SELECT j.state, count(*) FROM queue_job j "
            "JOIN security_billing_run_chunk c ON c.job_uuid = j.uuid "
            f"WHERE c.run_id = {run_id} GROUP BY 1",
        )
    )
    names = psql(
        db,
        "SELECT count(*) - count(DISTINCT (journal_id, name)) FROM account_move "
        "WHERE state = 'posted'",
    )[0][0]
    killed = [line for line in log_text.splitlines() if KILLED.search(line)]
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
        (
            "every chunk job done",
            set(jobs) == {"done"},
            ", ".join(f"{k}: {v}" for k, v in sorted(jobs.items())),
        ),
        (
            "no worker killed, no error in the log",
            not killed,
            "; ".join(killed[:5]) or "clean",
        ),
    ]


def figures(db, run_id):
    """Mean and max execution time (s) and retries of the run's jobs."""
    row = psql(
        db,
        "SELECT count(*), round(avg(j.exec_time)::numeric, 2), "
        "round(max(j.exec_time)::numeric, 2), "
        "COALESCE(sum(GREATEST(j.retry - 1, 0)), 0) "
        "FROM queue_job j JOIN security_billing_run_chunk c "
        f"ON c.job_uuid = j.uuid WHERE c.run_id = {run_id}",
    )[0]
    return dict(zip(("jobs", "mean_s", "max_s", "retries"), row, strict=True))


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
    server = None
    ok = False
    try:
        if not args.db:
            build(args, db)
        log.unlink(missing_ok=True)
        server = start_server(args, db, port, log)
        deadline = time.monotonic() + args.timeout
        wait_up(url, server, deadline)
        time.sleep(6)  # the jobrunner starts 5 s after the workers
        run_id, run, answered, wall = run_billing(args, db, url, deadline)
    finally:
        if server and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(120)
    try:
        results = checks(db, run_id, run, log.read_text(errors="replace"))
        jobs = figures(db, run_id)
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
        for name, passed, detail in results:
            print(f"  [{'ok' if passed else 'FAILED'}] {name}: {detail}")
    finally:
        if not args.keep and not args.db:
            subprocess.run(["dropdb", "--if-exists", "--force", db], check=False)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
