"""Helpers shared by the benchmark scripts of this folder: CPU time of a
PostgreSQL backend, MMR data, and real Odoo servers (start, wait, stop, their
logs, their jobs)."""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xmlrpc.client
from contextlib import contextmanager
from pathlib import Path

from odoo import Command, fields


class BackendCpu:
    """Reads the CPU time (s) of ``cr``'s PostgreSQL backend from
    /proc/<pid>/schedstat when called; 0.0, and ``local`` False, if
    PostgreSQL runs on another host."""

    def __init__(self, cr):
        cr.execute("SELECT pg_backend_pid()")
        self.path = f"/proc/{cr.fetchone()[0]}/schedstat"
        self.local = os.path.exists(self.path)

    def __call__(self):
        if not self.local:
            return 0.0
        with open(self.path) as stat:
            return int(stat.read().split()[0]) / 1e9


def make_mmr_product(env, name, price=30.0):
    """An MMR monitoring service without taxes."""
    return env["product.product"].create(
        {
            "name": name,
            "type": "service",
            "list_price": price,
            "security_is_mmr": True,
            "taxes_id": [Command.clear()],
        }
    )


def mmr_contract_vals(partner, product, date_start, line_name=None, **extra):
    """Values of a monthly pre-paid MMR contract of one line of ``product``."""
    return {
        "name": f"MMR {partner.name}",
        "partner_id": partner.id,
        "line_recurrence": False,
        "recurring_rule_type": "monthly",
        "recurring_invoicing_type": "pre-paid",
        "date_start": date_start,
        "contract_line_ids": [
            Command.create(
                {
                    "product_id": product.id,
                    "name": line_name or product.name,
                    "quantity": 1.0,
                    "price_unit": product.list_price,
                    "uom_id": product.uom_id.id,
                }
            )
        ],
        **extra,
    }


def make_billed_subscribers(env, product, name_prefix, count):
    """``count`` subscribers, each with an MMR contract of ``product`` and
    its first invoice posted today. Returns ``(partners, invoices)``."""
    partners = env["res.partner"].create(
        [
            {"name": f"{name_prefix} {index}", "security_is_subscriber": True}
            for index in range(count)
        ]
    )
    today = fields.Date.context_today(partners)
    contracts = env["contract.contract"].create(
        [
            mmr_contract_vals(partner, product, today, recurring_next_date=today)
            for partner in partners
        ]
    )
    invoices = contracts._recurring_create_invoice()
    invoices.action_post()
    return partners, invoices


# ------------------------------------------------------- SQL copies of rows
def reserve_ids(cr, table, count):
    """``count`` new ids of ``table``, taken from its sequence."""
    cr.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (table, count),
    )
    return [row[0] for row in cr.fetchall()]


def clone(cr, table, template_id, new_ids, overrides, arrays=()):
    """INSERT one copy of row ``template_id`` per id of ``new_ids``.

    ``overrides``: {column: SQL expression over ``t`` (the template row) and
    ``u`` (``u.id`` the new id, ``u.a0``.. the ``arrays`` of (SQL type,
    values) aligned with ``new_ids``)}.
    """
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
        (table,),
    )
    columns = [row[0] for row in cr.fetchall()]
    overrides = dict(overrides, id="u.id")
    select = ", ".join(overrides.get(col, f't."{col}"') for col in columns)
    names = "".join(f", a{i}" for i in range(len(arrays)))
    unnest = ", ".join(["%s::int[]"] + [f"%s::{kind}[]" for kind, _v in arrays])
    quoted = ", ".join(f'"{col}"' for col in columns)
    cr.execute(
        f'INSERT INTO "{table}" ({quoted}) SELECT {select} FROM "{table}" t, '
        f"unnest({unnest}) AS u(id{names}) WHERE t.id = %s",
        [new_ids, *(values for _kind, values in arrays), template_id],
    )


def clone_contracts(cr, contract, partners):
    """One copy of ``contract`` and of its lines for each id of ``partners``.

    :return: the ids of the new contracts, and of the new lines by the id of
        their template line
    """
    count = len(partners)
    contracts = reserve_ids(cr, "contract_contract", count)
    clone(
        cr,
        "contract_contract",
        contract.id,
        contracts,
        {
            "name": "'Bench MMR ' || u.id",
            "partner_id": "u.a0",
            "invoice_partner_id": "u.a0",
            "commercial_partner_id": "u.a0",
        },
        [("int", partners)],
    )
    lines = {}
    for line in contract.contract_line_ids:
        lines[line.id] = reserve_ids(cr, "contract_line", count)
        clone(
            cr,
            "contract_line",
            line.id,
            lines[line.id],
            {"contract_id": "u.a0"},
            [("int", contracts)],
        )
    return contracts, lines


# ------------------------------------------------------------- real servers
# a worker killed or over a limit, as Odoo's multi-worker server logs it
KILLED = re.compile(
    r"timeout after|CPU time limit|virtual memory limit|virtual real time limit"
)
# an error in a server log
LOG_ERROR = re.compile(r"Traceback| ERROR | CRITICAL ")
PROBLEM = re.compile(f"{KILLED.pattern}|{LOG_ERROR.pattern}")
# queue.job states of a job that will still run
LIVE_JOB_STATES = ("wait_dependencies", "pending", "enqueued", "started")


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
    """A port the system finds free on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def random_port(low=20000, high=29999):
    """A port picked at random in ``low``-``high`` that is free now."""
    for _attempt in range(50):
        port = random.SystemRandom().randint(low, high)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


def odoo_launcher():
    """How to start the importable Odoo: its odoo-bin script, else the
    ``odoo`` script on the PATH, else ``-m odoo``. A multi-worker server
    re-executes ``sys.argv`` for its gevent process, which ``-m odoo``
    cannot do."""
    import odoo

    script = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"
    if script.exists():
        return [str(script)]
    found = shutil.which("odoo")
    return [found] if found else ["-m", "odoo"]


def start_server(
    db, addons_path, port, *options, python=None, gevent_port=None, env=None
):
    """A real Odoo server on 127.0.0.1:``port`` serving ``db`` only, in a
    process group of its own (``stop_server``).

    :param options: more Odoo options (workers, limits, log, ``--load``)
    :param env: environment of the server (default: this one)
    """
    command = [
        python or sys.executable,
        *odoo_launcher(),
        "-d",
        db,
        f"--db-filter=^{db}$",
        f"--addons-path={addons_path}",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        f"--gevent-port={gevent_port or free_port()}",
        *options,
    ]
    print(f"starting: {' '.join(command[1:])}", flush=True)
    return subprocess.Popen(command, env=env, start_new_session=True)


def wait_up(url, server, timeout=180):
    """Wait until the server at ``url`` answers ``/web/health``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {server.returncode})")
        try:
            with urllib.request.urlopen(f"{url}/web/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not answer /web/health in time")


def stop_server(server, timeout=30):
    """Stop the server's process group: SIGTERM, then SIGKILL after
    ``timeout`` seconds."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@contextmanager
def serving(db, addons_path, port, *options, timeout=180, stop_timeout=30, **kw):
    """A server started (``start_server``) and answering; stopped at the end
    of the block, whatever happens in it."""
    server = start_server(db, addons_path, port, *options, **kw)
    try:
        wait_up(f"http://127.0.0.1:{port}", server, timeout)
        yield server
    finally:
        stop_server(server, stop_timeout)


def log_problems(log_text, pattern=PROBLEM):
    """The lines of a server log that match ``pattern`` (default: a worker
    killed or over a limit, or an error)."""
    return [line for line in log_text.splitlines() if pattern.search(line)]


def log_check(log_text):
    """The check ``(name, ok, detail)`` of a server log: no worker killed, no
    error."""
    problems = log_problems(log_text)
    return (
        "no worker killed, no error in the log",
        not problems,
        "; ".join(problems[:5]) or "clean",
    )


def print_checks(results):
    for name, passed, detail in results:
        print(f"  [{'ok' if passed else 'FAILED'}] {name}: {detail}")


def xmlrpc_caller(url, db, login, password):
    """``call(model, method, *params, **kw)`` over XML-RPC as ``login``."""
    common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")
    uid = common.authenticate(db, login, password, {})
    if not uid:
        raise RuntimeError(f"cannot log in as {login}")
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *params, **kw):
        return models.execute_kw(db, uid, password, model, method, params, kw)

    return call


def poll_until(read, done, describe, since, deadline, every):
    """Read a record (``read()``) every ``every`` seconds until ``done(it)``
    or the monotonic ``deadline``; print ``describe(it)`` with the seconds
    since ``since`` whenever it changes. Returns the last record read."""
    last = None
    while True:
        record = read()
        line = describe(record)
        if line != last:
            print(f"  {time.monotonic() - since:6.1f} s: {line}", flush=True)
            last = line
        if done(record) or time.monotonic() >= deadline:
            return record
        time.sleep(every)


# jobs: ``jobs_from`` is a FROM clause naming the jobs as ``j``, e.g.
# "FROM queue_job j JOIN ... WHERE ..."
def live_jobs(db, jobs_from):
    """How many of the jobs will still run."""
    states = ", ".join(f"'{state}'" for state in LIVE_JOB_STATES)
    return int(psql(db, f"SELECT count(*) {jobs_from} AND j.state IN ({states})")[0][0])


def wait_jobs_ended(db, jobs_from, deadline, poll):
    """Wait (until the monotonic ``deadline``) for the jobs to end: the last
    job closes its work, then queue_job marks it done."""
    while time.monotonic() < deadline and live_jobs(db, jobs_from):
        time.sleep(poll)


def jobs_check(db, jobs_from, name="every job done"):
    """The check ``(name, ok, detail)``: every job done."""
    jobs = dict(psql(db, f"SELECT j.state, count(*) {jobs_from} GROUP BY 1"))
    return (
        name,
        set(jobs) == {"done"},
        ", ".join(f"{k}: {v}" for k, v in sorted(jobs.items())),
    )


def job_figures(db, jobs_from):
    """Count, mean and max execution time (s) and retries of the jobs."""
    row = psql(
        db,
        "SELECT count(*), round(avg(j.exec_time)::numeric, 2), "
        "round(max(j.exec_time)::numeric, 2), "
        f"COALESCE(sum(GREATEST(j.retry - 1, 0)), 0) {jobs_from}",
    )[0]
    return dict(zip(("jobs", "mean_s", "max_s", "retries"), row, strict=True))
