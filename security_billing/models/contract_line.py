from odoo import models


class ContractLine(models.Model):
    _inherit = "contract.line"

    def _prepare_invoice_line(self):
        vals = super()._prepare_invoice_line()
        if vals and not self.display_type:
            first, last, _next = self._get_period_to_invoice(
                self.last_date_invoiced, self.recurring_next_date
            )
            vals.update(security_period_start=first, security_period_end=last)
        return vals
