from odoo import api, models

# Fields of a partial reconciliation that change what it settles.
PARTIAL_LOCKED_FIELDS = {
    "amount",
    "debit_amount_currency",
    "credit_amount_currency",
    "debit_move_id",
    "credit_move_id",
}


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        """A credit note settling MMR debt lifts the suspension at once."""
        partials = super().create(vals_list)
        refunds = partials.credit_move_id.move_id.filtered(
            lambda move: move.move_type == "out_refund" and move.security_is_mmr
        )
        contracts = (
            partials.debit_move_id.move_id.security_contract_id
            | refunds.security_contract_id
        )
        if refunds and contracts:
            contracts._security_on_balance_changed(origin="credit_note")
        return partials

    # ------------------------------------------- posted payments of subscribers
    def _security_check_posted_payment_change(self):
        """Refuse unreconciling the receivable items of posted payment
        entries of subscribers (see the account.move method of this name)."""
        self._security_receivable_entries(
            self.debit_move_id | self.credit_move_id
        )._security_check_posted_payment_change()

    @api.model
    def _security_receivable_entries(self, lines):
        """The entries of the receivable items among ``lines``: the items
        that count in subscribers' balances (a payment's outstanding item
        matched with its bank statement line does not)."""
        return lines.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).move_id

    def write(self, vals):
        if PARTIAL_LOCKED_FIELDS & vals.keys():
            # what it settled and what it would settle
            self._security_check_posted_payment_change()
            new_lines = self.env["account.move.line"].browse(
                [vals[f] for f in ("debit_move_id", "credit_move_id") if vals.get(f)]
            )
            self._security_receivable_entries(
                new_lines
            )._security_check_posted_payment_change()
        return super().write(vals)

    def unlink(self):
        self._security_check_posted_payment_change()
        return super().unlink()
