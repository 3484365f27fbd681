"""MMR contracts: the MMR flag, protected sites, the monthly fee and
bundles. Balances, service status (dunning), autopay and billing live in the
``contract_contract_*.py`` files beside this one."""

from odoo import Command, api, fields, models


class ContractContract(models.Model):
    _inherit = "contract.contract"

    security_is_mmr = fields.Boolean(
        string="MMR Contract",
        compute="_compute_security_is_mmr",
        store=True,
        index=True,
    )
    security_site_ids = fields.One2many(
        "security.site", "contract_id", string="Protected Sites"
    )
    security_monthly_fee = fields.Monetary(
        string="Monthly Fee",
        compute="_compute_security_monthly_fee",
        currency_field="currency_id",
        help="MMR per month, whatever the billing frequency.",
    )

    @api.depends("contract_line_ids.product_id.security_is_mmr")
    def _compute_security_is_mmr(self):
        for contract in self:
            contract.security_is_mmr = any(
                contract.contract_line_ids.product_id.mapped("security_is_mmr")
            )

    @api.depends("contract_line_ids.monthly_recurring")
    def _compute_security_monthly_fee(self):
        for contract in self:
            contract.security_monthly_fee = sum(
                contract.contract_line_ids.mapped("monthly_recurring")
            )

    # ------------------------------------------------------------ bundles
    @api.model
    def _security_create_from_template(self, template, partner, date_start, **vals):
        """Create the contract of ``partner`` from a bundle (contract template)."""
        return self.create(
            dict(
                self._security_prepare_template_vals(template, partner, date_start),
                **vals,
            )
        )

    @api.model
    def _security_prepare_template_vals(self, template, partner, date_start):
        recurrence = {
            fname: template[fname]
            for fname in (
                "line_recurrence",
                "recurring_rule_type",
                "recurring_interval",
                "recurring_invoicing_type",
                "security_prorate_first_period",
            )
        }
        return dict(
            recurrence,
            name=f"{template.name} - {partner.name}",
            partner_id=partner.id,
            company_id=template.company_id.id,
            contract_template_id=template.id,
            contract_type=template.contract_type,
            journal_id=template.journal_id.id,
            pricelist_id=template.pricelist_id.id,
            date_start=date_start,
            contract_line_ids=[
                Command.create(line._security_prepare_contract_line_vals(date_start))
                for line in template.contract_line_ids
            ],
        )

    @api.model
    def _security_mmr_id_ranges(self, company_ids, size):
        """The id ranges of ``size`` ids that hold MMR contracts of
        ``company_ids``: how daily background work over the subscribers is
        cut into jobs (dunning, customer notices).

        :return: ``[(first_id, last_id)]``, ascending
        :rtype: list
        """
        self.flush_model(["security_is_mmr", "company_id"])
        self.env.cr.execute(
            """
            SELECT DISTINCT id / %s FROM contract_contract
             WHERE security_is_mmr AND company_id IN %s ORDER BY 1
            """,
            [size, tuple(company_ids)],
        )
        return [
            (bucket * size, bucket * size + size - 1)
            for (bucket,) in self.env.cr.fetchall()
        ]
