"""The shared frame of the billing analyses: read-only SQL views."""

from odoo import fields, models, tools
from odoo.tools import SQL


class SecurityBillingReportViewMixin(models.AbstractModel):
    """An analysis of the billing overview: a read-only SQL view.

    A model inheriting it sets ``_auto = False`` and returns its ``SELECT``
    from ``_query``; the view is created again at every install and update.
    The subscriber, contract, company and currency columns are shared.
    """

    _name = "security.billing.report.view.mixin"
    _description = "Security Billing Analysis (SQL view)"

    partner_id = fields.Many2one("res.partner", string="Subscriber", readonly=True)
    contract_id = fields.Many2one("contract.contract", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)

    def init(self):
        res = super().init()
        if self._abstract:
            return res
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
        return res

    def _query(self):
        """The ``SELECT`` of the view, one row per record.

        :rtype: odoo.tools.SQL
        """
        raise NotImplementedError
