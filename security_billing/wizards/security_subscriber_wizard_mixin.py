from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import formatLang


def subscriber_field(**kwargs):
    """A required subscriber of an accountant wizard."""
    return fields.Many2one(
        "res.partner",
        required=True,
        domain=[("security_is_subscriber", "=", True)],
        **kwargs,
    )


def mmr_contract_field(partner_field, **kwargs):
    """An optional MMR contract of the subscriber in ``partner_field``."""
    return fields.Many2one(
        "contract.contract",
        domain=f"[('partner_id', '=', {partner_field}), "
        "('security_is_mmr', '=', True)]",
        **kwargs,
    )


class SecuritySubscriberWizardMixin(models.AbstractModel):
    """Subscriber and contract selection shared by the accountant wizards.

    ``_security_subscriber_fields`` lists the wizard's (subscriber, contract)
    field pairs; the first pair is filled from the subscriber or contract the
    wizard is opened on.
    """

    _name = "security.subscriber.wizard.mixin"
    _description = "Security Billing Subscriber Selection of Wizards"
    _security_subscriber_fields = [("partner_id", "contract_id")]

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        partner_field, contract_field = self._security_subscriber_fields[0]
        model = self.env.context.get("active_model")
        active_id = self.env.context.get("active_id")
        if model == "res.partner" and active_id and partner_field in fields_list:
            values.setdefault(partner_field, active_id)
        if model == "contract.contract" and active_id:
            contract = self.env["contract.contract"].browse(active_id)
            values.setdefault(contract_field, contract.id)
            values.setdefault(partner_field, contract.partner_id.id)
        return values

    def _drop_foreign_contracts(self):
        """Onchange helper: empty a contract that is not its subscriber's."""
        for partner_field, contract_field in self._security_subscriber_fields:
            if self[contract_field].partner_id != self[partner_field]:
                self[contract_field] = False

    def _check_subscriber(self, partner, contract):
        """Refuse a partner that is no subscriber or a contract not its own."""
        if not partner.security_is_subscriber:
            raise UserError(
                _(
                    "%(partner)s is not a security subscriber.",
                    partner=partner.display_name,
                )
            )
        if contract and contract.partner_id != partner:
            raise UserError(
                _(
                    "Contract %(contract)s does not belong to %(partner)s.",
                    contract=contract.display_name,
                    partner=partner.display_name,
                )
            )

    def _format_amount(self, amount):
        return formatLang(self.env, amount, currency_obj=self.currency_id)

    def _allocations_html(self, allocations):
        """``<p>Allocated to:</p><ul>…</ul>`` of allocations (invoice record
        or name, amount), or an empty Markup."""
        if not allocations:
            return Markup("")
        items = Markup("").join(
            Markup("<li>%s: %s</li>")
            % (
                getattr(alloc["invoice"], "name", alloc["invoice"]),
                self._format_amount(alloc["amount"]),
            )
            for alloc in allocations
        )
        return Markup("<p>%s</p><ul>%s</ul>") % (_("Allocated to:"), items)
