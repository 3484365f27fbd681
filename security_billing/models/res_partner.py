from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools import account_ref

BALANCE_FIELDS = (
    "security_balance",
    "security_balance_due",
    "security_past_due",
    "security_paid_until",
    "security_next_payment_date",
)
# Only billing users read and write these: bank and terminal payments find
# the subscriber by its account number, autopay charges the method on file.
BILLING_GROUPS = "security_billing.group_security_billing_user"
BILLING_FIELDS = (
    "security_is_subscriber",
    "security_account_ref",
    "security_autopay_token_id",
    "security_autopay_enabled",
)


class ResPartner(models.Model):
    _inherit = "res.partner"

    security_is_subscriber = fields.Boolean(
        string="Security Subscriber",
        index=True,
        copy=False,  # copied for billing users only, see copy_data()
        groups=BILLING_GROUPS,
    )
    security_account_ref = fields.Char(
        string="Account Number",
        copy=False,
        index=True,
        tracking=True,
        groups=BILLING_GROUPS,
        help="Typable subscriber number with a mod-10 check digit, printed on "
        "invoices and typed at banks and terminals.",
    )
    security_site_ids = fields.One2many("security.site", "partner_id", string="Sites")
    security_contract_ids = fields.One2many(
        "contract.contract",
        "partner_id",
        string="MMR Contracts",
        domain=[("security_is_mmr", "=", True)],
    )
    security_balance = fields.Monetary(
        string="Balance",
        compute="_compute_security_balances",
        currency_field="currency_id",
        help="Credit minus debt of MMR invoices; negative means the customer owes.",
        search="_search_security_balance",
    )
    security_balance_due = fields.Monetary(
        string="Balance Due",
        compute="_compute_security_balances",
        currency_field="currency_id",
        search="_search_security_balance_due",
    )
    security_past_due = fields.Monetary(
        string="Past Due",
        compute="_compute_security_balances",
        currency_field="currency_id",
        search="_search_security_past_due",
    )
    security_paid_until = fields.Date(
        string="Paid Until", compute="_compute_security_balances"
    )
    security_next_payment_date = fields.Date(
        string="Next Payment Date", compute="_compute_security_balances"
    )

    def init(self):
        res = super().init()
        # Unique per company; partners shared by all companies count as one.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS res_partner_security_account_ref_uniq
                ON res_partner (security_account_ref, COALESCE(company_id, 0))
             WHERE security_account_ref IS NOT NULL
            """
        )
        return res

    # ------------------------------------------------------------------ numbers
    @api.constrains("security_account_ref")
    def _check_security_account_ref_format(self):
        """Constraint: an account number is digits ending with its mod-10
        check digit (its uniqueness is ``_security_check_account_ref_unique``)."""
        for partner in self.filtered("security_account_ref"):
            if not account_ref.is_valid(partner.security_account_ref):
                raise ValidationError(
                    _(
                        "Account number %(ref)s is not valid: digits only, "
                        "ending with its mod-10 check digit.",
                        ref=partner.security_account_ref,
                    )
                )

    def _security_check_account_ref_unique(self, ref, company_id):
        """Refuse an account number another subscriber of the company has.

        Checked before writing: the unique index would otherwise answer with
        a database error instead of this message.

        :param str ref: the account number about to be written.
        :param int company_id: company of the partners written (falsy: shared
            by all companies).
        :raises ValidationError: when several partners would get ``ref``, or
            another partner of the company already has it.
        """
        if len(self) > 1:
            raise ValidationError(
                _(
                    "Account number %(ref)s cannot be given to several subscribers.",
                    ref=ref,
                )
            )
        self.flush_model(["security_account_ref", "company_id"])
        duplicate = (
            self.sudo()
            .with_context(active_test=False)
            .search_count(
                [
                    ("id", "not in", self.ids),
                    ("security_account_ref", "=", ref),
                    ("company_id", "=", company_id or False),
                ],
                limit=1,
            )
        )
        if duplicate:
            raise ValidationError(
                _(
                    "Account number %(ref)s is already used by another subscriber.",
                    ref=ref,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        defaults = {key[8:] for key in self.env.context if key.startswith("default_")}
        for vals in vals_list:
            self._security_check_billing_fields_access("create", set(vals) | defaults)
            if vals.get("security_is_subscriber") and "company_id" not in vals:
                # A subscriber belongs to the company that bills it: the
                # users of other companies do not see it.
                vals["company_id"] = self.env.company.id
            if vals.get("security_account_ref"):
                self.browse()._security_check_account_ref_unique(
                    vals["security_account_ref"],
                    vals.get("company_id", self.env.context.get("default_company_id")),
                )
        partners = super().create(vals_list)
        # read as superuser: contacts are created by users without billing rights
        partners.sudo().filtered(
            lambda p: p.security_is_subscriber and not p.security_account_ref
        ).sudo(False)._security_assign_account_ref()
        return partners

    def write(self, vals):
        self._security_check_billing_fields_access("write", vals)
        if "security_account_ref" in vals:
            self._security_check_renumbering(vals["security_account_ref"])
        if vals.get("security_account_ref"):
            self._security_check_account_ref_unique(
                vals["security_account_ref"],
                vals.get("company_id", self[:1].company_id.id),
            )
        res = super().write(vals)
        if vals.get("security_is_subscriber"):
            self.filtered(
                lambda p: not p.security_account_ref
            )._security_assign_account_ref()
        return res

    def copy_data(self, default=None):
        """A billing user's copy of a subscriber is a new subscriber (with a
        new account number); other users copy the contact only."""
        vals_list = super().copy_data(default=default)
        if not self._fields["security_is_subscriber"].is_accessible(self.env):
            return vals_list
        for partner, vals in zip(self, vals_list, strict=True):
            if vals is not None:
                vals.setdefault(
                    "security_is_subscriber", partner.security_is_subscriber
                )
        return vals_list

    def _security_check_billing_fields_access(self, operation, field_names):
        """Refuse the billing fields to users without billing rights.

        Odoo checks the ``groups`` of fields on write but not on create (nor
        on the defaults given in the context); checked here first for both,
        before any rule of ours answers about account numbers.
        """
        names = [fname for fname in BILLING_FIELDS if fname in field_names]
        if names:
            self.check_field_access_rights(operation, names)

    def _security_check_renumbering(self, ref):
        """A subscriber with payments keeps their account number: banks and
        terminals pay by it. Only a Security Billing Manager may change it."""
        if self.env.su or self.env.user.has_group(
            "security_billing.group_security_billing_manager"
        ):
            return
        renumbered = self.filtered(
            lambda p: p.security_account_ref and p.security_account_ref != ref
        )
        payments = self.env["account.payment"].sudo()
        for partner in renumbered:
            if payments.search_count(
                [("partner_id", "child_of", partner.commercial_partner_id.id)],
                limit=1,
            ):
                raise AccessError(
                    self.env._(
                        "%(partner)s already has payments under account number "
                        "%(ref)s: only a Security Billing Manager may change it.",
                        partner=partner.display_name,
                        ref=partner.security_account_ref,
                    )
                )

    def _security_assign_account_ref(self):
        sequence = self.env["ir.sequence"].sudo()
        for partner in self:
            base = sequence.with_company(
                partner.company_id or self.env.company
            ).next_by_code("security.account.ref")
            partner.security_account_ref = account_ref.make_account_ref(base)

    @api.model
    def _security_find_by_account_ref(self, text, company=None):
        """Return the subscriber of a typed account number.

        Raises ``UserError`` naming the problem when the number is malformed
        or unknown, so every channel reports the same message.
        """
        ref = self._security_parse_account_ref(text)
        company = company or self.env.company
        partner = self.search(
            [
                ("security_account_ref", "=", ref),
                ("company_id", "in", [False, company.id]),
            ],
            limit=1,
        )
        if not partner:
            raise UserError(_("Account number %(ref)s was not found.", ref=ref))
        return partner

    @api.model
    def _security_parse_account_ref(self, text):
        """The account number typed in ``text``, normalized and verified.

        :param str text: an account number as a person typed it (spaces,
            dashes and prefixes such as "acc" or "л/с" are allowed).
        :return: the digits of the account number.
        :rtype: str
        :raises UserError: naming why ``text`` is not a valid account number
            (empty, not digits, wrong length, bad check digit).
        """
        try:
            return account_ref.check(text)
        except ValueError as exc:
            raise UserError(
                _("Invalid account number %(ref)r: %(why)s.", ref=text, why=exc)
            ) from exc

    # ----------------------------------------------------------------- balances
    def _search_security_balance(self, operator, value):
        return self.env["account.move"]._security_search_balance(
            "partner_id", "security_balance", operator, value
        )

    def _search_security_balance_due(self, operator, value):
        return self.env["account.move"]._security_search_balance(
            "partner_id", "security_balance_due", operator, value
        )

    def _search_security_past_due(self, operator, value):
        return self.env["account.move"]._security_search_balance(
            "partner_id", "security_past_due", operator, value
        )

    def _compute_security_balances(self):
        data = self._security_balance_data()
        for partner in self:
            values = data.get(partner.id, {})
            for fname in BALANCE_FIELDS:
                partner[fname] = values.get(fname, False)

    def _security_balance_data(self):
        """Balances per commercial partner in a few set-based queries."""
        moves = self.env["account.move"]
        data = moves._security_balance_rows("partner_id", self.ids)
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

    # ------------------------------------------------------------------ actions
    def action_security_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [
            ("commercial_partner_id", "=", self.id),
            ("security_is_mmr", "=", True),
        ]
        action["context"] = {"default_partner_id": self.id}
        return action

    def action_security_view_payments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_account_payments"
        )
        action["domain"] = [("partner_id", "child_of", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    # ------------------------------------------------------ recommended amount
    security_recommended_amount = fields.Monetary(
        string="Recommended Payment",
        compute="_compute_security_recommended_amount",
        currency_field="currency_id",
        help="Sum of the recommended payments of the subscriber's MMR contracts "
        "(balance due without a contract when there is none).",
    )

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

    # ------------------------------------------- autopay, promised payments
    security_autopay_token_id = fields.Many2one(
        "payment.token",
        string="Autopay Method",
        copy=False,
        domain="[('partner_id', 'child_of', id)]",
        groups=BILLING_GROUPS,
        help="Saved billing method (a provider token: no card data is stored) "
        "charged automatically for MMR invoices.",
    )
    security_autopay_enabled = fields.Boolean(
        string="Autopay Enabled",
        default=True,
        copy=False,
        groups=BILLING_GROUPS,
        help="Only used when the company lets customers switch autopay off.",
    )
    security_autopay_active = fields.Boolean(
        string="Autopay", compute="_compute_security_autopay_active"
    )
    security_promise_ids = fields.One2many(
        "security.promised.payment", "partner_id", string="Promised Payments"
    )

    @api.depends("security_autopay_token_id.active", "security_autopay_enabled")
    def _compute_security_autopay_active(self):
        for partner in self:
            partner.security_autopay_active = bool(
                partner._security_partner_autopay_token()
            )

    @api.constrains("security_autopay_token_id", "parent_id")
    def _check_security_autopay_token_owner(self):
        for partner in self.sudo().filtered("security_autopay_token_id"):
            self._security_check_owns_token(partner, partner.security_autopay_token_id)

    @api.model
    def _security_owns_token(self, partner, token):
        """True when the saved method ``token`` belongs to the customer billed
        as ``partner`` (same commercial partner): one customer's card never
        pays another customer's bills."""
        token = token.sudo()
        return bool(token) and (
            token.partner_id.commercial_partner_id == partner.commercial_partner_id
        )

    @api.model
    def _security_check_owns_token(self, partner, token):
        """Raise naming the owner when ``token`` is not ``partner``'s."""
        if not self._security_owns_token(partner, token):
            token = token.sudo()
            raise ValidationError(
                self.env._(
                    "The autopay method %(method)s belongs to %(owner)s, not to "
                    "%(partner)s: a saved method only pays its owner's bills.",
                    method=token.display_name,
                    owner=token.partner_id.commercial_partner_id.display_name,
                    partner=partner.commercial_partner_id.display_name,
                )
            )

    def _security_autopay_on(self):
        """Autopay is on: always once a method is on file (company rule),
        otherwise as the customer chose."""
        self.ensure_one()
        company = self.company_id or self.env.company
        return (
            company.security_autopay_mandatory or self.sudo().security_autopay_enabled
        )

    def _security_partner_autopay_token(self):
        self.ensure_one()
        token = self.sudo().security_autopay_token_id
        if not token.active or not self._security_autopay_on():
            return token.browse()
        return token

    def _security_set_autopay_token(self, token):
        """Save ``token`` as this subscriber's autopay method (replacing any).

        Callable from the portal: checks the token belongs to the subscriber.
        Returns ``{"ok", "token_id", "autopay"}``.
        """
        self.ensure_one()
        partner = self.commercial_partner_id
        token = token.sudo()
        if not token.exists() or not token.active:
            raise UserError(self.env._("This payment method no longer exists."))
        if token.partner_id.commercial_partner_id != partner:
            raise UserError(
                self.env._("This payment method belongs to another customer.")
            )
        if not token.provider_id.allow_tokenization:
            raise UserError(
                self.env._(
                    "%(provider)s cannot charge saved methods.",
                    provider=token.provider_id.name,
                )
            )
        partner.sudo().write(
            {"security_autopay_token_id": token.id, "security_autopay_enabled": True}
        )
        return {
            "ok": True,
            "token_id": token.id,
            "autopay": partner.security_autopay_active,
        }

    def _security_check_autopay_change(self):
        """Customers may not switch autopay off or remove the method when
        the company makes autopay mandatory; managers may."""
        self.ensure_one()
        company = self.company_id or self.env.company
        if company.security_autopay_mandatory and not self.env.user.has_group(
            "security_billing.group_security_billing_manager"
        ):
            raise UserError(
                self.env._(
                    "Autopay stays on while a billing method is on file: you "
                    "can replace the method but not remove it."
                )
            )

    def _security_set_autopay_enabled(self, enabled):
        """Switch autopay on or off (refused for customers when mandatory)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        if not enabled:
            partner._security_check_autopay_change()
        partner.sudo().security_autopay_enabled = bool(enabled)
        return {"ok": True, "autopay": partner.security_autopay_active}

    def _security_remove_autopay_token(self):
        """Remove the saved method (refused for customers when mandatory)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        partner._security_check_autopay_change()
        partner.sudo().security_autopay_token_id = False
        return {"ok": True, "autopay": False}

    def _security_promise_rules(self, date_ref=None):
        """What a promised payment request would get now, for display:
        ``{"allowed", "reason", "max_amount", "amount_due", "due_date", "days"}``.
        """
        self.ensure_one()
        rules = self.env["security.promised.payment"]._security_rules(
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
        return self.env["security.promised.payment"]._security_request(
            self.commercial_partner_id,
            amount=amount,
            channel=channel,
            date_ref=date_ref,
        )
