#!/usr/bin/env python3
"""Floor of Odoo's own invoice creation and posting, per invoice (billing run floor).

On a database built by ``bench_billing_run.py --keep`` (N due MMR contracts),
takes the first ``--batch`` contracts, prepares their invoice values as the
billing run does (OCA ``_prepare_recurring_invoices_values``, not measured)
and measures, in a savepoint rolled back each time, the CPU time of this
process and of its PostgreSQL backend per invoice of:

* ``stock``: OCA ``_recurring_create_invoice`` of the batch (drafts, no
  billing-run context): what the stock cron does per batch, without the
  superlinear growth of its single transaction;
* ``create``: Odoo's ``account.move.create`` of the plain values (Odoo
  computes the amounts, the tax and payment-term lines);
* ``create+post``: the same, then ``_post(soft=False)``;
* ``given``: ``account.move.create`` with every journal item given and
  ``skip_invoice_sync`` (the point_of_sale path: Odoo computes no dynamic
  line; the items are those of one invoice created normally, with each
  invoice's own product line and partner). The lowest cost of creating an
  invoice through Odoo's create;
* ``given+post``: the same, then ``_post(soft=False)`` with
  ``skip_invoice_sync``;
* ``run:...``: the same with the billing run's values (no draft number,
  *Checked* set, product line amounts given); ``+batch`` posts with the
  billing run's ``_security_post_batch``;
* ``run:prepare``: OCA's preparation of the values alone;
* ``run:bill``: the billing run's ``_security_bill`` of the batch (prepare,
  create, follow-ups of OCA, batch posting): our code today.

Every mode but ``stock`` runs with the billing run's mail context (no
tracking, no creation message, no automatic subscription). Each mode is
measured ``--repeat`` times, interleaved; the median is printed
with the load average (the machine is shared: compare CPU figures).

    python3 bench/profile_invoice_floor.py --db sb_me_src_1000_<pid>
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from benchlib import BackendCpu

ROOT = Path(__file__).resolve().parent.parent
MODES = (
    "stock",
    "create",
    "create+post",
    "given",
    "given+post",
    "run:create",
    "run:create+batch",
    "run:given",
    "run:given+batch",
    "run:prepare",
    "run:bill",
)
BILLING_CONTEXT = {}  # the billing run's mail context, imported with Odoo
PLAIN_DROP = ("name", "checked", "security_billing_run_id", "security_contract_id")


def plain_values(vals_list):
    """The billing run's invoice values as a plain caller gives them: no
    batch-post extras, no line amounts (Odoo computes them)."""
    for vals in vals_list:
        for key in PLAIN_DROP:
            vals.pop(key, None)
        for command in vals["invoice_line_ids"]:
            command[2].pop("balance", None)
            command[2].pop("amount_currency", None)
    return vals_list


def given_values(env, vals_list):
    """Invoice values with every journal item given, copied from the first
    invoice created normally (same product, price, partner type, dates)."""
    from odoo import Command

    first = env["account.move"].create(vals_list[:1])
    template = []
    for line in first.line_ids.sorted("id"):
        line_vals = line.copy_data()[0]
        line_vals.pop("move_id", None)
        line_vals.update(balance=line.balance, amount_currency=line.amount_currency)
        template.append(line_vals)
    result = []
    for vals in vals_list:
        vals = dict(vals)
        own = [command[2] for command in vals.pop("invoice_line_ids")]
        partner = env["res.partner"].browse(vals["partner_id"])
        commercial = partner.commercial_partner_id.id
        lines = []
        for line_vals in template:
            line_vals = dict(line_vals, partner_id=commercial)
            if line_vals["display_type"] == "product":
                product_vals = own.pop(0)
                line_vals.update(
                    {
                        key: value
                        for key, value in product_vals.items()
                        if key not in ("balance", "amount_currency")
                    }
                )
            lines.append(Command.create(line_vals))
        vals["line_ids"] = lines
        result.append(vals)
    return result


def measure(env, contracts, today, mode, pg_cpu):
    """(process CPU, backend CPU) of one mode on ``contracts``, rolled back."""
    cr = env.cr
    cr.execute("SAVEPOINT floor")
    try:
        Move = env["account.move"].with_context(**BILLING_CONTEXT)
        billing = contracts.with_context(security_billing_run=True, **BILLING_CONTEXT)
        if mode not in ("stock", "run:prepare", "run:bill"):
            vals_list = billing._prepare_recurring_invoices_values(today)
            if not mode.startswith("run:"):
                vals_list = plain_values(vals_list)
            if "given" in mode:
                vals_list = given_values(env, vals_list)
                Move = Move.with_context(skip_invoice_sync=True)
        env.flush_all()
        started = time.process_time(), pg_cpu()
        if mode == "stock":
            moves = contracts._recurring_create_invoice(today)
        elif mode == "run:prepare":
            moves = billing._prepare_recurring_invoices_values(today)
        elif mode == "run:bill":
            moves = billing._security_bill(today)
        else:
            moves = Move.create(vals_list)
        if mode.endswith("+post"):
            moves._post(soft=False)
        elif mode.endswith("+batch"):
            moves._security_post_batch()
        env.flush_all()
        cpu, pg = time.process_time() - started[0], pg_cpu() - started[1]
        assert len(moves) == len(contracts), (mode, len(moves))
        if mode.endswith(("+post", "+batch")) or mode == "run:bill":
            assert set(moves.mapped("state")) == {"posted"}, mode
        return cpu, pg
    finally:
        cr.execute("ROLLBACK TO SAVEPOINT floor")
        env.invalidate_all()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="database of bench_billing_run")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--addons-path", default=f"{ROOT},/opt/odoo18/addons")
    args = parser.parse_args()

    import odoo
    from odoo.tools import config

    config.parse_config(
        [f"--addons-path={args.addons_path}", "-d", args.db, "--log-level=warn"]
    )
    registry = odoo.modules.registry.Registry(args.db)
    from odoo.addons.security_billing.models import security_billing_run

    BILLING_CONTEXT.update(security_billing_run.BILLING_CONTEXT)
    modes = args.modes.split(",")
    results = {mode: [] for mode in modes}
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        pg_cpu = BackendCpu(cr)
        contracts = env["contract.contract"].search(
            [("security_is_mmr", "=", True)], order="id", limit=args.batch
        )
        today = odoo.fields.Date.context_today(contracts)
        # warm-up: the first batch of a process reads the registry caches
        measure(env, contracts, today, "create", pg_cpu)
        for _round in range(args.repeat):
            for mode in modes:
                results[mode].append(measure(env, contracts, today, mode, pg_cpu))
        cr.rollback()
    count = len(contracts)
    print(f"invoices per batch: {count}   load (uptime): {os.getloadavg()}")
    for mode in modes:
        cpu = statistics.median(cpu for cpu, _pg in results[mode])
        pg = statistics.median(pg for _cpu, pg in results[mode])
        print(
            f"{mode:12s} {1000 * cpu / count:6.2f} ms CPU + {1000 * pg / count:5.2f} ms"
            f" PG CPU = {1000 * (cpu + pg) / count:6.2f} ms per invoice (median)"
        )


if __name__ == "__main__":
    sys.exit(main())
