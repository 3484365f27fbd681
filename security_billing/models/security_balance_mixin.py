"""The balance fields of subscribers and of MMR contracts: one definition,
inherited by ``res.partner`` and ``contract.contract``."""

from odoo import fields, models

BALANCE_FIELDS = (
    "security_balance",
    "security_balance_due",
    "security_past_due",
    "security_paid_until",
    "security_next_payment_date",
)


class SecurityBalanceMixin(models.AbstractModel):
    """Balances summed from the posted MMR invoices and payments of a record.

    A model inheriting it sets ``_security_balance_move_field``, the
    ``account.move`` column its moves are grouped by, and may extend
    ``_security_balance_data`` (the dates of a subscriber come from its
    contracts). The figures and their search filters are set-based SQL
    (``account.move._security_balance_rows`` and ``_security_search_balance``).
    """

    _name = "security.balance.mixin"
    _description = "Security Billing Balances"

    # account.move column the balances are grouped by (set by each model)
    _security_balance_move_field = None

    currency_id = fields.Many2one("res.currency")
    security_balance = fields.Monetary(
        string="Balance",
        compute="_compute_security_balances",
        currency_field="currency_id",
        search="_search_security_balance",
        help="Credit minus debt of MMR invoices; negative means the customer owes.",
    )
    security_balance_due = fields.Monetary(
        string="Balance Due",
        compute="_compute_security_balances",
        currency_field="currency_id",
        search="_search_security_balance_due",
        help="Unpaid amount of the posted MMR invoices.",
    )
    security_past_due = fields.Monetary(
        string="Past Due",
        compute="_compute_security_balances",
        currency_field="currency_id",
        search="_search_security_past_due",
        help="Unpaid amount of the MMR invoices past their due date.",
    )
    security_paid_until = fields.Date(
        string="Paid Until",
        compute="_compute_security_balances",
        help="End of the last service period paid with every earlier one.",
    )
    security_next_payment_date = fields.Date(
        string="Next Payment Date",
        compute="_compute_security_balances",
        help="Due date of the oldest unpaid MMR invoice, else the next invoice date.",
    )

    def _search_security_balance(self, operator, value):
        return self._security_search_balance_field("security_balance", operator, value)

    def _search_security_balance_due(self, operator, value):
        return self._security_search_balance_field(
            "security_balance_due", operator, value
        )

    def _search_security_past_due(self, operator, value):
        return self._security_search_balance_field("security_past_due", operator, value)

    def _security_search_balance_field(self, fname, operator, value):
        return self.env["account.move"]._security_search_balance(
            self._security_balance_move_field, fname, operator, value
        )

    def _compute_security_balances(self):
        data = self._security_balance_data()
        for record in self:
            values = data.get(record.id, {})
            for fname in BALANCE_FIELDS:
                record[fname] = values.get(fname, False)

    def _security_balance_data(self):
        """The balance figures of these records, in a few set-based queries.

        :return: ``{record id: {field name: value}}`` for the fields of
            ``BALANCE_FIELDS``; a missing record or field means nothing owed
            (0, no date).
        :rtype: dict
        """
        return self.env["account.move"]._security_balance_rows(
            self._security_balance_move_field, self.ids
        )
