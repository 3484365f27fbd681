from odoo import models


class ContractTemplateLine(models.Model):
    _inherit = "contract.template.line"

    def _security_prorates(self):
        return (
            len(self) == 1
            and bool(self.contract_id.security_prorate_first_period)
            and not self.display_type
        )

    def _security_prepare_contract_line_vals(self, date_start):
        """Values of the contract line made from this bundle line."""
        self.ensure_one()
        vals = {
            "sequence": self.sequence,
            "display_type": self.display_type,
            "note_invoicing_mode": self.note_invoicing_mode,
            "product_id": self.product_id.id,
            "name": self.name,
            "quantity": self.quantity,
            "uom_id": self.uom_id.id,
            "automatic_price": self.automatic_price,
            "specific_price": self.specific_price,
            "price_unit": self.price_unit,
            "discount": self.discount,
            "date_start": date_start,
        }
        if self.contract_id.line_recurrence:
            vals.update(
                recurring_rule_type=self.recurring_rule_type,
                recurring_interval=self.recurring_interval,
                recurring_invoicing_type=self.recurring_invoicing_type,
            )
        return vals
