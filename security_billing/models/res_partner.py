"""Subscribers: the subscriber flag, the account number (typable, with a
check digit, unique per company) and who may change them. Balances, autopay
and promised payments live in the ``res_partner_*.py`` files beside this one."""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools import account_ref

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
        except account_ref.InvalidAccountRef as exc:
            raise UserError(self._security_account_ref_error(exc)) from exc

    @api.model
    def _security_account_ref_error(self, exc):
        """Why an account number was rejected, in the user's language.

        :param exc: the ``account_ref.InvalidAccountRef`` raised by ``check``.
        :return: the translated sentence.
        :rtype: str
        """
        ref = exc.text or ""
        reasons = {
            "empty": lambda: self.env._("Invalid account number: it is empty."),
            "not_digits": lambda: self.env._(
                "Invalid account number %(ref)r: digits only, please.", ref=ref
            ),
            "length": lambda: self.env._(
                "Invalid account number %(ref)r: it has a wrong length.", ref=ref
            ),
            "check_digit": lambda: self.env._(
                "Invalid account number %(ref)r: it fails its check digit "
                "(a digit mistyped or two digits swapped).",
                ref=ref,
            ),
        }
        return reasons[exc.code]()

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
