from odoo import fields, models


class SecurityPaymentCategory(models.Model):
    _name = "security.payment.category"
    _description = "Security Billing Payment Category"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Stable code used by channels and the API.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(string="Category in Use", default=True)
    company_id = fields.Many2one("res.company", help="Empty: shared by all companies.")

    _sql_constraints = [
        (
            "code_company_uniq",
            "unique nulls not distinct (code, company_id)",
            "A payment category code must be unique per company.",
        )
    ]

    def _get_by_code(self, code):
        """Return the category of ``code`` for the current company (or shared)."""
        return self.search(
            [("code", "=", code), ("company_id", "in", [False, self.env.company.id])],
            order="company_id desc nulls last",
            limit=1,
        )
