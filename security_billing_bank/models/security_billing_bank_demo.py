"""Demo data of the bank addon: a payment network with one terminal payment,
and a bank statement with a matched and an unmatched line, built right
after the core demo so every bank feature is on screen after install."""

from odoo import Command, api, fields, models


class SecurityBillingBankDemo(models.AbstractModel):
    _name = "security.billing.bank.demo"
    _description = "Security Billing Bank Demo Data"

    @api.model
    def _bank_demo_generate(self):
        """Build the terminal provider and the demo bank statement.

        :return: ``{"provider", "statement"}`` (records)
        """
        env = self.with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            security_billing_no_commit=True,
        ).env
        demo = self.with_env(env)
        journal = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", env.company.id)], limit=1
        )
        if not journal:
            return {}
        subscribers = demo._bank_demo_payers()
        provider = demo._bank_demo_provider(journal, subscribers[:1])
        statement = demo._bank_demo_statement(journal, subscribers[1:2])
        return {"provider": provider, "statement": statement}

    @api.model
    def _bank_demo_payers(self):
        """Demo subscribers with a past due balance, most owed first."""
        partners = self.env["res.partner"].search(
            [
                ("security_is_subscriber", "=", True),
                ("email", "=like", "subscriber%@example.com"),
                ("security_past_due", ">", 0),
            ]
        )
        return partners.sorted(lambda p: (-p.security_past_due, p.id))

    @api.model
    def _bank_demo_provider(self, journal, payer):
        provider = self.env["security.terminal.provider"].create(
            {
                "name": "QIWI terminals",
                "code": "qiwi",
                "journal_id": journal.id,
                "allowed_networks": "127.0.0.1/32\n::1",
                "login": "qiwi",
                "password": "demo-terminal-password",
            }
        )
        if payer:
            now = fields.Datetime.context_timestamp(provider, fields.Datetime.now())
            provider._osmp_pay(
                {
                    "command": "pay",
                    "txn_id": "1000001",
                    "account": payer.security_account_ref,
                    "sum": "%.2f" % min(payer.security_past_due, 50.0),
                    "txn_date": now.strftime("%Y%m%d%H%M%S"),
                }
            )
        return provider

    @api.model
    def _bank_demo_statement(self, journal, payer):
        """A statement of three lines: a subscriber's transfer with its account
        number (matched and paid), one without it (to match by hand) and a
        bank fee (ignored)."""
        today = fields.Date.context_today(self)
        lines = []
        if payer:
            lines.append(
                {
                    "date": today,
                    "payment_ref": self.env._(
                        "Monitoring, account %(ref)s",
                        ref=payer.security_account_ref,
                    ),
                    "partner_name": payer.name,
                    "amount": payer.security_past_due,
                }
            )
        lines += [
            {
                "date": today,
                "payment_ref": self.env._("Alarm service for my parents"),
                "partner_name": "J. Smith",
                "amount": 40.0,
            },
            {
                "date": today,
                "payment_ref": self.env._("Bank fee"),
                "amount": -2.5,
            },
        ]
        statement = self.env["account.bank.statement"].create(
            {
                "name": self.env._("Demo statement"),
                "journal_id": journal.id,
                "line_ids": [
                    Command.create(dict(vals, journal_id=journal.id)) for vals in lines
                ],
            }
        )
        statement.line_ids.sudo()._security_match_and_pay()
        return statement
