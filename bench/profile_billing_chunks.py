#!/usr/bin/env python3
"""CPU per invoice of a billing run's chunk jobs, run as queue_job runs them.

On a COPY of a database built by ``bench_billing_run.py --keep`` (it bills
it: copy it with ``createdb -T`` first), starts a billing run as the admin
user (as *Run billing now*), then performs its chunk jobs one after the other
in this process with queue_job's own runner code (``_try_perform_job``: the
job loaded with its user, performed, committed). Prints per chunk the wall
time, the CPU time of this process and of its PostgreSQL backend, then per
invoice over the chunks after the first (which warms the caches) and the
load average. The CPU figures, unlike the wall time, hold on a shared
machine: compare two checkouts with ``--addons-path``, one after the other
on two copies of the same database.

    createdb -T sb_me_src_2000_<pid> sb_me_chunks
    python3 bench/profile_billing_chunks.py --db sb_me_chunks
    dropdb sb_me_chunks
"""

import argparse
import os
import sys
import time
from pathlib import Path

from benchlib import BackendCpu

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a copy: it is billed")
    parser.add_argument("--login", default="admin", help="user starting the run")
    parser.add_argument("--addons-path", default=f"{ROOT},/opt/odoo18/addons")
    args = parser.parse_args()

    import odoo
    from odoo.tools import config

    config.parse_config(
        [f"--addons-path={args.addons_path}", "-d", args.db, "--log-level=warn"]
    )
    registry = odoo.modules.registry.Registry(args.db)
    from odoo.addons.queue_job.controllers.main import RunJobController
    from odoo.addons.queue_job.job import Job

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        user = env["res.users"].search([("login", "=", args.login)])
        env = env(user=user.id, su=False, context={"lang": user.lang or "en_US"})
        run = env["security.billing.run"]._start(trigger="manual")
        uuids = run.chunk_ids.sorted("sequence").sudo().mapped("job_uuid")
        cr.commit()
    total = [0.0, 0.0, 0.0, 0]
    for index, uuid in enumerate(uuids):
        with registry.cursor() as cr:
            pg_cpu = BackendCpu(cr)
            started = time.perf_counter(), time.process_time(), pg_cpu()
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            job = Job.load(env, uuid)
            RunJobController()._try_perform_job(env, job)
            wall = time.perf_counter() - started[0]
            cpu = time.process_time() - started[1]
            pg = pg_cpu() - started[2]
            chunk = env["security.billing.run.chunk"].search([("job_uuid", "=", uuid)])
            print(
                f"chunk {index + 1}: {chunk.invoice_count} invoices, {wall:.2f} s "
                f"wall, {cpu:.2f} s CPU + {pg:.2f} s PG CPU",
                flush=True,
            )
            if index:
                total[0] += wall
                total[1] += cpu
                total[2] += pg
                total[3] += chunk.invoice_count
    invoices = total[3] or 1
    print(
        f"per invoice (chunks 2..): {1000 * total[0] / invoices:.2f} ms wall, "
        f"{1000 * total[1] / invoices:.2f} ms CPU + "
        f"{1000 * total[2] / invoices:.2f} ms PG CPU = "
        f"{1000 * (total[1] + total[2]) / invoices:.2f} ms   "
        f"load (uptime): {os.getloadavg()}"
    )


if __name__ == "__main__":
    sys.exit(main())
