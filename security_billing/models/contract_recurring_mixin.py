from dateutil.relativedelta import relativedelta

from odoo import api, models

# Recurrences whose periods can be aligned on the first day of a month.
ALIGNED_RULES = ("monthly", "monthlylastday", "quarterly", "semesterly", "yearly")


class ContractRecurringMixin(models.AbstractModel):
    """First period prorated by days: periods aligned on the 1st of a month.

    With ``security_prorate_first_period`` on the contract, a contract that
    starts in the middle of a period is first billed from its start date to
    the end of the period that began on the 1st of its start month; later
    periods are whole (monthly, quarterly, semi-annual or annual alike).
    """

    _inherit = "contract.recurring.mixin"

    def _security_prorates(self):
        """True when this single record aligns and prorates its periods."""
        return False

    @api.model
    def _security_aligned_period(self, date_from, rule, interval):
        """The whole aligned period containing ``date_from``: (start, end)."""
        if not date_from or rule not in ALIGNED_RULES:
            return False, False
        start = date_from.replace(day=1)
        end = start + self.get_relative_delta(rule, interval) - relativedelta(days=1)
        return start, end

    @api.model
    def get_next_period_date_end(
        self,
        next_period_date_start,
        recurring_rule_type,
        recurring_interval,
        max_date_end,
        next_invoice_date=False,
        recurring_invoicing_type=False,
        recurring_invoicing_offset=False,
    ):
        end = super().get_next_period_date_end(
            next_period_date_start,
            recurring_rule_type,
            recurring_interval,
            max_date_end,
            next_invoice_date=next_invoice_date,
            recurring_invoicing_type=recurring_invoicing_type,
            recurring_invoicing_offset=recurring_invoicing_offset,
        )
        if end and len(self) == 1 and self._security_prorates():
            aligned_end = self._security_aligned_period(
                next_period_date_start, recurring_rule_type, recurring_interval
            )[1]
            if aligned_end and aligned_end < end:
                end = aligned_end
        return end

    def _security_split_prorated(self):
        """(records computed one by one, records computed together)."""
        prorated = self.filtered(lambda rec: rec._security_prorates())
        return prorated, self - prorated

    def _compute_next_period_date_end(self):
        prorated, others = self._security_split_prorated()
        res = super(ContractRecurringMixin, others)._compute_next_period_date_end()
        for rec in prorated:
            super(ContractRecurringMixin, rec)._compute_next_period_date_end()
        return res

    def _compute_recurring_next_date(self):
        prorated, others = self._security_split_prorated()
        res = super(ContractRecurringMixin, others)._compute_recurring_next_date()
        for rec in prorated:
            super(ContractRecurringMixin, rec)._compute_recurring_next_date()
        return res
