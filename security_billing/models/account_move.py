import operator as py_operator

from odoo import api, fields, models
from odoo.exceptions import UserError

PAID_STATES = ("paid", "in_payment", "reversed")

# SQL sums of the open receivable lines behind each computed balance field.
BALANCE_AGGREGATES = {
    "security_balance": "SUM(-l.amount_residual)",
    "security_balance_due": "SUM(GREATEST(l.amount_residual, 0))",
    "security_past_due": "SUM(CASE WHEN l.amount_residual > 0 "
    "AND l.date_maturity < %(today)s THEN l.amount_residual ELSE 0 END)",
}
SEARCH_OPERATORS = {
    "=": py_operator.eq,
    "!=": py_operator.ne,
    "<": py_operator.lt,
    "<=": py_operator.le,
    ">": py_operator.gt,
    ">=": py_operator.ge,
}


class AccountMove(models.Model):
    _inherit = "account.move"

    security_contract_id = fields.Many2one(
        "contract.contract",
        compute="_compute_security_contract_id",
        store=True,
        readonly=False,
        index=True,
        copy=False,
    )
    security_is_mmr = fields.Boolean(
        string="MMR Invoice",
        compute="_compute_security_is_mmr",
        store=True,
        index=True,
        help="Invoice of an MMR contract: it makes up the customer's balance.",
    )
    security_billing_run_id = fields.Many2one(
        "security.billing.run",
        string="Billing Run",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    security_is_payment = fields.Boolean(
        string="Security Payment",
        copy=False,
        help="Entry of a payment received through a security billing channel.",
    )
    security_in_balance = fields.Boolean(
        compute="_compute_security_in_balance", store=True, index=True
    )
    security_period_start = fields.Date(
        string="Service From", compute="_compute_security_period", store=True
    )
    security_period_end = fields.Date(
        string="Service To", compute="_compute_security_period", store=True
    )

    @api.depends("invoice_line_ids.contract_line_id", "reversed_entry_id")
    def _compute_security_contract_id(self):
        for move in self:
            contract = move.invoice_line_ids.contract_line_id.contract_id[:1]
            move.security_contract_id = (
                contract
                or move.reversed_entry_id.security_contract_id
                or move.security_contract_id
            )

    @api.depends("move_type", "security_contract_id.security_is_mmr")
    def _compute_security_is_mmr(self):
        for move in self:
            move.security_is_mmr = move.move_type in (
                "out_invoice",
                "out_refund",
            ) and bool(move.security_contract_id.security_is_mmr)

    @api.depends("security_is_mmr", "security_is_payment")
    def _compute_security_in_balance(self):
        for move in self:
            move.security_in_balance = move.security_is_mmr or move.security_is_payment

    @api.depends("line_ids.security_period_start", "line_ids.security_period_end")
    def _compute_security_period(self):
        for move in self:
            starts = move.line_ids.filtered("security_period_start")
            move.security_period_start = min(
                starts.mapped("security_period_start"), default=False
            )
            move.security_period_end = max(
                starts.mapped("security_period_end"), default=False
            )

    @api.model_create_multi
    def create(self, vals_list):
        # context security_payment_move_vals: {payment id: values of its entry}
        by_payment = self.env.context.get("security_payment_move_vals")
        if by_payment:
            vals_list = [
                dict(by_payment.get(vals.get("origin_payment_id"), {}), **vals)
                for vals in vals_list
            ]
        return super().create(vals_list)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        mmr = posted.filtered(lambda m: m.security_is_mmr and m.is_invoice())
        if mmr:
            mmr.commercial_partner_id._security_apply_open_credit()
        return posted

    @api.model
    def _security_balance_rows(self, group_field, ids, date_ref=None):
        """Sum the open receivable lines that make up security balances.

        ``group_field`` is ``partner_id`` or ``security_contract_id``
        of account.move.line; returns ``{id: {field: value}}``. Past due is
        what fell due before ``date_ref`` (default: today); besides the
        balance fields, ``security_credit`` is the open credit (gross).
        """
        if not ids:
            return {}
        assert group_field in ("partner_id", "security_contract_id")
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(
            f"""
            SELECT l.{group_field},
                   SUM(-l.amount_residual),
                   SUM(GREATEST(l.amount_residual, 0)),
                   SUM(CASE WHEN l.amount_residual > 0
                             AND l.date_maturity < %(today)s
                            THEN l.amount_residual ELSE 0 END),
                   MIN(CASE WHEN l.amount_residual > 0 THEN l.date_maturity END),
                   SUM(GREATEST(-l.amount_residual, 0))
              FROM account_move_line l
             WHERE l.{group_field} IN %(ids)s
               AND l.security_in_balance
               AND l.parent_state = 'posted'
               AND l.amount_residual != 0
             GROUP BY l.{group_field}
            """,
            {
                "ids": tuple(ids),
                "today": date_ref or fields.Date.context_today(self),
            },
        )
        return {
            row[0]: {
                "security_balance": row[1],
                "security_balance_due": row[2],
                "security_past_due": row[3],
                "security_oldest_due_date": row[4],
                "security_next_payment_date": row[4],
                "security_credit": row[5],
            }
            for row in self.env.cr.fetchall()
        }

    def _security_check_posted_payment_change(self):
        """Posted payment entries of subscribers (payments, transfers) follow
        the company's 'editing posted payments' setting."""
        for move in self.filtered(
            lambda m: m.security_is_payment and m.state == "posted"
        ):
            move.company_id._security_check_payment_edit(
                self.env._("Entry %(move)s", move=move.display_name)
            )

    def button_draft(self):
        self._security_check_posted_payment_change()
        return super().button_draft()

    def button_cancel(self):
        self._security_check_posted_payment_change()
        return super().button_cancel()

    @api.model
    def _security_search_balance(self, group_field, fname, operator, value):
        """Domain on ``id`` for a search on a computed security balance.

        One grouped SQL query over the same lines as ``_security_balance_rows``;
        records without open lines count as 0.
        """
        assert group_field in ("partner_id", "security_contract_id")
        if operator not in SEARCH_OPERATORS or isinstance(value, bool | str):
            raise UserError(
                self.env._(
                    "Unsupported search on %(field)s: %(operator)s %(value)r.",
                    field=fname,
                    operator=operator,
                    value=value,
                )
            )
        value = value or 0.0
        aggregate = BALANCE_AGGREGATES[fname]
        holds_for_zero = SEARCH_OPERATORS[operator](0.0, value)
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(
            f"""
            SELECT l.{group_field}
              FROM account_move_line l
             WHERE l.{group_field} IS NOT NULL
               AND l.security_in_balance
               AND l.parent_state = 'posted'
               AND l.amount_residual != 0
             GROUP BY l.{group_field}
            HAVING {"NOT" if holds_for_zero else ""} ({aggregate} {operator} %(value)s)
            """,
            {"value": value, "today": fields.Date.context_today(self)},
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        return [("id", "not in" if holds_for_zero else "in", ids)]
