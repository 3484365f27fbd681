"""The description a contract line will have on its next invoice: OCA's
``#START#``, ``#END#`` and ``#INVOICEMONTHNAME#`` markers are replaced on
invoices only, so the contract form shows the line as it will be billed."""

from odoo import api, fields, models


class ContractLine(models.Model):
    _inherit = "contract.line"  # pylint: disable=consider-merging-classes-inherited

    security_invoice_name = fields.Text(
        string="Description",
        compute="_compute_security_invoice_name",
        help="The description on the next invoice: the period markers of the "
        "line (#START#, #END#, #INVOICEMONTHNAME#) replaced by its dates.",
    )

    @api.depends("name", "next_period_date_start", "next_period_date_end")
    def _compute_security_invoice_name(self):
        for line in self:
            name = line.name or ""
            if "#" in name and not line.display_type:
                name = line._insert_markers(
                    line.next_period_date_start, line.next_period_date_end
                )
            line.security_invoice_name = name
