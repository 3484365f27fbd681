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
        return self._claim_many([(external_id, partner, amount)], company)[external_id]

    def _claim_many(self, keys, company):
        """Insert the keys ``[(external_id, partner, amount)]`` by one
        statement (in external id order: concurrent claims lock alike).

        Returns ``{external_id: (request, created)}``; an id repeated in
        ``keys`` is claimed once, by its first occurrence.
        """
        first = {}
        for external_id, partner, amount in keys:
            first.setdefault(external_id, (partner, amount))
        if not first:
            return {}
        ordered = sorted(first)
        self.env.cr.execute(
            """
            INSERT INTO security_payment_request
                (external_id, company_id, partner_id, amount,
                 create_uid, write_uid, create_date, write_date)
            SELECT k.external_id, %s, k.partner_id, k.amount, %s, %s,
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM unnest(%s::varchar[], %s::int[], %s::numeric[])
                   WITH ORDINALITY AS k(external_id, partner_id, amount, n)
             ORDER BY k.n
            ON CONFLICT (external_id, company_id) DO NOTHING
            RETURNING id, external_id
            """,
            [
                company.id,
                self.env.uid,
                self.env.uid,
                ordered,
                [first[key][0].id or None for key in ordered],
                [first[key][1] for key in ordered],
            ],
        )
        created = {
            external_id: self.browse(rid) for rid, external_id in self.env.cr.fetchall()
        }
        result = {key: (request, True) for key, request in created.items()}
        missing = [key for key in ordered if key not in created]
        if missing:
            existing = self.search(
                [("external_id", "in", missing), ("company_id", "=", company.id)]
            )
            for request in existing:
                result[request.external_id] = (request, False)
        return result

    def _record_results(self, results):
        """Write ``{request: result}`` (the payment, if any, and the JSON
        result returned to the caller) by one statement."""
        if not results:
            return
        requests = self.browse([request.id for request in results])
        self.env.cr.execute(
            """
            UPDATE security_payment_request r
               SET payment_id = v.payment_id, result = v.result,
                   write_uid = %s, write_date = now() at time zone 'UTC'
              FROM unnest(%s::int[], %s::int[], %s::text[])
                   AS v(id, payment_id, result)
             WHERE r.id = v.id
            """,
            [
                self.env.uid,
                requests.ids,
                [result.get("payment_id") for result in results.values()],
                [json.dumps(result) for result in results.values()],
            ],
        )
        requests.invalidate_recordset(
            ["payment_id", "result", "write_uid", "write_date"]
        )

    def _get_result(self):
        self.ensure_one()
        return json.loads(self.result or "{}")
