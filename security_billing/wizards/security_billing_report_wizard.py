from odoo import api, fields, models

REPORTS = {
    "mmr_aging": "security_billing.action_report_mmr_aging_xlsx",
    "rmr": "security_billing.action_report_rmr_xlsx",
    "app_usage": "security_billing.action_report_app_usage_xlsx",
}


class SecurityBillingReportWizard(models.TransientModel):
    """Pick a Security Billing XLSX report and its date."""

    _name = "security.billing.report.wizard"
    _description = "Security Billing Reports"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    report = fields.Selection(
        [
            ("mmr_aging", "MMR Aging"),
            ("rmr", "Recurring Monthly Revenue"),
            ("app_usage", "App Users vs Billed"),
        ],
        required=True,
        default="mmr_aging",
    )
    date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        help="Aging: days past due counted at this date. RMR: revenue running "
        "at this date; added and cancelled in its month. App users: latest "
        "invoice up to this date.",
    )

    @api.model
    def _get_report_action_xmlid(self, report):
        return REPORTS[report]

    def action_print(self):
        self.ensure_one()
        report = self.env.ref(self._get_report_action_xmlid(self.report))
        # XLSX: no document layout to configure first
        return report.report_action(self, config=False)
