from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, format_amount, format_date

CHANNELS = [
    ("portal", "Customer portal"),
    ("api", "Integrator API"),
    ("backend", "Accountant"),
]
STATES = [
    ("open", "Open"),
    ("kept", "Kept"),
    ("broken", "Expired Unpaid"),
    ("refused", "Refused"),
]


class SecurityPromisedPayment(models.Model):
    """A promised payment (temporary credit): suspension waits until its due
    date. Refused requests are kept too, with their reason."""

    _name = "security.promised.payment"
    _description = "Security Billing Promised Payment"
    _order = "date desc, id desc"

    name = fields.Char(compute="_compute_name")
    partner_id = fields.Many2one(
        "res.partner", string="Subscriber", required=True, readonly=True, index=True
    )
    contract_id = fields.Many2one(
        "contract.contract",
        readonly=True,
        index=True,
        help="Empty: the promise covers all MMR contracts of the subscriber.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    date = fields.Date(string="Requested On", required=True, readonly=True)
    due_date = fields.Date(readonly=True, index=True)
    state = fields.Selection(
        STATES,
        string="Promise Status",
        required=True,
        readonly=True,
        default="open",
        index=True,
    )
    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="Requested By",
        readonly=True,
        default=lambda self: self.env.user,
    )
    reason = fields.Char(
        readonly=True, help="Why the request was refused, or how it was closed."
    )
    closed_date = fields.Date(readonly=True)
    enforce_suspension = fields.Boolean(
        readonly=True,
        help="Expired unpaid: the contract stays suspended until the debt is paid.",
    )
    start_line_id = fields.Integer(
        readonly=True,
        help="Journal items created after this id count as paying the promise.",
    )
    paid_amount = fields.Monetary(
        string="Paid Since",
        compute="_compute_paid_amount",
        currency_field="currency_id",
    )

    def _compute_name(self):
        for promise in self:
            promise.name = _(
                "Promise of %(amount)s until %(date)s",
                amount=format_amount(self.env, promise.amount, promise.currency_id),
                date=format_date(self.env, promise.due_date),
            )

    def _compute_paid_amount(self):
        paid = self._paid_amounts()
        for promise in self:
            promise.paid_amount = paid.get(promise.id, 0.0)

    def _paid_amounts(self):
        """Payments and credit notes received since each promise: ``{id: x}``."""
        promises = self.filtered(lambda p: p.id and p.state != "refused")
        if not promises:
            return {}
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(
            """
            SELECT p.id, COALESCE(SUM(l.credit), 0)
              FROM security_promised_payment p
              JOIN account_move_line l
                ON l.partner_id = p.partner_id AND l.id > p.start_line_id
               AND l.security_in_balance AND l.parent_state = 'posted'
               AND l.credit > 0
               AND (p.contract_id IS NULL
                    OR l.security_contract_id IS NULL
                    OR l.security_contract_id = p.contract_id)
             WHERE p.id IN %s
             GROUP BY p.id
            """,
            [tuple(promises.ids)],
        )
        return dict(self.env.cr.fetchall())

    # ------------------------------------------------------------------ rules
    @api.model
    def _rules(self, partner, date_ref=None):
        """What a promise request would get now (nothing is written).

        Returns ``{"allowed", "reason", "max_amount", "amount_due",
        "due_date", "days", "contracts"}``.
        """
        partner = partner.commercial_partner_id
        date_ref = date_ref or fields.Date.context_today(self)
        company = self.env.company
        contracts = self._partner_contracts(partner)
        amount_due = (
            sum(
                row.get("balance_due", 0.0)
                for row in self.env["security.dunning"]
                ._debt_rows(contracts, date_ref)
                .values()
            )
            if contracts
            else 0.0
        )
        rules = {
            "allowed": False,
            "reason": "",
            "max_amount": self._max_amount(company, contracts),
            "amount_due": company.currency_id.round(amount_due),
            "due_date": date_ref + timedelta(days=company.security_promise_days),
            "days": company.security_promise_days,
            "contracts": contracts,
        }
        rules["reason"] = self._refusal_reason(partner, contracts, rules, date_ref)
        rules["allowed"] = not rules["reason"]
        return rules

    @api.model
    def _partner_contracts(self, partner, company=None):
        return self.env["contract.contract"].search(
            [
                ("partner_id", "=", partner.id),
                ("security_is_mmr", "=", True),
                ("company_id", "=", (company or self.env.company).id),
                ("security_state", "!=", "terminated"),
            ]
        )

    @api.model
    def _max_amount(self, company, contracts):
        if company.security_promise_amount_type == "fixed":
            return company.security_promise_max_amount
        fee = sum(contracts.mapped("security_monthly_fee"))
        return company.currency_id.round(fee * company.security_promise_fee_share / 100)

    @api.model
    def _refusal_reason(self, partner, contracts, rules, date_ref):
        """The first rule the request breaks, as a sentence; '' if none."""
        company = self.env.company
        if not contracts:
            return _("The account has no active monitoring subscription.")
        if company.currency_id.is_zero(rules["amount_due"]):
            return _("Nothing is due on this account.")
        if company.currency_id.compare_amounts(rules["max_amount"], 0.0) <= 0:
            return _("Promised payments are not available for this account.")
        promises = self.search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("state", "!=", "refused"),
            ]
        )
        return (
            self._check_open(promises, date_ref)
            or self._check_cooldown(promises, date_ref)
            or self._check_frequency(promises, date_ref)
            or self._check_suspended(contracts, date_ref)
        )

    @api.model
    def _check_open(self, promises, date_ref):
        for promise in promises.filtered(lambda p: p.state == "open"):
            if promise.due_date < date_ref:
                return _(
                    "An earlier promised payment of %(amount)s due %(date)s is "
                    "overdue.",
                    amount=format_amount(self.env, promise.amount, promise.currency_id),
                    date=format_date(self.env, promise.due_date),
                )
            return _(
                "A promised payment of %(amount)s is already open until %(date)s.",
                amount=format_amount(self.env, promise.amount, promise.currency_id),
                date=format_date(self.env, promise.due_date),
            )
        return ""

    @api.model
    def _check_cooldown(self, promises, date_ref):
        days = self.env.company.security_promise_cooldown_days
        for promise in promises.filtered(lambda p: p.state == "broken"):
            until = promise.closed_date + timedelta(days=days)
            if until > date_ref:
                return _(
                    "A promised payment expired unpaid on %(date)s: new "
                    "promises are possible from %(until)s.",
                    date=format_date(self.env, promise.closed_date),
                    until=format_date(self.env, until),
                )
        return ""

    @api.model
    def _check_frequency(self, promises, date_ref):
        company = self.env.company
        period = company.security_promise_period_days
        recent = promises.filtered(
            lambda p: p.date > date_ref - timedelta(days=period)
        ).sorted("date")
        if len(recent) < company.security_promise_max_count:
            return ""
        oldest = recent[-company.security_promise_max_count] if recent else False
        next_date = (oldest.date if oldest else date_ref) + timedelta(days=period)
        return _(
            "At most %(count)s promised payment(s) per %(days)s days: the next "
            "one is possible from %(date)s.",
            count=company.security_promise_max_count,
            days=period,
            date=format_date(self.env, next_date),
        )

    @api.model
    def _check_suspended(self, contracts, date_ref):
        limit = self.env.company.security_promise_max_suspended_days
        for contract in contracts.filtered(lambda c: c.security_state == "suspended"):
            since = contract.security_state_since or date_ref
            if (date_ref - since).days > limit:
                return _(
                    "The account has been suspended since %(date)s, more than "
                    "%(days)s days: please pay the amount due.",
                    date=format_date(self.env, since),
                    days=limit,
                )
        return ""

    # ---------------------------------------------------------------- request
    @api.model
    def _request(self, partner, amount=None, channel="portal", date_ref=None):
        """Grant or refuse a promised payment; the outcome is always recorded.

        :param partner: the subscriber (``res.partner``; its commercial
            partner is used).
        :param amount: positive number; None: the most the company rules
            allow (capped to what is due).
        :param str channel: one of ``CHANNELS`` (``portal``, ``api``, ...).
        :param date_ref: date of the request (default: today).
        :return: ``{"ok", "amount", "due_date", "reason", "promise_id"}``;
            ``ok`` False and ``reason`` set when a rule refused it.
        :rtype: dict
        :raises UserError: only on bad input (amount not a positive number,
            unknown channel).
        """
        if channel not in dict(CHANNELS):
            raise UserError(_("Unknown promise channel %(channel)r.", channel=channel))
        if amount is not None:
            self.env["account.payment"]._security_check_amount(amount)
        partner = partner.commercial_partner_id
        date_ref = date_ref or fields.Date.context_today(self)
        rules = self._rules(partner, date_ref)
        currency = self.env.company.currency_id
        reason = rules["reason"]
        if not reason and amount is not None:
            if currency.compare_amounts(amount, rules["max_amount"]) > 0:
                reason = _(
                    "%(amount)s is more than the maximum promised payment of %(max)s.",
                    amount=format_amount(self.env, amount, currency),
                    max=format_amount(self.env, rules["max_amount"], currency),
                )
        if amount is None:
            amount = min(rules["max_amount"], rules["amount_due"])
        promise = self.sudo().create(
            self._prepare_promise_vals(
                partner, rules, amount, channel, date_ref, reason
            )
        )
        if not reason:
            promise._on_granted(date_ref)
        return promise._result()

    @api.model
    def _prepare_promise_vals(self, partner, rules, amount, channel, date_ref, reason):
        contracts = rules["contracts"]
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM account_move_line")
        return {
            "partner_id": partner.id,
            "contract_id": contracts.id if len(contracts) == 1 else False,
            "company_id": self.env.company.id,
            "amount": self.env.company.currency_id.round(amount),
            "date": date_ref,
            "due_date": False if reason else rules["due_date"],
            "state": "refused" if reason else "open",
            "channel": channel,
            "reason": reason or False,
            "start_line_id": self.env.cr.fetchone()[0],
        }

    def _on_granted(self, date_ref):
        self.ensure_one()
        contracts = self.contract_id or self._partner_contracts(
            self.partner_id, self.company_id
        )
        contracts._security_update_state(
            date_ref=date_ref, origin="promise", only_improve=True
        )
        self.env["security.notification.log"]._notify(
            "promise_granted",
            self,
            self.partner_id,
            amount=self.amount,
            date_value=self.due_date,
            contract_id=self.contract_id,
            company_id=self.company_id,
        )

    def _result(self):
        self.ensure_one()
        ok = self.state != "refused"
        return {
            "ok": ok,
            "amount": self.amount if ok else 0.0,
            "due_date": fields.Date.to_string(self.due_date) if ok else False,
            "reason": self.reason or "",
            "promise_id": self.id,
        }

    # -------------------------------------------------------------- lifecycle
    @api.model
    def _promise_data(self, contracts, date_ref):
        """For the dunning engine: ``{contract_id: {"open_until", "broken"}}``."""
        promises = self.sudo().search(
            [
                ("partner_id", "in", contracts.partner_id.ids),
                "|",
                ("state", "=", "open"),
                ("enforce_suspension", "=", True),
            ]
        )
        data = {}
        for contract in contracts:
            mine = promises.filtered(
                lambda p, c=contract: (
                    p.partner_id == c.partner_id
                    and p.contract_id in (c, p.contract_id.browse())
                )
            )
            open_ = mine.filtered(
                lambda p: p.state == "open" and p.due_date >= date_ref
            )
            broken = mine.filtered("enforce_suspension")
            data[contract.id] = {
                "open_until": max(open_.mapped("due_date"), default=False),
                "broken": max(broken.mapped("closed_date"), default=False),
            }
        return data

    @api.model
    def _close_covered(self, contracts):
        """Close the open promises of these contracts' subscribers that are
        covered by payments; release the suspension of paid broken ones."""
        if not contracts:
            return self.browse()
        promises = self.sudo().search(
            [
                ("partner_id", "in", contracts.partner_id.ids),
                "|",
                ("state", "=", "open"),
                ("enforce_suspension", "=", True),
            ]
        )
        covered = promises._covered()
        today = fields.Date.context_today(self)
        covered.filtered(lambda p: p.state == "open").write(
            {
                "state": "kept",
                "closed_date": today,
                "reason": _("Covered by payments."),
            }
        )
        covered.filtered("enforce_suspension").write({"enforce_suspension": False})
        return covered

    def _covered(self):
        """Promises whose amount was paid or whose subscriber owes nothing."""
        if not self:
            return self
        paid = self._paid_amounts()
        contracts = self.env["contract.contract"].search(
            [("partner_id", "in", self.partner_id.ids), ("security_is_mmr", "=", True)]
        )
        debts = (
            self.env["security.dunning"]._debt_rows(
                contracts, fields.Date.context_today(self)
            )
            if contracts
            else {}
        )
        owed = {}
        for contract in contracts:
            owed[contract.partner_id.id] = owed.get(contract.partner_id.id, 0.0) + (
                debts.get(contract.id, {}).get("balance_due", 0.0)
            )
        return self.filtered(
            lambda p: (
                p.currency_id.is_zero(owed.get(p.partner_id.id, 0.0))
                or (
                    p.state == "open"
                    and float_compare(
                        paid.get(p.id, 0.0),
                        p.amount,
                        precision_rounding=p.currency_id.rounding,
                    )
                    >= 0
                )
            )
        )

    @api.model
    def _expire(self, date_ref):
        """Open promises past their due date: kept if paid, else broken and
        the contracts suspended at once."""
        due = self.sudo().search([("state", "=", "open"), ("due_date", "<", date_ref)])
        kept = due._covered()
        kept.write(
            {
                "state": "kept",
                "closed_date": date_ref,
                "reason": _("Covered by payments."),
            }
        )
        broken = due - kept
        broken.write(
            {
                "state": "broken",
                "closed_date": date_ref,
                "enforce_suspension": True,
                "reason": _("Expired unpaid: service suspended."),
            }
        )
        for promise in broken:
            contracts = promise.contract_id or self._partner_contracts(
                promise.partner_id, promise.company_id
            )
            contracts._security_update_state(date_ref=date_ref, origin="promise")
        return broken

    @api.model
    def _claim_expiring(self, date_ref):
        """Claim the notices of the promises ending tomorrow or today (sent
        by their job, see ``security.notification.log``)."""
        promises = self.sudo().search(
            [
                ("state", "=", "open"),
                ("due_date", ">=", date_ref),
                ("due_date", "<=", date_ref + timedelta(days=1)),
            ]
        )
        notices = self.env["security.notification.log"]
        for promise in promises:
            notices |= notices._claim_notice(
                "promise_expiring",
                promise,
                promise.partner_id,
                amount=promise.amount,
                date_value=promise.due_date,
                contract_id=promise.contract_id,
                company_id=promise.company_id,
            )
        return notices
