from odoo import fields, models


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
