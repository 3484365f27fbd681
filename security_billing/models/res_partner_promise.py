"""Promised payments (temporary credit) a subscriber asks for."""

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    security_promise_ids = fields.One2many(
        "security.promised.payment", "partner_id", string="Promised Payments"
    )

    def _security_promise_rules(self, date_ref=None):
        """What a promised payment request would get now, for display:
        ``{"allowed", "reason", "max_amount", "amount_due", "due_date", "days"}``.
        """
        self.ensure_one()
        rules = self.env["security.promised.payment"]._rules(
            self.commercial_partner_id, date_ref=date_ref
        )
        rules.pop("contracts")
        rules["due_date"] = fields.Date.to_string(rules["due_date"])
        return rules

    def _security_request_promised_payment(
        self, amount=None, channel="portal", date_ref=None
    ):
        """Request a promised payment (temporary credit) for this subscriber.

        A refusal is not an error: ``ok`` is False and ``reason`` says why;
        the request is recorded either way.

        :param amount: positive number; None: the most the company rules
            allow (capped to what is due).
        :param str channel: where the request comes from (``portal``,
            ``api``, ...).
        :param date_ref: date of the request (default: today).
        :return: ``{"ok", "amount", "due_date", "reason", "promise_id"}``.
        :rtype: dict
        :raises UserError: bad input (amount not a positive number, unknown
            channel).
        """
        self.ensure_one()
        return self.env["security.promised.payment"]._request(
            self.commercial_partner_id,
            amount=amount,
            channel=channel,
            date_ref=date_ref,
        )
