from odoo import api, models
from odoo.tools import float_round

# With no recurrence at line level, a line's recurrence is its contract's.
CONTRACT_RECURRENCE_FIELDS = (
    "recurring_rule_type",
    "recurring_invoicing_type",
    "recurring_interval",
    "date_start",
)


class ContractLine(models.Model):
    _inherit = "contract.line"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._security_sync_recurrence_vals(vals)
        return super().create(vals_list)

    @api.model
    def _security_sync_recurrence_vals(self, vals):
        """Take the contract's recurrence for lines created without their own.

        The recurrence fields of a line have defaults (monthly, pre-paid,
        today) that win over their computation from the contract at create
        time; a quarterly contract created by code would get monthly lines.
        """
        contract = self.env["contract.contract"].browse(vals.get("contract_id"))
        if not contract or contract.line_recurrence:
            return vals
        for fname in CONTRACT_RECURRENCE_FIELDS:
            if fname not in vals and contract[fname]:
                vals[fname] = contract._fields[fname].convert_to_write(
                    contract[fname], contract
                )
        return vals

    def _prepare_invoice_line(self):
        vals = super()._prepare_invoice_line()
        if vals and not self.display_type:
            first, last, _next = self._get_period_to_invoice(
                self.last_date_invoiced, self.recurring_next_date
            )
            vals.update(security_period_start=first, security_period_end=last)
            vals.update(self._security_prorate_vals(vals, first, last))
        return vals

    def _insert_markers(self, first_date_invoiced, last_date_invoiced):
        # Most lines have no #START#/#END#/#INVOICEMONTHNAME# marker: skip the
        # language lookup OCA makes for each line of each invoice.
        if "#" not in (self.name or ""):
            return self.name
        return super()._insert_markers(first_date_invoiced, last_date_invoiced)

    def _get_quantity_to_invoice(
        self, period_first_date, period_last_date, invoice_date
    ):
        quantity = super()._get_quantity_to_invoice(
            period_first_date, period_last_date, invoice_date
        )
        if not self.display_type and self.product_id.security_per_app_user:
            quantity = self._security_app_user_count()
        return quantity

    def _security_app_user_count(self):
        """Active app users of the contract's active sites, now."""
        self.ensure_one()
        return sum(self.contract_id.security_site_ids.mapped("app_user_count"))

    def _security_prorate_factor(self, first, last):
        """Days billed / days of the whole aligned period, or (1, 0, 0).

        Returns ``(factor, days, period_days)``.
        """
        self.ensure_one()
        if not (first and last and self._security_prorates()):
            return 1.0, 0, 0
        start, end = self._security_aligned_period(
            first, self.recurring_rule_type, self.recurring_interval
        )
        if not start or (first == start and last >= end):
            return 1.0, 0, 0
        days = (last - first).days + 1
        period_days = (end - start).days + 1
        return min(days / period_days, 1.0), days, period_days

    def _security_prorate_vals(self, vals, first, last):
        """Invoice line values of a partial period: price prorated by days.

        The price (not the quantity, rounded to the unit of measure) carries
        the factor, so the amount is exact to the cent.
        """
        factor, days, period_days = self._security_prorate_factor(first, last)
        if factor == 1.0:
            return {}
        precision = self.env["decimal.precision"].precision_get("Product Price")
        return {
            "price_unit": float_round(
                vals["price_unit"] * factor, precision_digits=precision
            ),
            "name": self.env._(
                "%(name)s (prorated: %(days)s of %(period_days)s days)",
                name=vals["name"],
                days=days,
                period_days=period_days,
            ),
        }
