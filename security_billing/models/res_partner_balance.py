"""Balances of a subscriber (the sums of its MMR invoices), its open credit
and the hook run in the transaction that moved its money."""

from collections import defaultdict

from odoo import fields, models


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "security.balance.mixin"]  # pylint: disable=consider-merging-classes-inherited

    _security_balance_move_field = "partner_id"

    security_recommended_amount = fields.Monetary(
        string="Recommended Payment",
        compute="_compute_security_recommended_amount",
        currency_field="currency_id",
        help="Sum of the recommended payments of the subscriber's MMR contracts "
        "(balance due without a contract when there is none).",
    )

    def _security_balance_data(self):
        """The dates of a subscriber are the earliest of its MMR contracts'."""
        data = super()._security_balance_data()
        contracts = self.env["contract.contract"].search(
            [("partner_id", "in", self.ids), ("security_is_mmr", "=", True)]
        )
        dates = contracts._security_date_data()
        for contract in contracts:
            contract_dates = dates.get(contract.id, {})
            partner_data = data.setdefault(contract.partner_id.id, {})
            for fname in ("security_paid_until", "security_next_payment_date"):
                value = contract_dates.get(fname)
                if value and (
                    not partner_data.get(fname) or value < partner_data[fname]
                ):
                    partner_data[fname] = value
        return data

    def _security_apply_open_credit(self):
        """Use the subscribers' open credit on their open MMR invoices."""
        credits = self.env["account.move.line"].search(
            [
                ("partner_id", "in", self.ids),
                ("security_in_balance", "=", True),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("amount_residual", "<", 0),
            ],
            order="date, id",
        )
        allocations = credits._security_allocate_oldest_first()
        if allocations:
            # Only the subscribers whose credit was used: a billing run posts
            # hundreds of invoices at once, few of them with credit.
            paid = self.browse(
                {alloc["invoice"].commercial_partner_id.id for alloc in allocations}
            )
            paid._security_on_balance_changed()
        return allocations

    def _security_on_balance_changed(self):
        """Hook called in the transaction that moved money for these
        subscribers: calls the contracts' balance hook
        (``contract.contract._security_on_balance_changed``: service status,
        promises, app export) on their MMR contracts.

        :return: None
        """
        contracts = self.env["contract.contract"].search(
            [("partner_id", "in", self.ids), ("security_is_mmr", "=", True)]
        )
        contracts._security_on_balance_changed()

    def _compute_security_recommended_amount(self):
        amounts = self._security_recommended_amount()
        for partner in self:
            partner.security_recommended_amount = amounts.get(partner.id, 0.0)

    def _security_recommended_amount(self):
        """Recommended payment per subscriber: ``{partner_id: amount}``.

        The contracts' recommended amounts, less the credit not bound to a
        contract, plus the debt not bound to one.
        """
        partners = self.filtered("id")
        if not partners:
            return {}
        contracts = self.env["contract.contract"].search(
            [
                ("partner_id", "in", partners.ids),
                ("security_is_mmr", "=", True),
                ("security_state", "!=", "terminated"),
            ]
        )
        by_contract = contracts._security_recommended_amount()
        totals = self.env["account.move"]._security_balance_rows(
            "partner_id", partners.ids
        )
        in_contracts = self.env["account.move"]._security_balance_rows(
            "security_contract_id", contracts.ids
        )
        own_by_partner = defaultdict(list)
        for contract in contracts:
            own_by_partner[contract.partner_id.id].append(contract)
        result = {}
        for partner in partners:
            own = own_by_partner[partner.id]
            unbound = totals.get(partner.id, {}).get("security_balance", 0.0) - sum(
                in_contracts.get(c.id, {}).get("security_balance", 0.0) for c in own
            )
            amount = sum(by_contract.get(c.id, 0.0) for c in own)
            result[partner.id] = partner.currency_id.round(max(amount - unbound, 0.0))
        return result
