import json

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL, format_amount

from ..tools.aging import AGING_BUCKETS

FIGURES = [
    ("rmr", "Recurring Monthly Revenue"),
    ("past_due", "Past Due"),
    ("subscribers", "Subscribers"),
    ("collection", "Collection"),
    ("payments", "Payments"),
    ("next_run", "Next Billing Run"),
]


class SecurityBillingOverview(models.Model):
    """The Security Billing dashboard: one card per figure and company, with
    the figures the trade runs on, each read from the analysis it opens (RMR,
    aging, subscribers, collection, payments) so that a figure and its
    drill-down always agree."""

    _name = "security.billing.overview"
    _description = "Security Billing Overview"
    _auto = False
    _rec_name = "figure"
    _order = "company_id, sequence"
    _depends = {"res.company": ["active", "currency_id"]}

    figure = fields.Selection(FIGURES, readonly=True)
    sequence = fields.Integer(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    month = fields.Date(string="This Month", compute="_compute_rmr")
    rmr = fields.Monetary(string="RMR", compute="_compute_rmr")
    rmr_new = fields.Monetary(string="New RMR", compute="_compute_rmr")
    rmr_lost = fields.Monetary(string="Lost RMR", compute="_compute_rmr")
    rmr_net = fields.Monetary(string="Net RMR Change", compute="_compute_rmr")
    past_due_1_30 = fields.Monetary(string="1-30 days", compute="_compute_past_due")
    past_due_31_60 = fields.Monetary(string="31-60 days", compute="_compute_past_due")
    past_due_61_90 = fields.Monetary(string="61-90 days", compute="_compute_past_due")
    past_due_over_90 = fields.Monetary(
        string="Over 90 days", compute="_compute_past_due"
    )
    past_due = fields.Monetary(compute="_compute_past_due")
    count_active = fields.Integer(
        string="Active Service", compute="_compute_subscribers"
    )
    count_warning = fields.Integer(string="Warning", compute="_compute_subscribers")
    count_suspended = fields.Integer(string="Suspended", compute="_compute_subscribers")
    count_promised = fields.Integer(
        string="Promised Payment", compute="_compute_subscribers"
    )
    count_terminated = fields.Integer(
        string="Terminated", compute="_compute_subscribers"
    )
    collection_rate = fields.Float(
        string="Collection Rate This Month",
        digits=(16, 1),
        compute="_compute_collection",
        help="Paid of invoiced, in percent, of the MMR invoices dated this month.",
    )
    collection_rate_last_month = fields.Float(
        digits=(16, 1),
        compute="_compute_collection",
        help="Paid of invoiced, in percent, of the MMR invoices dated last month.",
    )
    payment_amount = fields.Monetary(
        string="Payments This Month", compute="_compute_payments"
    )
    payment_count = fields.Integer(
        string="Payments This Month (count)", compute="_compute_payments"
    )
    payment_categories = fields.Text(
        string="Payments by Category",
        compute="_compute_payments",
        help="This month's payments by category, as JSON for the card.",
    )
    next_run_date = fields.Date(string="Next Billing Run", compute="_compute_next_run")
    next_run_contracts = fields.Integer(
        string="Contracts Due at the Next Run", compute="_compute_next_run"
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """CREATE VIEW %s AS (
                       SELECT c.id * %s + f.sequence AS id, f.figure, f.sequence,
                              c.id AS company_id, c.currency_id
                         FROM res_company c
                        CROSS JOIN (VALUES %s) AS f (sequence, figure)
                        WHERE c.active
                   )""",
                SQL.identifier(self._table),
                len(FIGURES) + 1,
                SQL(", ").join(
                    SQL("(%s, %s)", sequence, figure)
                    for sequence, (figure, _label) in enumerate(FIGURES, start=1)
                ),
            )
        )

    # ------------------------------------------------------------ periods
    def _month(self, months_ago=0):
        """``(first day, last day)`` of this month, or of ``months_ago``."""
        start = fields.Date.context_today(self).replace(day=1) - relativedelta(
            months=months_ago
        )
        return start, start + relativedelta(months=1, days=-1)

    def _company_domain(self):
        return [("company_id", "in", self.company_id.ids)]

    # ------------------------------------------------------------ figures
    def _compute_rmr(self):
        month, _end = self._month()
        groups = {
            company.id: (rmr, new, lost, net)
            for company, rmr, new, lost, net in self.env[
                "security.billing.report.rmr"
            ]._read_group(
                self._company_domain() + [("month", "=", month)],
                ["company_id"],
                ["rmr:sum", "new_rmr:sum", "lost_rmr:sum", "net_rmr:sum"],
            )
        }
        for card in self:
            rmr, new, lost, net = groups.get(card.company_id.id, (0.0,) * 4)
            card.month = month
            card.rmr = rmr
            card.rmr_new = new
            card.rmr_lost = lost
            card.rmr_net = net

    def _compute_past_due(self):
        amounts = {
            (company.id, bucket): amount
            for company, bucket, amount in self.env[
                "security.billing.report.aging"
            ]._read_group(
                self._company_domain() + [("is_past_due", "=", True)],
                ["company_id", "bucket"],
                ["amount_residual:sum"],
            )
        }
        past_due_buckets = [key for key, _label, low, _high in AGING_BUCKETS if low]
        for card in self:
            total = 0.0
            for key in past_due_buckets:
                amount = amounts.get((card.company_id.id, key), 0.0)
                card[f"past_due_{key}"] = amount
                total += amount
            card.past_due = total

    def _compute_subscribers(self):
        counts = {
            (company.id, state): count
            for company, state, count in self.env[
                "security.billing.report.subscriber"
            ]._read_group(self._company_domain(), ["company_id", "state"], ["__count"])
        }
        for card in self:
            for state in ("active", "warning", "suspended", "promised", "terminated"):
                card[f"count_{state}"] = counts.get((card.company_id.id, state), 0)

    def _compute_collection(self):
        report = self.env["security.billing.report.collection"]
        rates = {}
        for months_ago in (0, 1):
            start, end = self._month(months_ago)
            rates[months_ago] = report._rates(
                self._company_domain()
                + [("invoice_date", ">=", start), ("invoice_date", "<=", end)]
            )
        for card in self:
            company = card.company_id.id
            card.collection_rate = rates[0].get(company, (0, 0, 0.0))[2] or 0.0
            card.collection_rate_last_month = (
                rates[1].get(company, (0, 0, 0.0))[2] or 0.0
            )

    def _compute_payments(self):
        start, end = self._month()
        rows = self.env["security.billing.report.payment"]._read_group(
            self._company_domain() + [("date", ">=", start), ("date", "<=", end)],
            ["company_id", "category_id"],
            ["amount:sum", "__count"],
            order="amount:sum desc",
        )
        for card in self:
            mine = [row for row in rows if row[0] == card.company_id]
            card.payment_amount = sum(row[2] for row in mine)
            card.payment_count = sum(row[3] for row in mine)
            card.payment_categories = json.dumps(
                [
                    {
                        "id": category.id,
                        "name": category.display_name or self.env._("No category"),
                        "amount": format_amount(self.env, amount, card.currency_id),
                        "count": count,
                    }
                    for _company, category, amount, count in mine
                ]
            )

    @api.depends_context("tz")
    def _compute_next_run(self):
        next_date = self._next_run_date()
        contracts = self.env["contract.contract"]
        counts = {}
        if next_date:
            counts = {
                company.id: count
                for company, count in contracts._read_group(
                    contracts._security_billing_run_domain(next_date)
                    + self._company_domain(),
                    ["company_id"],
                    ["__count"],
                )
            }
        for card in self:
            card.next_run_date = next_date
            card.next_run_contracts = counts.get(card.company_id.id, 0)

    def _next_run_date(self):
        """The day the billing cron runs next (in the user's time zone), or
        False when it is off."""
        cron = self.env.ref(
            "security_billing.ir_cron_security_billing_run", raise_if_not_found=False
        )
        cron = cron.sudo() if cron else cron
        if not cron or not cron.active:
            return False
        return fields.Datetime.context_timestamp(self, cron.nextcall).date()
