import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

# Context of payments created and posted at once by the system.
QUIET_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


class AccountPayment(models.Model):
    _inherit = "account.payment"

    security_external_id = fields.Char(
        string="External Payment ID",
        copy=False,
        index=True,
        readonly=True,
        help="Id of the payment in the channel it came from (bank, terminal, "
        "API); a second payment with the same id is never created.",
    )
    security_category_id = fields.Many2one(
        "security.payment.category", string="Payment Category", index=True
    )
    security_contract_id = fields.Many2one(
        "contract.contract",
        domain="[('partner_id', '=', partner_id), ('security_is_mmr', '=', True)]",
    )
    # Inverses of core many2one fields, for the ORM only: when the state of a
    # payment changes, the fields depending on it are found through these
    # (cached for a new payment) instead of a search per change.
    security_origin_move_ids = fields.One2many("account.move", "origin_payment_id")
    security_move_line_ids = fields.One2many("account.move.line", "payment_id")

    @api.model
    def _security_register_payment(
        self,
        partner,
        amount,
        external_id=None,
        date=None,
        journal=None,
        category=None,
        contract=None,
        memo=None,
    ):
        """Register and allocate one incoming payment of a subscriber.

        Every channel calls this. With an ``external_id`` the call is
        idempotent: a repeated id returns the first result and writes nothing.
        Returns ``{"payment_id", "duplicate", "allocations": [...]}`` where
        allocations are ``{"invoice": name, "invoice_id": id, "amount": x}``.
        """
        self._security_check_amount(amount)
        partner = partner.commercial_partner_id
        company = self.env.company
        # The idempotency key is bookkeeping of the channel, not a document
        # of the user: any user allowed to register a payment may record it.
        request = self.env["security.payment.request"].sudo()
        if external_id:
            request, created = request._claim(external_id, company, partner, amount)
            if not created:
                return dict(request._get_result(), duplicate=True)
        payment = self._security_create_posted(
            self._prepare_security_payment_vals(
                partner, amount, date, journal, category, contract, memo, external_id
            )
        )
        allocations = payment._security_allocate()
        result = {
            "payment_id": payment.id,
            "duplicate": False,
            "allocations": [
                {
                    "invoice": alloc["invoice"].name,
                    "invoice_id": alloc["invoice"].id,
                    "amount": alloc["amount"],
                }
                for alloc in allocations
            ],
        }
        if request:
            request.write({"payment_id": payment.id, "result": json.dumps(result)})
        return result

    @api.model
    def _security_create_posted(self, vals):
        """Create and post a payment whose entry counts in the balances.

        The entry gets its security values at creation (a later write would
        recompute it and mark it manually modified). The payment is created
        and posted at once by the system: no creation message, follower or
        tracking on it and its entry (their author and date say who and
        when), unless the company keeps an accounting audit trail.
        """
        payments = self
        if not self.env.company.check_account_audit_trail:
            payments = self.with_context(**QUIET_CONTEXT)
        payment = payments.create(vals)
        move_vals = {
            "security_is_payment": True,
            "security_contract_id": payment.security_contract_id.id,
        }
        payment.with_context(
            security_payment_move_vals={payment.id: move_vals}
        ).action_post()
        return payment.with_env(self.env)

    @api.model
    def _security_check_amount(self, amount):
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise UserError(_("Amount %(amount)r is not a number.", amount=amount))
        if float_compare(amount, 0.0, precision_digits=2) <= 0:
            raise UserError(
                _("Amount must be positive, got %(amount)s.", amount=amount)
            )

    @api.model
    def _prepare_security_payment_vals(
        self, partner, amount, date, journal, category, contract, memo, external_id
    ):
        if not contract:
            contract = self.env["contract.contract"].search(
                [("partner_id", "=", partner.id), ("security_is_mmr", "=", True)]
            )
            contract = contract if len(contract) == 1 else contract.browse()
        journal = journal or self.env["account.journal"].search(
            [
                ("type", "=", "bank"),
                ("company_id", "in", self.env.company._accessible_branches().ids),
            ],
            limit=1,
        )
        return {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": partner.id,
            "amount": amount,
            "date": date or fields.Date.context_today(self),
            "journal_id": journal.id,
            "memo": memo or external_id or False,
            "security_external_id": external_id or False,
            "security_category_id": category.id if category else False,
            "security_contract_id": contract.id,
            # channel-specific values, e.g. the online payment's transaction
            **self.env.context.get("security_payment_extra_vals", {}),
        }

    def _security_allocate(self):
        """Allocate these posted payments oldest first; returns allocations."""
        lines = self.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        allocations = lines._security_allocate_oldest_first()
        self.partner_id._security_on_balance_changed()
        return allocations

    def _security_get_allocations(self):
        """The invoices this payment paid, from its reconciliation."""
        self.ensure_one()
        lines = self.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        return [
            {
                "invoice": partial.debit_move_id.move_id.name,
                "invoice_id": partial.debit_move_id.move_id.id,
                "amount": partial.amount,
            }
            for partial in lines.matched_debit_ids
        ]

    # ------------------------------------------- posted payments of subscribers
    @api.model
    def _security_locked_fields(self):
        """Fields of a posted subscriber payment that only managers may change."""
        return set(self._get_trigger_fields_to_synchronize()) | {
            "memo",
            "payment_method_line_id",
            "security_category_id",
            "security_contract_id",
            "security_external_id",
        }

    def _security_is_posted_subscriber_payment(self):
        self.ensure_one()
        return self.state not in ("draft", "canceled", "rejected") and bool(
            self.move_id.security_in_balance
            or self.partner_id.commercial_partner_id.security_is_subscriber
        )

    def _security_check_posted_change(self):
        """Refuse changing posted subscriber payments unless the company allows
        it and the user is a Security Billing Manager."""
        for payment in self.filtered(
            lambda p: p._security_is_posted_subscriber_payment()
        ):
            payment.company_id._security_check_payment_edit(
                _(
                    "Payment %(payment)s of %(partner)s",
                    payment=payment.display_name,
                    partner=payment.partner_id.display_name,
                )
            )

    def write(self, vals):
        unposting = vals.get("state") in ("draft", "canceled", "rejected")
        if unposting or self._security_locked_fields().intersection(vals):
            self._security_check_posted_change()
        return super().write(vals)

    def action_draft(self):
        self._security_check_posted_change()
        partners = self._security_unposted_partners()
        res = super().action_draft()
        partners._security_on_balance_changed()
        return res

    def action_cancel(self):
        self._security_check_posted_change()
        partners = self._security_unposted_partners()
        res = super().action_cancel()
        partners._security_on_balance_changed()
        return res

    def unlink(self):
        self._security_check_posted_change()
        return super().unlink()

    def _security_unposted_partners(self):
        """Subscribers whose balance changes when these payments are unposted."""
        return self.filtered(
            lambda p: p._security_is_posted_subscriber_payment()
        ).partner_id.commercial_partner_id
