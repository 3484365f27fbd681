import json

from odoo import fields, models


class SecurityPaymentRequest(models.Model):
    """One row per external payment id: the idempotency key of every channel.

    The row is inserted with ``INSERT ... ON CONFLICT DO NOTHING`` before the
    payment exists, so two requests with the same key are serialized by
    PostgreSQL: the loser either sees the winner's row or gets a serialization
    failure, which Odoo's request layer retries.
    """

    _name = "security.payment.request"
    _description = "Security Billing Payment Request (idempotency key)"
    _order = "id desc"

    external_id = fields.Char(required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True, index=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    currency_id = fields.Many2one(related="company_id.currency_id")
    payment_id = fields.Many2one("account.payment", readonly=True, index=True)
    result = fields.Text(readonly=True, help="JSON result returned to the caller.")

    _sql_constraints = [
        (
            "external_id_company_uniq",
            "unique (external_id, company_id)",
            "This external payment id was already registered.",
        )
    ]

    def _claim(self, external_id, company, partner, amount):
        """Insert the key; return the new request or the existing one.

        Returns ``(request, created)``.
        """
        self.env.cr.execute(
            """
            INSERT INTO security_payment_request
                (external_id, company_id, partner_id, amount,
                 create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, now() at time zone 'UTC',
                    now() at time zone 'UTC')
            ON CONFLICT (external_id, company_id) DO NOTHING
            RETURNING id
            """,
            [external_id, company.id, partner.id, amount, self.env.uid, self.env.uid],
        )
        row = self.env.cr.fetchone()
        if row:
            return self.browse(row[0]), True
        existing = self.search(
            [("external_id", "=", external_id), ("company_id", "=", company.id)]
        )
        return existing, False

    def _get_result(self):
        self.ensure_one()
        return json.loads(self.result or "{}")
