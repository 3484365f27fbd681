"""CPU cost of the terminal check and pay, robust against load.

In one process with the Odoo registry: commits a terminal provider and
``--subscribers`` subscribers with an open MMR invoice each, then runs
``--calls`` ``check``, ``pay`` and replayed ``pay`` calls of the provider's
protocol methods (what the controller calls, without HTTP), each in its own
committed transaction, and prints per call: CPU time of this Python process
(``time.process_time``) and of its PostgreSQL backend (/proc/<pid>/schedstat),
wall time and SQL queries. ``auth`` is the controller's password check;
``core`` is Odoo's own Register Payment of one invoice (create, post,
reconcile; none of our code): the floor of a pay that posts at once. It then
prints what that floor allows by Little's law for 20 clients on 2 cores.

On a machine shared with other jobs the wall time depends on their load; the
CPU times are what a request costs, so compare versions of the code by them
(alternate runs: they still vary by 10-20 % under load).

``--profile`` adds a cProfile (CPU time) of ``--profile-command``;
``--queries`` its SQL by backend CPU; ``--http N`` also starts a real server
(2 workers, as bench_terminal.py) and sends N checks then N pays from one
client, printing the CPU time of the server processes and of their
PostgreSQL backends per request (HTTP layer included).

Measured (branch paypath against main, alternate runs on one database,
``--calls 50 --subscribers 1000``, load average 2.4-4.8 from other jobs): a
pay costs 117 queries instead of 124 and a check 16 instead of 18 (the
entry without draft number: no sequence lookup; the provider and the
subscriber fetched with their search; the terminal record's computed
fields before its insert). CPU per pay (process + PostgreSQL backend):
main 101, 96, 96 ms, paypath 88, 92, 104 ms, i.e. 0.88, 0.91, 0.85 of Odoo's
own Register Payment in the same run (``core``) on main against 0.86, 0.87,
0.84 on paypath: the difference is within the noise. What our code adds
to a pay is small (about 5 of 55 ms of process CPU: lookups, lock, claims,
balance hook, terminal record); the rest is Odoo creating, posting and
reconciling the payment (``account.move.create`` 16 ms, ``_post`` 9 ms,
``_reconcile_plan`` 11 ms; over the whole pay about 7 ms merge trigger
trees in ``Registry.get_trigger_tree``, 24 calls). ``auth`` costs 1.5 ms:
the password hash is verified once per process and password
(``_osmp_password_matches``).

Usage::

    python3 bench/profile_payment_path.py --db sb_perf \\
        [--addons-path /work/main,/opt/odoo18/addons] [--calls 50] \\
        [--subscribers 60] [--profile] [--top 40] [--queries] [--http 40]
"""

import argparse
import cProfile
import io
import os
import pstats
import secrets
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    BackendCpu,
    make_billed_subscribers,
    make_mmr_product,
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sb_perf")
    parser.add_argument("--addons-path", default=None)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--subscribers", type=int, default=60)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--profile-command", choices=("check", "pay"), default="pay", help="profiled"
    )
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--profile-out", help="also dump the pstats to this file")
    parser.add_argument(
        "--queries", action="store_true", help="SQL of the profiled command"
    )
    parser.add_argument("--http", type=int, default=0, metavar="N")
    args = parser.parse_args()
    if not args.addons_path:
        import bench_terminal

        args.addons_path = f"{ROOT},{bench_terminal.default_odoo_addons()}"
    return args


def prepare(env, subscribers):
    """A provider and subscribers with one posted MMR invoice each."""
    code = f"prof-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(24)
    company = env.ref("base.main_company")
    journal = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
    )
    env["security.terminal.provider"].create(
        {
            "name": f"Profile {code}",
            "code": code,
            "journal_id": journal.id,
            "allowed_networks": "127.0.0.1/32",
            "login": "prof",
            "password": password,
        }
    )
    product = make_mmr_product(env, f"Monitoring {code}")
    partners, invoices = make_billed_subscribers(
        env, product, f"Profile {code}", subscribers
    )
    return code, password, partners.mapped("security_account_ref"), invoices.ids


class QueryTimer:
    """Wall and PostgreSQL backend CPU time per SQL text (``--queries``)."""

    def __init__(self):
        self.enabled = False
        self.totals = {}
        self.readers = {}

    def install(self):
        from odoo import sql_db

        original = sql_db.Cursor.execute
        timer = self

        def execute(cr, query, params=None, log_exceptions=True):
            if not timer.enabled:
                return original(cr, query, params, log_exceptions)
            read = timer.readers.get(id(cr))
            started, started_pg = time.perf_counter(), read() if read else 0.0
            try:
                return original(cr, query, params, log_exceptions)
            finally:
                key = " ".join(str(query).split())[:300]
                count, wall, pg = timer.totals.get(key, (0, 0.0, 0.0))
                timer.totals[key] = (
                    count + 1,
                    wall + time.perf_counter() - started,
                    pg + (read() - started_pg if read else 0.0),
                )

        sql_db.Cursor.execute = execute

    def report(self, calls, top=30):
        rows = sorted(self.totals.items(), key=lambda item: -item[1][2])[:top]
        print(
            "\nSQL of the profiled command by backend CPU (per call: count, pg ms,"
            " wall ms)"
        )
        for key, (count, wall, pg) in rows:
            per_call = (count / calls, 1000 * pg / calls, 1000 * wall / calls)
            print("%5.1f %6.2f %6.2f  %s" % (*per_call, key))


class Counter:
    """SQL queries of a cursor, from its ``sql_log_count``."""

    def __init__(self, cr):
        self.cr = cr
        self.start = cr.sql_log_count

    def count(self):
        return self.cr.sql_log_count - self.start


def run_calls(registry, code, kind, params_list, profiler=None, timer=None):
    """One committed transaction per call, like a request; returns figures."""
    from odoo import SUPERUSER_ID, api

    cpu, wall, queries, pg_cpu = [], [], [], []
    for params in params_list:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            read_pg_cpu = BackendCpu(cr)
            if timer:
                timer.readers = {id(cr): read_pg_cpu}
            started_pg = read_pg_cpu()
            started_cpu, started = time.process_time(), time.perf_counter()
            counter = Counter(cr)
            if profiler:
                profiler.enable()
            if timer:
                timer.enabled = True
            provider = env["security.terminal.provider"]._osmp_get_provider(code)
            if kind == "core":
                answer = core_register_payment(env, params)
            elif kind == "auth":
                ok = provider._osmp_credentials_ok(*params)
                answer = {"result": 0 if ok else 401}
            elif kind == "check":
                answer = provider._osmp_check(params)
            else:
                answer = provider._osmp_pay(params)
            cr.commit()  # flush and precommit hooks (mail tracking) included
            if profiler:
                profiler.disable()
            if timer:
                timer.enabled = False
            queries.append(counter.count())
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started)
            pg_cpu.append(read_pg_cpu() - started_pg)
        if answer["result"] != 0:
            raise RuntimeError(f"{kind} {params}: {answer}")
    return cpu, wall, queries, pg_cpu


def core_register_payment(env, invoice_id):
    """Odoo's own "Register Payment" of 10.00 on one open invoice: payment
    created, posted and reconciled, none of our code on the way. The floor
    of any pay that posts and reconciles at once."""
    wizard = (
        env["account.payment.register"]
        .with_context(active_model="account.move", active_ids=[invoice_id])
        .create({"amount": 10.0})
    )
    payment = wizard._create_payments()
    return {"result": 0 if payment.state in ("paid", "in_process") else 1}


def line(kind, cpu, wall, queries, pg_cpu):
    return (
        f"{kind:7} {len(cpu):4d}  cpu p50 {1000 * statistics.median(cpu):6.1f} ms"
        f"  mean {1000 * statistics.mean(cpu):6.1f} ms"
        f"  pg mean {1000 * statistics.mean(pg_cpu):5.1f} ms"
        f"  wall p50 {1000 * statistics.median(wall):6.1f} ms"
        f"  queries p50 {statistics.median(queries):5.0f}"
        f" max {max(queries):4d}"
    )


def print_floor(results, clients=20, cores=2, goal=0.1):
    """What Little's law allows: clients that send their next request as soon
    as they have an answer wait on average clients / throughput, and the
    throughput of ``cores`` busy cores is cores / CPU per request."""

    def cpu(kind):
        figures = results[kind]
        return statistics.mean(figures[0]) + statistics.mean(figures[3])

    budget = 1000 * cores * goal / clients
    for label, pay in (
        ("our pay", cpu("pay")),
        ("Odoo's Register Payment", cpu("core")),
    ):
        per_request = (cpu("check") + pay) / 2  # each payment = check + pay
        throughput = cores / per_request
        print(
            f"floor with {label} ({1000 * pay:.1f} ms CPU incl. PG), check + pay"
            f" mix, {cores} cores: <= {throughput:.0f} req/s, {clients} clients"
            f" wait >= {1000 * clients / throughput:.0f} ms on average"
            f" (goal p99 {1000 * goal:.0f} ms needs <= {budget:.0f} ms CPU"
            " per request)"
        )


# ---------------------------------------------------------------- real server
def process_cpu(pids):
    """CPU seconds of these processes (all threads), from schedstat."""
    total = 0
    for pid in pids:
        for path in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                total += int(path.read_text().split()[0])
            except OSError:
                continue
    return total / 1e9


def group_pids(pgid):
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


def backend_pids(db):
    import psycopg2

    with psycopg2.connect(dbname=db) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = %s AND pid != pg_backend_pid()",
            [db],
        )
        return [row[0] for row in cr.fetchall()]


def http_cpu(args, registry):
    """CPU per request of a real server (workers + their PG backends)."""
    import base64

    import bench_terminal
    import requests

    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        code, password, refs, _invoices = prepare(env, args.subscribers)
    options = argparse.Namespace(
        db=args.db,
        addons_path=args.addons_path,
        workers=2,
        python=sys.executable,
    )
    port = bench_terminal.free_port()
    server = bench_terminal.start_server(options, port)
    try:
        bench_terminal.wait_ready(port, server)
        url = f"http://127.0.0.1:{port}/security_billing/terminal/{code}"
        session = requests.Session()
        token = base64.b64encode(f"prof:{password}".encode()).decode()
        session.headers["Authorization"] = f"Basic {token}"
        txn = [int(time.time()) * 1000 + 5 * 10**6]
        now = datetime.now().strftime("%Y%m%d%H%M%S")

        def call(command, index):
            txn[0] += 1
            params = {"command": command, "txn_id": str(txn[0]), "sum": "10.00"}
            params["account"] = refs[index % len(refs)]
            if command == "pay":
                params["txn_date"] = now
            started = time.perf_counter()
            response = session.get(url, params=params, timeout=60)
            if b"<result>0</result>" not in response.content:
                raise RuntimeError(f"{command}: {response.content!r}")
            return time.perf_counter() - started

        for index in range(8):  # both workers load their registry
            call("check", index)
            call("pay", index)
        server_pids = group_pids(server.pid)
        print(f"\nreal server, 2 workers, 1 client, {args.http} requests each")
        for command in ("check", "pay"):
            pg_pids = backend_pids(args.db)
            cpu, pg_cpu = process_cpu(server_pids), process_cpu(pg_pids)
            walls = [call(command, 8 + index) for index in range(args.http)]
            cpu = process_cpu(server_pids) - cpu
            pg_pids += [pid for pid in backend_pids(args.db) if pid not in pg_pids]
            pg_cpu = process_cpu(pg_pids) - pg_cpu
            print(
                f"{command:7} server cpu {1000 * cpu / args.http:6.1f} ms"
                f"  pg cpu {1000 * pg_cpu / args.http:6.1f} ms"
                f"  wall p50 {1000 * statistics.median(walls):6.1f} ms"
                f"  (load {os.getloadavg()[0]:.1f})"
            )
    finally:
        bench_terminal.stop_server(server)


def main():
    args = parse_args()

    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-d", args.db, f"--addons-path={args.addons_path}"])
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        code, password, refs, invoices = prepare(env, args.subscribers)
    txn = int(time.time()) * 1000
    now = datetime.now().strftime("%Y%m%d%H%M%S")

    def pay_params(index):
        return {
            "command": "pay",
            "txn_id": str(txn + index),
            "account": refs[index % len(refs)],
            "sum": "10.00",
            "txn_date": now,
        }

    checks = [
        {
            "command": "check",
            "txn_id": str(txn + 10**6 + i),
            "account": refs[i % len(refs)],
            "sum": "10.00",
        }
        for i in range(args.calls)
    ]
    pays = [pay_params(i) for i in range(args.calls)]
    # warm-up: caches (ormcache, prefetch of metadata) as in a running worker
    run_calls(registry, code, "check", checks[:3])
    run_calls(registry, code, "pay", [pay_params(10**6 + i) for i in range(3)])
    # CPU time of this process: the waits for PostgreSQL and other load do not count
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    timer = QueryTimer() if args.queries else None
    if timer:
        timer.install()
    profiled = {args.profile_command: (profiler, timer)}
    results = {
        "auth": run_calls(registry, code, "auth", [("prof", password)] * 10),
        "check": run_calls(registry, code, "check", checks, *profiled.get("check", ())),
        "pay": run_calls(registry, code, "pay", pays, *profiled.get("pay", ())),
        "replay": run_calls(registry, code, "replay", pays),
        "core": run_calls(
            registry,
            code,
            "core",
            [invoices[i % len(invoices)] for i in range(args.calls)],
        ),
    }
    print(f"\n{args.calls} calls per command, {args.subscribers} subscribers")
    for kind, figures in results.items():
        print(line(kind, *figures))
    print_floor(results)
    if timer:
        timer.report(args.calls)
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(args.top)
        if args.profile_out:
            stats.dump_stats(args.profile_out)
        print(out.getvalue())
    if args.http:
        http_cpu(args, registry)
    return 0


if __name__ == "__main__":
    sys.exit(main())
