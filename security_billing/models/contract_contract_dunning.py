"""Service status of an MMR contract: dunning, manager overrides, the
status log and the customer notices of a status change."""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools.jobs import delay_once

SECURITY_STATES = [
    ("active", "Active"),
    ("warning", "Warning"),
    ("suspended", "Suspended"),
    ("terminated", "Terminated"),
]
# MMR contracts per dunning job (an id range: ids are dense enough).
DUNNING_CHUNK_SIZE = 1000
# The service status: written by dunning (as the system) and by managers.
SECURITY_STATUS_FIELDS = (
    "security_state",
    "security_state_since",
    "security_override_state",
    "security_override_until",
    "security_override_reason",
)


class ContractContract(models.Model):
    _inherit = "contract.contract"  # pylint: disable=consider-merging-classes-inherited

    security_state = fields.Selection(
        SECURITY_STATES,
        string="Service Status",
        default="active",
        required=True,
        tracking=True,
        index=True,
        copy=False,
    )
    security_blocked = fields.Boolean(
        string="Blocked",
        compute="_compute_security_blocked",
        store=True,
        help="The vendor app and convenience services are locked.",
    )
    security_state_since = fields.Date(string="Status Since", copy=False, readonly=True)
    security_state_log_ids = fields.One2many(
        "security.state.log", "contract_id", string="Status History"
    )
    security_monitoring_active = fields.Boolean(
        string="Monitoring Active",
        compute="_compute_security_service_status",
        help="Alarm monitoring continues: always for life-safety sites unless "
        "terminated, otherwise while not suspended.",
    )
    security_status_note = fields.Char(
        string="Service Note", compute="_compute_security_service_status"
    )
    security_override_state = fields.Selection(
        SECURITY_STATES,
        string="Override Status",
        copy=False,
        readonly=True,
        help="Status set by a manager, kept until the override end date.",
    )
    security_override_until = fields.Date(
        string="Override Until", copy=False, readonly=True
    )
    security_override_reason = fields.Char(
        string="Override Reason", copy=False, readonly=True
    )
    security_promise_ids = fields.One2many(
        "security.promised.payment", "contract_id", string="Promised Payments"
    )

    @api.depends("security_state")
    def _compute_security_blocked(self):
        """Blocked while the service status is suspended or terminated.

        Stored (the app status export reads the column). The status is the
        only input: overrides, promised payments, paid-until dates and the
        days past due act through dunning and the override wizard, which
        write ``security_state`` (``_security_set_state``), so the stored
        value follows them without a daily recompute.
        """
        for contract in self:
            contract.security_blocked = contract.security_state in (
                "suspended",
                "terminated",
            )

    @api.depends(
        "security_state", "security_site_ids.life_safety", "security_override_state"
    )
    @api.depends_context("lang")
    def _compute_security_service_status(self):
        for contract in self:
            state = contract.security_state
            life_safety = any(contract.security_site_ids.mapped("life_safety"))
            contract.security_monitoring_active = state in ("active", "warning") or (
                state == "suspended" and life_safety
            )
            contract.security_status_note = contract._security_status_text(life_safety)

    def _security_status_text(self, life_safety):
        self.ensure_one()
        state = self.security_state
        if state == "warning":
            return self.env._(
                "Payment overdue: service continues, pay to avoid suspension."
            )
        if state == "suspended" and life_safety:
            return self.env._(
                "Suspended for non-payment: app and convenience services "
                "blocked; life-safety monitoring continues."
            )
        if state == "suspended":
            return self.env._(
                "Suspended for non-payment: app, convenience services and "
                "monitoring stopped."
            )
        if state == "terminated":
            return self.env._("Terminated: all services stopped.")
        return self.env._("Active: all services running.")

    @api.model_create_multi
    def create(self, vals_list):
        new_contract = {"security_state": "active"}  # and no override
        for vals in vals_list:
            self._security_check_state_change(
                {
                    fname: value
                    for fname, value in vals.items()
                    if value != new_contract.get(fname, False)
                }
            )
        return super().create(vals_list)

    def write(self, vals):
        self._security_check_state_change(vals)
        return super().write(vals)

    def _security_check_state_change(self, vals):
        """Only a Security Billing Manager (or the system: dunning, the
        override wizard) changes the service status and its overrides; a
        read-only field in a view is no permission."""
        fnames = [fname for fname in SECURITY_STATUS_FIELDS if fname in vals]
        if (
            not fnames
            or self.env.su
            or self.env.user.has_group(
                "security_billing.group_security_billing_manager"
            )
        ):
            return
        raise AccessError(
            self.env._(
                "Only a Security Billing Manager may change the service status "
                "of %(contracts)s (%(fields)s).",
                contracts=", ".join(self.mapped("display_name"))
                or self.env._("a new contract"),
                fields=", ".join(fnames),
            )
        )

    def _security_override_active(self, date_ref):
        self.ensure_one()
        return bool(self.security_override_state) and (
            not self.security_override_until or self.security_override_until >= date_ref
        )

    def _security_update_state(self, date_ref=None, origin="cron", only_improve=False):
        """Recompute the service status of these contracts by the company's
        dunning rules (``security.dunning._recompute``).

        :param date_ref: day of the computation (default: today).
        :param str origin: logged on a change (``cron``, ``payment``,
            ``override``, ...).
        :param bool only_improve: only move towards *Active* (a payment
            never suspends anyone).
        :return: the changes, ``{contract_id: (old state, new state)}``
        """
        return self.env["security.dunning"]._recompute(
            self, date_ref=date_ref, origin=origin, only_improve=only_improve
        )

    def _security_set_state(self, state, reason, origin, date_ref, amount=0.0):
        """Write the new status, log it and tell the customer."""
        self.ensure_one()
        old = self.security_state
        self.sudo().write({"security_state": state, "security_state_since": date_ref})
        # app status export: the app shows the new lock state soon
        self.env["security.app.connector"]._request_export(self)
        log = (
            self.env["security.state.log"]
            .sudo()
            .create(
                {
                    "contract_id": self.id,
                    "old_state": old,
                    "new_state": state,
                    "reason": reason,
                    "origin": origin,
                    "date_ref": date_ref,
                }
            )
        )
        self._security_notify_state_change(log, amount)
        return log

    def _security_notify_state_change(self, log, amount):
        self.ensure_one()
        event = False
        if log.new_state == "suspended":
            event = "suspended"
        elif log.old_state in ("suspended", "terminated"):
            event = "restored"
        elif log.new_state == "warning" and log.old_state == "active":
            event = "past_due"
        if event:
            self.env["security.notification.log"]._notify(
                event,
                log,
                self.partner_id.commercial_partner_id,
                amount=amount,
                date_value=log.date_ref,
                note=log.reason,
                contract_id=self,
                company_id=self.company_id,
            )

    def _security_set_override(self, state, date_until, reason):
        """Manager override of the service status until ``date_until``."""
        if not self.env.user.has_group(
            "security_billing.group_security_billing_manager"
        ):
            raise UserError(
                self.env._("Only a Security Billing Manager may override a status.")
            )
        if not reason or not date_until:
            raise UserError(self.env._("An override needs a reason and an end date."))
        self.sudo().write(
            {
                "security_override_state": state,
                "security_override_until": date_until,
                "security_override_reason": reason,
            }
        )
        return self._security_update_state(origin="override")

    def _security_end_overrides(self, date_ref):
        """Clear the overrides that ended before ``date_ref`` and recompute."""
        ended = self.filtered(
            lambda c: (
                c.security_override_state
                and c.security_override_until
                and c.security_override_until < date_ref
            )
        )
        ended.sudo().write(
            {
                "security_override_state": False,
                "security_override_until": False,
                "security_override_reason": False,
            }
        )
        return ended._security_update_state(date_ref=date_ref, origin="override")

    @api.model
    def _cron_security_dunning(self):
        """The daily dunning as jobs: the overrides and promises that ended
        are closed at once (few of them), then the MMR contracts are
        recomputed by jobs of ``DUNNING_CHUNK_SIZE`` ids
        (``_security_enqueue_dunning``)."""
        date_ref = fields.Date.context_today(self)
        self._security_close_ended_terms(date_ref)
        return self._security_enqueue_dunning(date_ref)

    @api.model
    def _security_run_dunning(self, date_ref=None):
        """The daily dunning at once, in this transaction (tests, scenarios,
        small databases): end the overrides whose date passed, expire the
        promised payments not kept, then move every MMR contract of the
        user's companies to the status its debt calls for (warning,
        suspended, or back to active), with a log line and a customer notice
        per change. The cron does the same with jobs.

        :param date_ref: the day dunning runs for (default: today in the
            user's time zone); the day boundaries of the dunning rules count
            from it.
        :return: the changes, ``{contract_id: (old state, new state)}``
        """
        date_ref = date_ref or fields.Date.context_today(self)
        self._security_close_ended_terms(date_ref)
        contracts = self.search(self._security_dunning_domain())
        return contracts._security_update_state(date_ref=date_ref, origin="cron")

    @api.model
    def _security_dunning_domain(self):
        """The contracts dunning recomputes: MMR contracts of the user's
        companies."""
        return [
            ("security_is_mmr", "=", True),
            ("company_id", "in", self.env.companies.ids),
        ]

    @api.model
    def _security_close_ended_terms(self, date_ref):
        """End the overrides whose end date passed before ``date_ref`` and
        expire the promised payments not kept by then (each recomputes the
        status of its contracts)."""
        ended = self.search(
            self._security_dunning_domain()
            + [
                ("security_override_state", "!=", False),
                ("security_override_until", "<", date_ref),
            ]
        )
        ended._security_end_overrides(date_ref)
        self.env["security.promised.payment"]._expire(date_ref)

    @api.model
    def _security_enqueue_dunning(self, date_ref):
        """Enqueue the recomputation of the MMR contracts for ``date_ref``:
        one job per id range of ``DUNNING_CHUNK_SIZE`` contracts, keyed by
        day, companies and range (``identity_exact``: enqueuing again while
        it waits returns the waiting job). Rerun-safe: a job recomputes its
        contracts from their debt, whatever ran before.

        :return: the jobs (``queue.job`` delayables)
        :rtype: list
        """
        company_ids = sorted(self.env.companies.ids)
        jobs = []
        for first_id, last_id in self._security_mmr_id_ranges(
            company_ids, DUNNING_CHUNK_SIZE
        ):
            jobs.append(
                delay_once(
                    self,
                    self.env._(
                        "Dunning of %(date)s: contracts %(first)s to %(last)s",
                        date=date_ref,
                        first=first_id,
                        last=last_id,
                    ),
                )._security_dunning_job(date_ref, company_ids, first_id, last_id)
            )
        return jobs

    @api.model
    def _security_dunning_job(self, date_ref, company_ids, first_id, last_id):
        """Job: recompute the status of the MMR contracts of ``company_ids``
        whose ids are ``first_id`` to ``last_id``, for ``date_ref``.

        :return: a summary for the job's result
        :rtype: str
        """
        contracts = self.search(
            [
                ("security_is_mmr", "=", True),
                ("company_id", "in", company_ids),
                ("id", ">=", first_id),
                ("id", "<=", last_id),
            ]
        )
        changes = contracts._security_update_state(date_ref=date_ref, origin="cron")
        return f"{len(contracts)} contracts, {len(changes)} status changes"
