from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .security_subscriber_wizard_mixin import mmr_contract_field, subscriber_field

MANUAL_CATEGORY_CODES = ("cash", "correction")


class SecurityManualPayment(models.TransientModel):
    """One manual payment (cash or correction) of a subscriber or contract."""

    _name = "security.manual.payment"
    _inherit = [
        "security.subscriber.wizard.mixin",
        "security.idempotent.wizard.mixin",
    ]
    _description = "Security Billing Manual Payment"
    _security_idempotency_prefix = "manual"

    partner_id = subscriber_field(string="Subscriber")
    contract_id = mmr_contract_field(
        "partner_id",
        help="Pay this contract's invoices only; empty: all invoices of the "
        "subscriber, oldest first.",
    )
    amount = fields.Monetary(required=True, currency_field="currency_id")
    category_id = fields.Many2one(
        "security.payment.category",
        required=True,
        domain=[("code", "in", MANUAL_CATEGORY_CODES)],
        default=lambda self: self.env["security.payment.category"]._get_by_code("cash"),
    )
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        domain="[('type', 'in', ('cash', 'bank')), ('company_id', '=', company_id)]",
        default=lambda self: self._default_journal(),
    )
    allow_date = fields.Boolean(related="company_id.security_allow_cash_date")
    date = fields.Date(required=True, default=fields.Date.context_today)
    memo = fields.Char()
    balance = fields.Monetary(
        related="partner_id.security_balance", string="Current Balance"
    )
    recommended_amount = fields.Monetary(
        related="partner_id.security_recommended_amount"
    )

    @api.model
    def _default_journal(self):
        journals = self.env["account.journal"].search(
            [
                ("type", "in", ("cash", "bank")),
                ("company_id", "=", self.env.company.id),
            ]
        )
        return journals.filtered(lambda j: j.type == "cash")[:1] or journals[:1]

    @api.onchange("partner_id")
    def _onchange_partner_id(self):
        self._drop_foreign_contracts()

    def _check_manual_payment(self):
        self.ensure_one()
        today = fields.Date.context_today(self)
        if self.date != today and not self.company_id.security_allow_cash_date:
            raise UserError(
                _(
                    "Company %(company)s does not allow choosing the date of a "
                    "cash payment: the date must be today (%(today)s).",
                    company=self.company_id.name,
                    today=today,
                )
            )
        if self.category_id.code not in MANUAL_CATEGORY_CODES:
            raise UserError(
                _(
                    "A manual payment is a cash payment or a correction, not "
                    "%(category)s.",
                    category=self.category_id.display_name,
                )
            )
        self._check_subscriber(self.partner_id, self.contract_id)

    def action_confirm(self):
        self.ensure_one()
        self._check_manual_payment()
        result = self.env["account.payment"]._security_register_payment(
            self.partner_id,
            self.amount,
            external_id=self._get_external_id(),
            date=self.date,
            journal=self.journal_id,
            category=self.category_id,
            contract=self.contract_id,
            memo=self.memo,
        )
        if not result["duplicate"]:
            payment = self.env["account.payment"].browse(result["payment_id"])
            self._log_payment(payment, result["allocations"])
        return {"type": "ir.actions.act_window_close"}

    def _log_payment(self, payment, allocations):
        body = Markup("<p>%s</p>") % _(
            "%(category)s payment %(payment)s of %(amount)s registered.",
            category=self.category_id.name,
            payment=payment.display_name,
            amount=self._format_amount(self.amount),
        )
        if allocations:
            body += self._allocations_html(allocations)
        else:
            body += Markup("<p>%s</p>") % _("Nothing to allocate: kept as credit.")
        for record in (self.partner_id, self.contract_id):
            if record:
                record.sudo().message_post(body=body)
