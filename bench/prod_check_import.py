#!/usr/bin/env python3
"""Production check: a big statement or registry import on a real
multi-worker Odoo server, through the import wizard over XML-RPC.

Copies an installed database (``--template-db``, with security_billing_bank),
adds N subscribers with one open 30.00 MMR invoice each (the SQL copies of
``bench_registry_import.py``), commits, then starts a real Odoo server as in
production::

    odoo --workers=2 --max-cron-threads=1 --load=base,web,queue_job
    (default limits: 60 s CPU / 120 s real per request)

with the jobrunner's channels ``--channels``. As the admin, over XML-RPC, it
uploads a file of N payments (one 30.00 payment per subscriber) to the
import wizard: a payment registry (``--format registry``, CSV) or a 1C
statement (``--format 1c``, 1CClientBankExchange in Windows-1251, purpose
``Оплата по л/с <number>``); waits (bounded by ``--timeout``) for the
background import to be *Done*, then checks:

* the wizard answered within the request limits, with the import started;
* every line imported once, matched and paid once (one payment per line,
  no external id twice), every bench invoice paid, the statement complete;
* every job of the import done, none failed;
* no worker killed or over a limit: the server log has no ``timeout``,
  ``CPU time limit``, ``virtual memory limit``, ``Traceback`` or ``ERROR``.

Prints the figures: the wizard's answer time, wall time from the upload to
the last payment (the import *Done*), lines per second, job count, mean and
max job time, retries, load average. Exits 1 if a check fails.

    python3 bench/prod_check_import.py --template-db sb_tpl --lines 10000
    python3 bench/prod_check_import.py --template-db sb_tpl --lines 5000 --format 1c

Talks to 127.0.0.1 only. Needs PostgreSQL client tools (createdb, dropdb,
psql) and Odoo 18 with queue_job importable.
"""

import argparse
import base64
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from benchlib import (
    job_figures,
    jobs_check,
    log_check,
    poll_until,
    print_checks,
    psql,
    random_port,
    serving,
    sh,
    wait_jobs_ended,
    xmlrpc_caller,
)
from prod_check_billing import DEFAULT_ADDONS, server_options

OUR_ACCOUNT = "40702810900000000001"
PAYMENT_DATE = date(2025, 3, 3)
CHANNELS = "root:2,root.security_billing:2,root.security_billing.bank:2"


# -------------------------------------------------------------------- build
def build(args, db):
    """The database: a copy of the template with N subscribers owing one
    30.00 invoice each, and the journals of the file; returns the numbers of
    the subscribers."""
    print(f"copying {args.template_db} to {db} ...", flush=True)
    sh("createdb", "-T", args.template_db, db)
    from bench_registry_import import clone_subscribers, make_template

    import odoo
    from odoo.tools import config

    config.parse_config(
        ["-d", db, "--addons-path", args.addons_path, "--log-level", "warn"]
    )
    registry = odoo.modules.registry.Registry(db)
    start = time.monotonic()
    with registry.cursor() as cr:
        env = odoo.api.Environment(
            cr, odoo.SUPERUSER_ID, {"tracking_disable": True, "mail_notrack": True}
        )
        refs = clone_subscribers(env, make_template(env), args.lines - 1)
        company = env.company
        bank_account = env["res.partner.bank"].create(
            {"acc_number": OUR_ACCOUNT, "partner_id": company.partner_id.id}
        )
        env["account.journal"].create(
            {
                "name": "Prod check bank",
                "code": "PC1C",
                "type": "bank",
                "bank_account_id": bank_account.id,
            }
        )
        env["account.journal"].create(
            {"name": "Prod check payment system", "code": "PCRG", "type": "bank"}
        )
        # the crons wait (the dunning cron over N new subscribers is not
        # what this checks)
        cr.execute("UPDATE ir_cron SET nextcall = now() + interval '1 day'")
        cr.commit()
    odoo.sql_db.close_all()
    print(
        f"{args.lines} subscribers with an open invoice built in "
        f"{time.monotonic() - start:.0f} s",
        flush=True,
    )
    return refs


def registry_file(refs, stamp):
    rows = ["Account;PaymentID;Date;Amount;Comment"]
    for number, ref in enumerate(refs, start=1):
        rows.append(
            f"{ref};PC-{stamp}-{number};{PAYMENT_DATE:%d.%m.%Y};30.00;Monitoring"
        )
    return ("\r\n".join(rows) + "\r\n").encode()


def one_c_file(refs, stamp):
    """A 1CClientBankExchange statement: one incoming 30.00 payment per
    subscriber, the number in the purpose."""
    day = f"{PAYMENT_DATE:%d.%m.%Y}"
    total = 30 * len(refs)
    rows = [
        "1CClientBankExchange",
        "ВерсияФормата=1.03",
        "Кодировка=Windows",
        "Отправитель=Бухгалтерия предприятия",
        "Получатель=",
        f"ДатаСоздания={day}",
        "ВремяСоздания=09:15:42",
        f"ДатаНачала={day}",
        f"ДатаКонца={day}",
        f"РасчСчет={OUR_ACCOUNT}",
        "Документ=Платежное поручение",
        "СекцияРасчСчет",
        f"ДатаНачала={day}",
        f"ДатаКонца={day}",
        f"РасчСчет={OUR_ACCOUNT}",
        "НачальныйОстаток=1000.00",
        f"ВсегоПоступило={total}.00",
        "ВсегоСписано=0.00",
        f"КонечныйОстаток={1000 + total}.00",
        "КонецРасчСчет",
    ]
    for number, ref in enumerate(refs, start=1):
        rows += [
            "СекцияДокумент=Платежное поручение",
            f"Номер={stamp % 100000}{number}",
            f"Дата={day}",
            "Сумма=30.00",
            f"ПлательщикСчет=40817810500{number:09d}",
            f"Плательщик=Абонент {ref}",
            f"Плательщик1=Абонент {ref}",
            "ПлательщикБИК=044525225",
            "ПлательщикБанк1=ПАО Сбербанк",
            f"ПолучательСчет={OUR_ACCOUNT}",
            'Получатель=ООО "Щит-Охрана"',
            "ПолучательИНН=7705000001",
            "ПолучательБИК=044525225",
            "ВидОплаты=01",
            "Очередность=5",
            f"НазначениеПлатежа=Оплата по л/с {ref} за охрану за март 2025",
            f"ДатаПоступило={day}",
            "КонецДокумента",
        ]
    rows.append("КонецФайла")
    return ("\r\n".join(rows) + "\r\n").encode("cp1251")


# ---------------------------------------------------------------------- run
def upload(args, db, url, data, deadline):
    """Import the file through the wizard as admin; wait for the import."""
    call = xmlrpc_caller(url, db, args.login, args.password)
    code = "PC1C" if args.format == "1c" else "PCRG"
    [journal] = call("account.journal", "search", [("code", "=", code)])
    vals = {
        "statement_filename": f"prodcheck.{'txt' if args.format == '1c' else 'csv'}",
        "statement_file": base64.b64encode(data).decode(),
        "security_journal_id": journal,
    }
    if args.format == "registry":
        [mapping] = call(
            "ir.model.data",
            "search_read",
            [("module", "=", "security_billing_bank")]
            + [("name", "=", "sheet_mapping_payment_registry")],
            ["res_id"],
        )
        vals["sheet_mapping_id"] = mapping["res_id"]
    uploaded = time.monotonic()
    wizard = call("account.statement.import", "create", vals)
    action = call("account.statement.import", "import_file_button", [wizard])
    answered = time.monotonic() - uploaded
    print(f"  wizard answered in {answered:.1f} s: {action['params']['message']}")
    import_id = action["params"]["next"]["res_id"]
    fields = ["state", "line_total", "line_done_count", "payment_count"]
    fields += ["to_match_count", "error_count", "chunk_count", "chunk_done_count"]
    imp = poll_until(
        lambda: call("security.bank.import", "read", [import_id], fields)[0],
        lambda imp: imp["state"] == "done",
        lambda imp: (
            f"{imp['state']}, lines {imp['line_done_count']}/"
            f"{imp['line_total']}, {imp['payment_count']} paid"
        ),
        uploaded,
        deadline,
        args.poll,
    )
    wall = time.monotonic() - uploaded
    wait_jobs_ended(db, jobs_of(import_id), deadline, args.poll)
    return import_id, imp, answered, wall


def jobs_of(import_id):
    """The FROM clause of the jobs of the import's chunks (``j``)."""
    return (
        "FROM queue_job j JOIN security_bank_import_chunk c "
        "ON j.uuid IN (c.create_job_uuid, c.pay_job_uuid) "
        f"WHERE c.import_id = {import_id}"
    )


def checks(db, import_id, imp, count, log_text):
    """[(check, ok, detail)] on the database and the server log."""
    lines = psql(
        db,
        "SELECT count(*), count(DISTINCT l.unique_import_id), "
        "count(*) FILTER (WHERE l.security_match_state = 'matched'), "
        "count(DISTINCT l.security_payment_id) "
        "FROM account_bank_statement_line l JOIN security_bank_import_chunk c "
        f"ON c.id = l.security_import_chunk_id WHERE c.import_id = {import_id}",
    )[0]
    payments = psql(
        db,
        "SELECT count(*), count(DISTINCT security_external_id) FROM account_payment "
        "WHERE security_external_id LIKE 'bank:%'",
    )[0]
    unpaid = psql(
        db,
        "SELECT count(*) FROM account_move WHERE name LIKE 'BENCH/%' "
        "AND payment_state != 'paid'",
    )[0][0]
    statements = psql(
        db,
        "SELECT count(*), count(*) FILTER (WHERE s.is_complete) "
        "FROM account_bank_statement s JOIN security_bank_import_statement_rel r "
        f"ON r.statement_id = s.id WHERE r.import_id = {import_id}",
    )[0]
    n = str(count)
    return [
        ("import done", imp["state"] == "done", imp["state"]),
        ("no import error", imp["error_count"] == 0, f"{imp['error_count']} errors"),
        (
            "every line imported once and paid once",
            lines == [n, n, n, n],
            f"{lines[0]} lines, {lines[1]} import ids, {lines[2]} matched, "
            f"{lines[3]} payments for {count}",
        ),
        (
            "one payment per bank transaction",
            payments == [n, n],
            f"{payments[0]} payments, {payments[1]} external ids",
        ),
        ("every bench invoice paid", unpaid == "0", f"{unpaid} unpaid"),
        (
            "statement complete",
            statements[0] == statements[1] != "0",
            f"{statements[1]} of {statements[0]} complete",
        ),
        jobs_check(db, jobs_of(import_id)),
        log_check(log_text),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10000)
    parser.add_argument("--format", choices=("registry", "1c"), default="registry")
    parser.add_argument("--template-db", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--db-prefix", default="sb_prodimport")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--channels", default=CHANNELS)
    parser.add_argument(
        "--port", type=int, help="HTTP port (default: a random one in 20000-29999)"
    )
    parser.add_argument("--gevent-port", type=int, help="(default: as --port)")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds")
    parser.add_argument("--addons-path", default=DEFAULT_ADDONS)
    args = parser.parse_args()

    db = f"{args.db_prefix}_{args.format}_{args.lines}_{os.getpid()}"
    port = args.port or random_port(20000, 29998)
    args.gevent_port = args.gevent_port or port + 1
    url = f"http://127.0.0.1:{port}"
    log = Path(f"/tmp/{db}.log")
    ok = False
    refs = build(args, db)
    stamp = int(time.time())
    make = one_c_file if args.format == "1c" else registry_file
    data = make(refs, stamp)
    log.unlink(missing_ok=True)
    deadline = time.monotonic() + args.timeout
    print(f"jobrunner channels: {args.channels}", flush=True)
    with serving(
        db,
        args.addons_path,
        port,
        *server_options(args, log),
        gevent_port=args.gevent_port,
        env=dict(os.environ, ODOO_QUEUE_JOB_CHANNELS=args.channels),
        timeout=args.timeout,
        stop_timeout=120,
    ):
        time.sleep(6)  # the jobrunner starts 5 s after the workers
        import_id, imp, answered, wall = upload(args, db, url, data, deadline)
    try:
        results = checks(
            db, import_id, imp, args.lines, log.read_text(errors="replace")
        )
        jobs = job_figures(db, jobs_of(import_id))
        ok = all(passed for _name, passed, _detail in results)
        print()
        print(f"file:                    {args.format}, {args.lines} lines")
        print(f"workers / channels:      {args.workers} / {args.channels}")
        print(f"load (uptime):           {os.getloadavg()}")
        print(f"wizard answered in       {answered:.2f} s")
        print(f"import wall time:        {wall:.1f} s (upload to the last payment)")
        print(f"lines:                   {args.lines / wall:.1f} lines/s")
        print(
            f"jobs:                    {jobs['jobs']} jobs, mean {jobs['mean_s']} s,"
            f" max {jobs['max_s']} s, {jobs['retries']} retries"
        )
        print(f"server log:              {log}")
        print_checks(results)
    finally:
        if not args.keep:
            subprocess.run(["dropdb", "--if-exists", "--force", db], check=False)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
