from odoo import fields, models


class ContractTemplate(models.Model):
    _inherit = "contract.template"

    security_prorate_first_period = fields.Boolean(
        string="Prorate First Period",
        help="Billing periods start on the 1st of a month: a contract that "
        "starts in the middle of a period is first billed from its start date "
        "to the end of that period, at the price prorated by days.",
    )

    def _security_prorates(self):
        return len(self) == 1 and self.security_prorate_first_period
