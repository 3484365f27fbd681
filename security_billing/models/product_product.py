from odoo import Command, api, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    @api.model_create_multi
    def create(self, vals_list):
        # before the defaults of the template fields are added
        templates = self.env["product.template"]
        for vals in vals_list:
            if vals.get("security_is_mmr") and "taxes_id" not in vals:
                tax = templates._security_default_mmr_tax(vals.get("company_id"))
                if tax:
                    vals["taxes_id"] = [Command.set(tax.ids)]
        return super().create(vals_list)
