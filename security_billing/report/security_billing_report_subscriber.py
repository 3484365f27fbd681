from odoo import fields, models
from odoo.tools import SQL

from ..models.contract_contract_dunning import SECURITY_STATES

# The service status of a contract, and "promised" while a granted promised
# payment covers it (an open promise not yet due).
REPORT_STATES = [state for state in SECURITY_STATES if state[0] != "terminated"] + [
    ("promised", "Promised Payment"),
    ("terminated", "Terminated"),
]


class SecurityBillingReportSubscriber(models.Model):
    """MMR contracts (subscriptions) by service status today."""

    _name = "security.billing.report.subscriber"
    _inherit = "security.billing.report.view.mixin"
    _description = "Security Billing Subscribers by Service Status"
    _auto = False
    _rec_name = "contract_id"
    _order = "company_id, partner_id, id"
    _depends = {
        "contract.contract": [
            "partner_id",
            "company_id",
            "security_state",
            "security_state_since",
            "recurring_next_date",
            "security_is_mmr",
            "active",
            "contract_type",
        ],
        "security.promised.payment": [
            "state",
            "due_date",
            "partner_id",
            "company_id",
            "contract_id",
        ],
        "res.company": ["currency_id"],
    }

    state = fields.Selection(REPORT_STATES, string="Service Status", readonly=True)
    contract_state = fields.Selection(
        SECURITY_STATES,
        string="Contract Status",
        readonly=True,
        help="The status on the contract, before a promised payment.",
    )
    state_since = fields.Date(string="Status Since", readonly=True)
    promise_until = fields.Date(string="Promised Until", readonly=True)
    recurring_next_date = fields.Date(string="Next Invoice", readonly=True)
    contract_count = fields.Integer(string="Contracts", readonly=True)

    def _query(self):
        return SQL(
            """
            SELECT c.id, c.id AS contract_id, c.partner_id, c.company_id,
                   rc.currency_id,
                   CASE WHEN c.security_state != 'terminated'
                             AND pr.promise_until IS NOT NULL
                        THEN 'promised' ELSE c.security_state END AS state,
                   c.security_state AS contract_state,
                   c.security_state_since AS state_since,
                   pr.promise_until,
                   c.recurring_next_date,
                   1 AS contract_count
              FROM contract_contract c
              JOIN res_company rc ON rc.id = c.company_id
              LEFT JOIN LATERAL (
                  SELECT MAX(p.due_date) AS promise_until
                    FROM security_promised_payment p
                   WHERE p.state = 'open'
                     AND p.due_date >= CURRENT_DATE
                     AND p.partner_id = c.partner_id
                     AND p.company_id = c.company_id
                     AND (p.contract_id IS NULL OR p.contract_id = c.id)
              ) pr ON TRUE
             WHERE c.security_is_mmr AND c.active AND c.contract_type = 'sale'
            """
        )
