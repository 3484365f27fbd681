from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_compare

SEVERITY = {"active": 0, "warning": 1, "suspended": 2, "terminated": 3}
DEFAULT_RULES = [
    {"state": "suspended", "days_past_due": 15, "min_amount": 0.0},
    {"state": "warning", "days_past_due": 1, "min_amount": 0.0},
]


class SecurityDunningRule(models.Model):
    """When an overdue MMR contract moves to warning, suspended, terminated.

    A company without rules uses the defaults: warning from 1 day past due,
    suspended from 15 days.
    """

    _name = "security.dunning.rule"
    _description = "Security Billing Dunning Rule"
    _order = "company_id, days_past_due, id"
    _rec_name = "state"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    state = fields.Selection(
        [
            ("warning", "Warning"),
            ("suspended", "Suspended"),
            ("terminated", "Terminated"),
        ],
        string="Service Status",
        required=True,
    )
    days_past_due = fields.Integer(
        required=True,
        help="Days since the due date of the oldest unpaid MMR invoice.",
    )
    min_amount = fields.Monetary(
        string="Minimum Past Due Amount",
        currency_field="currency_id",
        help="The rule applies only when at least this much is past due.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    active = fields.Boolean(string="Rule in Use", default=True)

    _sql_constraints = [
        (
            "company_state_uniq",
            "unique (company_id, state)",
            "There is already a rule for this status in this company.",
        ),
        ("days_positive", "check (days_past_due >= 0)", "Days past due >= 0."),
        ("amount_positive", "check (min_amount >= 0)", "Minimum amount >= 0."),
    ]

    @api.constrains("state", "days_past_due", "company_id", "active")
    def _check_days_order(self):
        for company in self.company_id:
            rules = self._get_rules(company)
            days = [rule["days_past_due"] for rule in rules]
            if days != sorted(days, reverse=True):
                raise ValidationError(
                    _(
                        "Dunning rules of %(company)s: a harsher status needs at "
                        "least as many days past due (warning <= suspended <= "
                        "terminated).",
                        company=company.name,
                    )
                )

    @api.model
    def _get_rules(self, company):
        """Rules of ``company`` as dicts, harshest first (defaults if none)."""
        rules = self.search([("company_id", "=", company.id)])
        if not rules:
            return list(DEFAULT_RULES)
        return sorted(
            (
                {
                    "state": rule.state,
                    "days_past_due": rule.days_past_due,
                    "min_amount": rule.min_amount,
                }
                for rule in rules
            ),
            key=lambda rule: SEVERITY[rule["state"]],
            reverse=True,
        )

    @api.model
    def _match(self, rules, days, past_due, rounding):
        """The harshest rule met by ``days`` and ``past_due``, else None."""
        if float_compare(past_due, 0.0, precision_rounding=rounding) <= 0:
            return None
        for rule in rules:
            if (
                days >= rule["days_past_due"]
                and float_compare(
                    past_due, rule["min_amount"], precision_rounding=rounding
                )
                >= 0
            ):
                return rule
        return None
