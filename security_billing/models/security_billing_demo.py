from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models

# Per language: a subscriber with a portal login and an accountant (billing
# user), both using the language (logins: subscriber_ru, accountant_ru...;
# the password is the login).
DEMO_LANGUAGES = {
    "ru_RU": {
        "code": "ru",
        "subscriber": "Ирина Соколова",
        "street": "ул. Садовая, 12",
        "city": "Москва",
        "accountant": "Ольга Кузнецова",
    },
    "uk_UA": {
        "code": "uk",
        "subscriber": "Олена Коваленко",
        "street": "вул. Шевченка, 8",
        "city": "Київ",
        "accountant": "Тетяна Мельник",
    },
}

DEMO_NAMES = [
    "Olivia Carter",
    "Liam Novak",
    "Emma Schultz",
    "Noah Petrov",
    "Ava Dubois",
    "Lucas Moreau",
    "Mia Kowalski",
    "Ethan Rossi",
    "Sofia Lindqvist",
    "Mason Weber",
    "Isabella Costa",
    "Logan Fischer",
    "Amelia Horvat",
    "Elijah Jansen",
    "Harper Nilsen",
    "James O'Brien",
    "Evelyn Varga",
    "Benjamin Kruger",
    "Abigail Santos",
    "Henry Dvorak",
    "Ella Marin",
    "Alexander Berg",
    "Scarlett Ivanova",
    "Daniel Keller",
    "Grace Laurent",
    "Samuel Popescu",
    "Chloe Andersen",
    "Jack Meyer",
    "Lily Romano",
    "Owen Hakala",
]


class SecurityBillingDemo(models.AbstractModel):
    """Builds the demo subscribers, sites, contracts, invoices and payments.

    Called by the demo data of the module. Dates are relative to the day of
    installation, so the demo shows paid, past-due and credit subscribers
    whatever day it is loaded.
    """

    _name = "security.billing.demo"
    _description = "Security Billing Demo Data"

    @api.model
    def _demo_generate(self, count=30, months=6):
        env = self.with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            security_billing_no_commit=True,
        ).env
        demo = self.with_env(env)
        today = fields.Date.context_today(self)
        first = today.replace(day=1) - relativedelta(months=months)
        bundles = demo._demo_bundles()
        subscribers = []
        for index in range(count):
            partner, contract = demo._demo_subscriber(index, bundles, first, today)
            subscribers.append((index, partner, contract))
        demo._demo_languages(bundles, first, today)
        demo._demo_bill(first, today)
        for index, partner, _contract in subscribers:
            demo._demo_pay(index, partner, today)
        demo._demo_states(subscribers, today)
        demo._demo_autopay(subscribers, today)
        demo._demo_app_export()
        return True

    @api.model
    def _demo_autopay(self, subscribers, today):
        """Autopay history: a declined charge waiting for its retry, and an
        invoice paid on its second charge."""
        attempts = self.env["security.autopay.attempt"].sudo()
        moves = self.env["account.move"]
        declined = self.env._("Card declined: insufficient funds.")
        by_index = {index: partner for index, partner, _contract in subscribers}
        no_partner = self.env["res.partner"]
        open_invoice = moves.search(
            [
                ("partner_id", "=", by_index.get(3, no_partner).id),
                ("security_is_mmr", "=", True),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
            ],
            order="invoice_date desc",
            limit=1,
        )
        paid_invoice = moves.search(
            [
                ("partner_id", "=", by_index.get(5, no_partner).id),
                ("security_is_mmr", "=", True),
                ("state", "=", "posted"),
                ("payment_state", "in", ("paid", "in_payment")),
            ],
            order="invoice_date desc",
            limit=1,
        )
        vals = []
        if open_invoice:
            vals.append(
                self._demo_attempt_vals(
                    open_invoice, 1, today - relativedelta(days=1), "failed", declined
                )
                | {"next_retry_date": today + relativedelta(days=2)}
            )
        if paid_invoice:
            charged = paid_invoice.invoice_date
            vals += [
                self._demo_attempt_vals(paid_invoice, 1, charged, "failed", declined)
                | {"next_retry_date": charged + relativedelta(days=1)},
                self._demo_attempt_vals(
                    paid_invoice, 2, charged + relativedelta(days=1), "done"
                ),
            ]
        return attempts.create(vals)

    @api.model
    def _demo_attempt_vals(self, invoice, attempt_no, date, state, error=""):
        return {
            "name": f"DEMO/{invoice.name}/{attempt_no}",
            "invoice_id": invoice.id,
            "partner_id": invoice.commercial_partner_id.id,
            "contract_id": invoice.security_contract_id.id,
            "company_id": invoice.company_id.id,
            "currency_id": invoice.currency_id.id,
            "attempt_no": attempt_no,
            "amount": invoice.amount_total,
            "date": date,
            "state": state,
            "error": error,
        }

    @api.model
    def _demo_app_export(self):
        """One export of the demo app connector: its log (with the file it
        built) is on screen without waiting for the cron."""
        connector = self.env.ref(
            "security_billing.demo_app_connector_ajax", raise_if_not_found=False
        )
        if connector:
            connector.sudo()._export(trigger="manual")

    @api.model
    def _demo_states(self, subscribers, today):
        """Dunning as the daily cron runs it, then a promise granted to one
        suspended subscriber and one terminated contract: every service
        status is on screen right after install."""
        contracts = self.env["contract.contract"].browse(
            [contract.id for _index, _partner, contract in subscribers]
        )
        contracts._security_run_dunning(today)
        suspended = contracts.filtered(lambda c: c.security_state == "suspended")
        if len(suspended) > 1:
            suspended[0].partner_id._security_request_promised_payment(
                channel="portal", date_ref=today
            )
        ended = contracts.filtered(lambda c: c.security_state == "active")[-1:]
        ended._security_set_override(
            "terminated",
            today + relativedelta(years=1),
            self.env._("Moved out: monitoring ended at the customer's request."),
        )

    @api.model
    def _demo_languages(self, bundles, first, today):
        """Russian and Ukrainian: each language activated (``./dev run``
        loads their translations), a subscriber with a portal login and an
        accountant in it.

        :return: the created users
        """
        users = self.env["res.users"]
        for lang, names in DEMO_LANGUAGES.items():
            if not self.env["res.lang"]._activate_lang(lang):
                continue
            partner = self.env["res.partner"].create(
                self._demo_language_partner_vals(lang, names)
            )
            start = max(first, today - relativedelta(months=3))
            self.env["contract.contract"]._security_create_from_template(
                bundles["monthly"], partner, start
            )
            users |= self._demo_user(
                partner, f"subscriber_{names['code']}", "base.group_portal"
            )
            accountant = self.env["res.partner"].create(
                {
                    "name": names["accountant"],
                    "lang": lang,
                    "email": f"accountant_{names['code']}@example.com",
                }
            )
            users |= self._demo_user(
                accountant,
                f"accountant_{names['code']}",
                "security_billing.group_security_billing_user",
                "account.group_account_invoice",
            )
        return users

    @api.model
    def _demo_language_partner_vals(self, lang, names):
        return {
            "name": names["subscriber"],
            "security_is_subscriber": True,
            "lang": lang,
            "email": f"{names['code']}.subscriber@example.com",
            "street": names["street"],
            "city": names["city"],
        }

    @api.model
    def _demo_user(self, partner, login, *groups):
        """A user of ``partner`` (its language) whose password is its login."""
        return (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "login": login,
                    "password": login,
                    "partner_id": partner.id,
                    "groups_id": [Command.set([self.env.ref(g).id for g in groups])],
                }
            )
        )

    @api.model
    def _demo_bundles(self):
        ref = self.env.ref
        return {
            "monthly": ref("security_billing.demo_bundle_ajax_essential"),
            "monthly_bundle": ref("security_billing.demo_bundle_ajax_complete"),
            "quarterly": ref("security_billing.demo_bundle_alarm_com_interactive"),
            "semesterly": ref("security_billing.demo_bundle_alarm_com_semester"),
            "yearly": ref("security_billing.demo_bundle_paxton_entry"),
        }

    @api.model
    def _demo_plan(self, index):
        """(bundle key, invoicing type, prorated, vendor) of subscriber ``index``."""
        plans = [
            ("monthly", "pre-paid", False, "ajax"),
            ("monthly_bundle", "pre-paid", True, "ajax"),
            ("quarterly", "pre-paid", False, "alarm_com"),
            ("monthly", "post-paid", False, "ajax"),
            ("semesterly", "pre-paid", True, "alarm_com"),
            ("monthly_bundle", "pre-paid", False, "ajax"),
            ("yearly", "pre-paid", True, "paxton"),
            ("monthly", "pre-paid", True, "alarm_com"),
            ("quarterly", "post-paid", False, "alarm_com"),
            ("monthly", "pre-paid", False, "ajax"),
        ]
        return plans[index % len(plans)]

    @api.model
    def _demo_subscriber(self, index, bundles, first, today):
        bundle_key, invoicing, prorate, vendor = self._demo_plan(index)
        partner = self.env["res.partner"].create(
            {
                "name": DEMO_NAMES[index % len(DEMO_NAMES)],
                "security_is_subscriber": True,
                "email": f"subscriber{index + 1:02d}@example.com",
                "phone": f"+1 555 01{index:02d}",
                "street": f"{10 + index} Harbour Street",
                "city": "Springfield",
            }
        )
        start = first + relativedelta(months=index % 5, days=(index * 7) % 20)
        start = min(start, today)
        contract = self.env["contract.contract"]._security_create_from_template(
            bundles[bundle_key],
            partner,
            start,
            recurring_invoicing_type=invoicing,
            security_prorate_first_period=prorate,
        )
        sites = 2 if index == 4 else 1
        for number in range(sites):
            self.env["security.site"].create(
                self._demo_site_vals(index, number, vendor, partner, contract)
            )
        return partner, contract

    @api.model
    def _demo_site_vals(self, index, number, vendor, partner, contract):
        device_ids = {
            "ajax": f"{0x1A2B3C00 + index * 4 + number:08X}",
            "alarm_com": f"ADC-{40000 + index * 4 + number}",
            "paxton": f"PXN-{700 + index * 4 + number}",
        }
        return {
            "name": partner.name + (" - Home" if number == 0 else " - Shop"),
            "partner_id": partner.id,
            "contract_id": contract.id,
            "vendor": vendor,
            "device_id": device_ids[vendor],
            "app_user_count": 1 + index % 4,
            "life_safety": index % 6 == 0,
            "street": partner.street,
            "city": partner.city,
        }

    @api.model
    def _demo_bill(self, first, today):
        """One billing run on the 1st of each month, then today."""
        # the chunks of each run are billed at once (no jobrunner here)
        runs = self.env["security.billing.run"].with_context(queue_job__no_delay=True)
        date_ref = first
        while date_ref < today:
            runs._start(trigger="cron", date_ref=date_ref)
            date_ref += relativedelta(months=1)
        runs._start(trigger="manual", date_ref=today)

    @api.model
    def _demo_pay(self, index, partner, today):
        """Paid up, past due, partly paid or in credit, by subscriber."""
        due = partner.security_balance_due
        kind = index % 5
        if index == 0:
            amount = due + 50.0  # the subscriber with credit
        elif kind in (0, 1, 2):
            amount = due
        elif kind == 4:
            amount = round(due / 2, 2)
        else:
            amount = 0.0  # past due
        if amount > 0:
            self.env["account.payment"]._security_register_payment(
                partner,
                amount,
                external_id=f"demo:{partner.security_account_ref}",
                date=today,
                category=self.env["security.payment.category"]._get_by_code(
                    "terminal" if index % 2 else "bank"
                ),
            )
        partner.invalidate_recordset()
