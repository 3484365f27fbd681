from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

from .security_subscriber_wizard_mixin import mmr_contract_field, subscriber_field


class SecurityTransferFunds(models.TransientModel):
    """Move a subscriber's credit to another contract or subscriber.

    Posts one balanced entry: a receivable debit on the source, reconciled
    against the source's open credit, and a receivable credit on the target,
    allocated oldest first by the one allocation function.
    """

    _name = "security.transfer.funds"
    _inherit = [
        "security.subscriber.wizard.mixin",
        "security.idempotent.wizard.mixin",
    ]
    _description = "Security Billing Transfer of Funds"
    _security_idempotency_prefix = "transfer"
    _security_subscriber_fields = [
        ("source_partner_id", "source_contract_id"),
        ("target_partner_id", "target_contract_id"),
    ]

    source_partner_id = subscriber_field(string="From Subscriber")
    source_contract_id = mmr_contract_field(
        "source_partner_id",
        string="From Contract",
        help="Take only the credit bound to this contract.",
    )
    target_partner_id = subscriber_field(string="To Subscriber")
    target_contract_id = mmr_contract_field("target_partner_id", string="To Contract")
    available_amount = fields.Monetary(
        string="Available Credit",
        compute="_compute_available_amount",
        currency_field="currency_id",
    )
    amount = fields.Monetary(required=True, currency_field="currency_id")
    date = fields.Date(required=True, default=fields.Date.context_today)
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        domain="[('type', '=', 'general'), ('company_id', '=', company_id)]",
        default=lambda self: self.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", self.env.company.id)],
            limit=1,
        ),
    )
    memo = fields.Char()
    move_id = fields.Many2one("account.move", string="Entry", readonly=True)

    @api.depends("source_partner_id", "source_contract_id", "company_id")
    def _compute_available_amount(self):
        for wizard in self:
            credits = wizard._get_source_credit_lines()
            wizard.available_amount = -sum(credits.mapped("amount_residual"))

    @api.onchange("source_partner_id", "target_partner_id")
    def _onchange_partner_ids(self):
        self._drop_foreign_contracts()

    def _get_source_credit_lines(self):
        """Open receivable credit lines of the source, oldest first."""
        self.ensure_one()
        if not self.source_partner_id:
            return self.env["account.move.line"]
        domain = [
            ("partner_id", "=", self.source_partner_id.commercial_partner_id.id),
            ("security_in_balance", "=", True),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
            ("amount_residual", "<", 0),
            ("company_id", "=", self.company_id.id),
        ]
        if self.source_contract_id:
            domain.append(("security_contract_id", "=", self.source_contract_id.id))
        return self.env["account.move.line"].search(domain, order="date, id")

    def _claim_transfer(self):
        """Claim this form's key: ``(request, created)``.

        The same form confirmed twice (double click) or saved again by a
        resubmitted request (a second wizard record, same key) books one
        entry: the second confirmation finds the claim of the first (a
        concurrent one waits for it, gets a serialization failure and is
        replayed) and books nothing.
        """
        self.ensure_one()
        return self._claim_key(
            self.source_partner_id.commercial_partner_id, self.amount
        )

    def _lock_source_credit_lines(self):
        credits = self._get_source_credit_lines()
        if credits:
            self.env.cr.execute(
                "SELECT id FROM account_move_line WHERE id IN %s FOR UPDATE",
                [tuple(credits.ids)],
            )
            credits.invalidate_recordset(["amount_residual", "reconciled"])
        return credits

    def _check_transfer(self, credits):
        self.ensure_one()
        source = (self.source_partner_id, self.source_contract_id)
        if source == (self.target_partner_id, self.target_contract_id):
            raise UserError(_("The source and the target of a transfer are the same."))
        for partner, contract in (
            source,
            (self.target_partner_id, self.target_contract_id),
        ):
            self._check_subscriber(partner, contract)
        rounding = self.currency_id.rounding
        if float_compare(self.amount, 0.0, precision_rounding=rounding) <= 0:
            raise UserError(_("The amount to transfer must be positive."))
        available = -sum(credits.mapped("amount_residual"))
        if float_compare(self.amount, available, precision_rounding=rounding) > 0:
            raise UserError(
                _(
                    "Cannot transfer %(amount)s: %(origin)s has only %(available)s "
                    "of available credit.",
                    amount=self._format_amount(self.amount),
                    origin=self._source_label(),
                    available=self._format_amount(available),
                )
            )

    def action_transfer(self):
        self.ensure_one()
        request, created = self._claim_transfer()
        if not created:  # already booked: show its entry
            self.move_id = request._get_result().get("move_id")
            return {"type": "ir.actions.act_window_close"}
        credits = self._lock_source_credit_lines()
        self._check_transfer(credits)
        # Only the system marks an entry as a subscriber payment
        # (account.move._security_check_balance_flags_create); the user's
        # rights were checked by the wizard, who did it stays in create_uid.
        move = (
            self.env["account.move"]
            .sudo()
            .create(self._prepare_move_vals(credits))
            .sudo(False)
        )
        move.action_post()
        self.move_id = move
        request._record_results({request: {"move_id": move.id}})
        source_lines = move.line_ids.filtered(lambda line: line.debit)
        self._reconcile_source(source_lines, credits)
        target_line = move.line_ids.filtered(lambda line: line.credit)
        allocations = target_line._security_allocate_oldest_first(
            contract=self.target_contract_id or None
        )
        self._log_transfer(move, allocations)
        (
            self.source_partner_id | self.target_partner_id
        ).commercial_partner_id._security_on_balance_changed()
        return {"type": "ir.actions.act_window_close"}

    def _prepare_move_vals(self, credits):
        """One entry: debits on the source's receivable accounts (as much as
        the oldest credits there), one credit on the target's receivable."""
        memo = self.memo or _(
            "Transfer from %(origin)s to %(target)s",
            origin=self._source_label(),
            target=self._target_label(),
        )
        source = self.source_partner_id.commercial_partner_id
        target = self.target_partner_id.commercial_partner_id
        line_vals = [
            {
                "name": memo,
                "partner_id": source.id,
                "account_id": account.id,
                "debit": amount,
                "credit": 0.0,
            }
            for account, amount in self._split_by_account(credits).items()
        ]
        line_vals.append(
            {
                "name": memo,
                "partner_id": target.id,
                "account_id": target.with_company(
                    self.company_id
                ).property_account_receivable_id.id,
                "debit": 0.0,
                "credit": self.amount,
            }
        )
        return {
            "move_type": "entry",
            "journal_id": self.journal_id.id,
            "company_id": self.company_id.id,
            "date": self.date,
            "ref": memo,
            "security_is_payment": True,
            "security_contract_id": self.target_contract_id.id,
            "line_ids": [fields.Command.create(vals) for vals in line_vals],
        }

    def _split_by_account(self, credits):
        """Amount to take from each receivable account, oldest credit first."""
        left = self.amount
        amounts = {}
        for credit in credits:
            if self.currency_id.is_zero(left):
                break
            take = min(left, -credit.amount_residual)
            amounts[credit.account_id] = amounts.get(credit.account_id, 0.0) + take
            left -= take
        return amounts

    def _reconcile_source(self, source_lines, credits):
        for line in source_lines:
            (
                line | credits.filtered(lambda c, a=line.account_id: c.account_id == a)
            ).reconcile()

    def _source_label(self):
        return (
            self.source_contract_id.display_name or self.source_partner_id.display_name
        )

    def _target_label(self):
        return (
            self.target_contract_id.display_name or self.target_partner_id.display_name
        )

    def _log_transfer(self, move, allocations):
        body = Markup("<p>%s</p>") % _(
            "Transfer %(move)s of %(amount)s from %(origin)s to %(target)s.",
            move=move.display_name,
            amount=self._format_amount(self.amount),
            origin=self._source_label(),
            target=self._target_label(),
        )
        body += self._allocations_html(allocations)
        partners = (
            self.source_partner_id | self.target_partner_id
        ).commercial_partner_id
        contracts = self.source_contract_id | self.target_contract_id
        for record in list(partners) + list(contracts):
            record.sudo().message_post(body=body)
