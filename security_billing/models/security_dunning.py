from odoo import _, api, fields, models
from odoo.tools import format_amount, format_date

from .security_dunning_rule import SEVERITY


class SecurityDunning(models.AbstractModel):
    """The dunning engine: service status of MMR contracts from their debt.

    Set-based: one query for the debts of all contracts, one for their
    paid-until dates, one for their promised payments.
    """

    _name = "security.dunning"
    _description = "Security Billing Dunning Engine"

    @api.model
    def _recompute(self, contracts, date_ref=None, origin="cron", only_improve=False):
        """Move ``contracts`` to the status their debt calls for.

        ``only_improve``: money came in, so only lift restrictions (a payment
        never suspends anybody). Returns ``{contract_id: (old, new)}``.
        """
        contracts = contracts.filtered(lambda c: c.id and c.security_is_mmr)
        if only_improve:
            # nothing is lighter than active: skip the queries for those
            contracts = contracts.filtered(lambda c: SEVERITY[c.security_state] > 0)
        if not contracts:
            return {}
        date_ref = date_ref or fields.Date.context_today(self)
        rows = self._debt_rows(contracts, date_ref)
        dates = contracts._security_date_data()
        promises = self.env["security.promised.payment"]._promise_data(
            contracts, date_ref
        )
        rules_by_company = {}
        changes = {}
        for contract in contracts:
            company = contract.company_id
            if company not in rules_by_company:
                rules_by_company[company] = self.env[
                    "security.dunning.rule"
                ]._get_rules(company)
            row = rows.get(contract.id, {})
            state, reason = self._target_state(
                contract,
                row,
                rules_by_company[company],
                dates.get(contract.id, {}),
                promises.get(contract.id, {}),
                date_ref,
            )
            old = contract.security_state
            if state == old or (only_improve and SEVERITY[state] >= SEVERITY[old]):
                continue
            contract._security_set_state(
                state, reason, origin, date_ref, amount=row.get("past_due", 0.0)
            )
            changes[contract.id] = (old, state)
        return changes

    @api.model
    def _debt_rows(self, contracts, date_ref):
        """Per contract at ``date_ref``: oldest unpaid due date, balance due,
        past due (net of open credit), from the core balance query."""
        rows = self.env["account.move"]._security_balance_rows(
            "security_contract_id", contracts.ids, date_ref=date_ref
        )
        return {
            contract_id: {
                "oldest_due": row["security_oldest_due_date"],
                "balance_due": max(
                    row["security_balance_due"] - row["security_credit"], 0.0
                ),
                "past_due": max(row["security_past_due"] - row["security_credit"], 0.0),
            }
            for contract_id, row in rows.items()
        }

    @api.model
    def _target_state(self, contract, row, rules, dates, promise, date_ref):
        """Return ``(state, reason)`` for one contract."""
        if contract._security_override_active(date_ref):
            return contract.security_override_state, _(
                "Manual override until %(date)s: %(reason)s",
                date=format_date(self.env, contract.security_override_until),
                reason=contract.security_override_reason or "",
            )
        if contract.security_state == "terminated":
            return "terminated", ""
        state, reason = self._rule_state(contract, row, rules, date_ref)
        if promise.get("broken") and row.get("balance_due", 0.0) > 0:
            if SEVERITY[state] < SEVERITY["suspended"]:
                state = "suspended"
                reason = _(
                    "Promised payment of %(date)s expired unpaid.",
                    date=format_date(self.env, promise["broken"]),
                )
        if SEVERITY[state] >= SEVERITY["suspended"]:
            paid_until = dates.get("security_paid_until")
            if paid_until and paid_until >= date_ref:
                return "warning", _(
                    "%(reason)s Paid until %(date)s: service continues until then.",
                    reason=reason,
                    date=format_date(self.env, paid_until),
                )
            if promise.get("open_until"):
                return "warning", _(
                    "%(reason)s Promised payment until %(date)s.",
                    reason=reason,
                    date=format_date(self.env, promise["open_until"]),
                )
        return state, reason

    @api.model
    def _rule_state(self, contract, row, rules, date_ref):
        oldest = row.get("oldest_due")
        past_due = row.get("past_due", 0.0)
        days = max((date_ref - oldest).days, 0) if oldest else 0
        rule = self.env["security.dunning.rule"]._match(
            rules, days, past_due, contract.currency_id.rounding
        )
        if not rule:
            return "active", _("Nothing past due.") if not past_due else _(
                "%(amount)s past due for %(days)s days: below the dunning rules.",
                amount=format_amount(self.env, past_due, contract.currency_id),
                days=days,
            )
        return rule["state"], _(
            "%(amount)s past due for %(days)s days.",
            amount=format_amount(self.env, past_due, contract.currency_id),
            days=days,
        )
