from odoo import api, fields, models
from odoo.tools import float_is_zero


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    security_period_start = fields.Date(copy=False)
    security_period_end = fields.Date(copy=False)
    security_contract_id = fields.Many2one(
        related="move_id.security_contract_id", store=True, index=True
    )
    security_in_balance = fields.Boolean(
        compute="_compute_security_in_balance", store=True, index=True
    )

    @api.depends("move_id.security_in_balance", "account_id.account_type")
    def _compute_security_in_balance(self):
        for line in self:
            line.security_in_balance = (
                line.move_id.security_in_balance
                and line.account_id.account_type == "asset_receivable"
            )

    def write(self, vals):
        # Odoo tracks the changed fields of posted entries' lines; with no
        # tracked field in vals it still describes every field of the model
        # (fields_get([])): e.g. twice per reconciliation, which resets the
        # invoice lines' dirty flags (kept in cache only, never tracked).
        if vals and all(self._security_is_cache_only(fname) for fname in vals):
            return super(
                AccountMoveLine, self.with_context(tracking_disable=True)
            ).write(vals)
        return super().write(vals)

    @api.model
    def _security_is_cache_only(self, fname):
        """A field written to the cache only: not stored, no inverse."""
        field = self._fields.get(fname)
        return bool(field) and not field.store and not field.inverse

    def _security_get_open_mmr_debits(self, partner, contract=None):
        """Open receivable lines of MMR invoices, oldest first, row-locked."""
        domain = [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("security_in_balance", "=", True),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
            ("amount_residual", ">", 0),
            ("company_id", "=", partner.env.company.id),
        ]
        if contract:
            domain.append(("security_contract_id", "=", contract.id))
        lines = self.search(domain, order="date_maturity, date, id")
        if lines:
            self.env.cr.execute(
                "SELECT id FROM account_move_line WHERE id IN %s FOR UPDATE",
                [tuple(lines.ids)],
            )
            lines.invalidate_recordset(["amount_residual", "reconciled"])
        return lines

    def _security_allocate_oldest_first(self, contract=None):
        """Reconcile these open receivable credit lines oldest invoice first.

        The one allocation function of every channel (manual, bank, terminal,
        portal, autopay, credit carried to a new invoice). A credit line bound
        to a contract pays that contract's invoices only. What is left stays
        open as customer credit. Returns ``[{"invoice": move, "amount": x}]``.
        """
        allocations = []
        for credit in self.filtered(lambda line: line.amount_residual < 0):
            target = contract or credit.security_contract_id
            debits = self._security_get_open_mmr_debits(credit.partner_id, target)
            for debit in debits:
                if float_is_zero(
                    credit.amount_residual,
                    precision_rounding=credit.company_currency_id.rounding,
                ):
                    break
                before = debit.amount_residual
                (credit | debit).reconcile()
                allocations.append(
                    {"invoice": debit.move_id, "amount": before - debit.amount_residual}
                )
        return allocations
