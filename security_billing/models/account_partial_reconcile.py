from odoo import api, models


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
