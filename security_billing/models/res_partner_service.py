"""The service status of a subscriber: the worst status of its MMR
contracts, and the next charge of its running contracts, for the header
of the subscriber form and the subscriber searches."""

from odoo import api, fields, models
from odoo.osv import expression

from .contract_contract_dunning import SECURITY_STATES

# Worst first: a subscriber is as badly off as its worst contract.
SERVICE_STATE_ORDER = ("terminated", "suspended", "warning", "active")


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    security_service_state = fields.Selection(
        SECURITY_STATES,
        string="Service",
        compute="_compute_security_service_state",
        search="_search_security_service_state",
        help="The worst service status of the subscriber's MMR contracts "
        "(terminated, then suspended, warning, active); empty without one.",
    )
    security_next_charge_date = fields.Date(
        string="Next Charge",
        compute="_compute_security_service_state",
        help="The next invoice date of the subscriber's running MMR contracts.",
    )

    @api.depends(
        "security_contract_ids.security_state",
        "security_contract_ids.recurring_next_date",
    )
    def _compute_security_service_state(self):
        data = self._security_service_data()
        for partner in self:
            states, next_date = data.get(partner.id, (set(), None))
            partner.security_service_state = next(
                (state for state in SERVICE_STATE_ORDER if state in states), False
            )
            partner.security_next_charge_date = next_date

    def _security_service_data(self):
        """``{partner id: (set of contract states, next charge date)}`` of the
        MMR contracts of the subscribers in ``self``, in one query."""
        partners = self.filtered("id")
        if not partners:
            return {}
        contracts = self.env["contract.contract"].sudo()
        data = {}
        groups = contracts._read_group(
            [
                ("partner_id", "in", partners.ids),
                ("security_is_mmr", "=", True),
                ("active", "=", True),
            ],
            ["partner_id", "security_state"],
            ["recurring_next_date:min"],
        )
        for partner, state, next_date in groups:
            states, best = data.setdefault(partner.id, (set(), None))
            states.add(state)
            if state != "terminated" and next_date:
                best = min(best, next_date) if best else next_date
            data[partner.id] = (states, best)
        return data

    def _search_security_service_state(self, operator, value):
        """Subscribers whose worst contract status is (or is not) ``value``:
        for ``=`` / ``in``, those with a contract in that state and none in
        a worse one."""
        if operator not in ("=", "!=", "in", "not in"):
            return NotImplemented
        values = [value] if operator in ("=", "!=") else list(value or [])
        contracts = self.env["contract.contract"].sudo()
        groups = contracts._read_group(
            [("security_is_mmr", "=", True), ("active", "=", True)],
            ["partner_id"],
            ["security_state:array_agg"],
        )
        worst = {
            partner.id: next(s for s in SERVICE_STATE_ORDER if s in set(states))
            for partner, states in groups
        }
        domain = [
            ("id", "in", [pid for pid, state in worst.items() if state in values])
        ]
        if False in values or None in values:  # subscribers without a contract
            domain = expression.OR([domain, [("id", "not in", list(worst))]])
        if operator in ("!=", "not in"):
            return ["!"] + expression.normalize_domain(domain)
        return domain
