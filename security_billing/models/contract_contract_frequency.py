"""A readable billing frequency ("Monthly", "Every 2 months") for the lists
that show contracts, instead of OCA's "Month(s)" selection labels."""

from odoo import api, fields, models


class ContractContract(models.Model):
    _inherit = "contract.contract"  # pylint: disable=consider-merging-classes-inherited

    security_frequency_label = fields.Char(
        string="Billed",
        compute="_compute_security_frequency_label",
        help="How often the contract is invoiced.",
    )

    @api.depends("recurring_rule_type", "recurring_interval")
    def _compute_security_frequency_label(self):
        for contract in self:
            contract.security_frequency_label = contract._security_frequency_label(
                contract.recurring_rule_type, contract.recurring_interval
            )

    def _security_frequency_label(self, rule_type, interval):
        """:param rule_type: OCA's ``recurring_rule_type``
        :param interval: OCA's ``recurring_interval``
        :return: "Monthly", "Every 2 months"... (empty without a rule)"""
        if not rule_type:
            return ""
        _ = self.env._
        interval = max(interval or 1, 1)
        if interval == 1:
            labels = {
                "daily": _("Daily"),
                "weekly": _("Weekly"),
                "monthly": _("Monthly"),
                "monthlylastday": _("Monthly (last day)"),
                "quarterly": _("Quarterly"),
                "semesterly": _("Every 6 months"),
                "yearly": _("Yearly"),
            }
            return labels.get(rule_type, rule_type)
        labels = {
            "daily": _("Every %(count)s days", count=interval),
            "weekly": _("Every %(count)s weeks", count=interval),
            "monthly": _("Every %(count)s months", count=interval),
            "monthlylastday": _("Every %(count)s months (last day)", count=interval),
            "quarterly": _("Every %(count)s months", count=interval * 3),
            "semesterly": _("Every %(count)s months", count=interval * 6),
            "yearly": _("Every %(count)s years", count=interval),
        }
        return labels.get(rule_type, rule_type)
