from odoo import Command, api, fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    security_is_mmr = fields.Boolean(
        string="MMR",
        help="Monthly monitoring rate: contracts with such a line are MMR "
        "contracts and their invoices make up the customer's balance.",
    )
    security_per_app_user = fields.Boolean(
        string="Billed per app user",
        help="On a contract line, the quantity is the number of active app "
        "users of the contract's sites at invoicing time.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("security_is_mmr") and "taxes_id" not in vals:
                tax = self._security_default_mmr_tax(vals.get("company_id"))
                if tax:
                    vals["taxes_id"] = [Command.set(tax.ids)]
        return super().create(vals_list)

    @api.onchange("security_is_mmr")
    def _onchange_security_is_mmr(self):
        tax = self._security_default_mmr_tax(self.company_id.id)
        if self.security_is_mmr and tax and not self._origin.id:
            self.taxes_id = tax

    @api.model
    def _security_default_mmr_tax(self, company_id=None):
        """The company's default tax of MMR products (may be empty)."""
        company = self.env["res.company"].browse(company_id) or self.env.company
        return company.security_mmr_tax_id
