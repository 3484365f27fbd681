# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Match imported bank statement lines to subscribers and pay their invoices.

A matched incoming line becomes a subscriber payment through the core entry
point ``account.payment._security_register_payments`` (external id
``bank:<unique_import_id>``, category ``bank``, allocated oldest first); the
statement line's suspense line is then turned into the payment's outstanding
receipts line and reconciled with it, as Odoo Community reconciles a bank
statement with a registered payment. The bank account is debited once (by the
statement line); the payment goes through the outstanding receipts account,
which the reconciliation clears.
"""

import logging

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import split_every

from odoo.addons.security_billing.tools import account_ref

from .account_bank_statement_line_import import ANALYZE_THRESHOLD

_logger = logging.getLogger(__name__)

# Lines paid together by automatic matching: one savepoint, one batch of the
# payment entry point, one reconciliation. A failing chunk is split in halves
# until the failing lines are alone (and left To match with the reason).
MATCH_CHUNK_SIZE = 500
MATCH_STATES = [
    ("to_match", "To match"),
    ("matched", "Matched"),
    ("ignored", "Ignored (outgoing)"),
]
USER_GROUP = "security_billing.group_security_billing_user"
EXTERNAL_ID_PREFIX = "bank:"


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    security_account_ref = fields.Char(
        string="Registry Account Number",
        copy=False,
        readonly=True,
        help="Subscriber account number from the dedicated column of a payment "
        "registry; when empty, the account number is searched in the label "
        "(payment purpose).",
    )
    security_match_state = fields.Selection(
        MATCH_STATES,
        string="Matching",
        copy=False,
        readonly=True,
        index=True,
        help="To match: the accountant must pick the subscriber. Matched: paid "
        "to a subscriber. Ignored: outgoing money, not a subscriber payment.",
    )
    security_match_reason = fields.Char(
        string="Matching Note", copy=False, readonly=True
    )
    security_candidate_ids = fields.Many2many(
        "res.partner",
        "security_bank_line_candidate_rel",
        "line_id",
        "partner_id",
        string="Candidate Subscribers",
        copy=False,
        readonly=True,
    )
    security_payment_id = fields.Many2one(
        "account.payment",
        string="Subscriber Payment",
        copy=False,
        readonly=True,
        index="btree_not_null",
    )

    # ------------------------------------------------------------------ actions
    def action_security_match(self):
        """Button: match the selected lines automatically."""
        lines = self._security_check_match_access()
        summary = lines._security_match_and_pay()
        return self._security_notification(lines._security_summary_text(summary))

    def action_security_assign(self):
        """Button: open the wizard assigning the lines to a subscriber."""
        self._security_check_match_access()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "security_billing_bank.action_security_bank_line_assign"
        )
        action["context"] = {
            "active_model": self._name,
            "active_ids": self.ids,
            "default_line_ids": [Command.set(self.ids)],
        }
        return action

    def action_undo_reconciliation(self):
        """Undoing the reconciliation puts the line back in the To match list;
        the subscriber payment stays: matching again reuses it."""
        matched = self.filtered(lambda line: line.security_match_state == "matched")
        res = super().action_undo_reconciliation()
        matched.write(
            {
                "security_match_state": "to_match",
                "security_match_reason": self.env._(
                    "Reconciliation undone: match it again."
                ),
            }
        )
        return res

    def _security_check_match_access(self):
        """Accountants may match lines they can read; the money is moved as
        superuser (statement lines are read-only for invoicing users)."""
        if not self.env.user.has_group(USER_GROUP):
            raise AccessError(
                self.env._("Only Security Billing users may match bank lines.")
            )
        self.check_access("read")
        return self.sudo()

    def _security_notification(self, message, kind="info"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": kind,
                "message": message,
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ---------------------------------------------------------------- matching
    def _security_match_and_pay(self):
        """Match these lines: pay incoming lines of exactly one subscriber,
        ignore outgoing ones, leave the others To match with the reason.

        Idempotent: matched lines are skipped (row-locked first, so two
        concurrent runs cannot both pay a line). The payments are made in
        chunks (``_security_match_chunk_size``); a failing line is left To
        match with the error, the others are paid. Its callers (the
        statement import, the *Match automatically* button) check the access
        and run it as superuser.

        :return: the counts of lines ``{"matched", "to_match", "ignored",
            "skipped"}`` (skipped: already matched or ignored, or no longer
            waiting on their suspense line)
        :rtype: dict
        """
        lines = self._security_lock()
        todo = lines.filtered(lambda line: line._security_is_matchable())
        summary = {"matched": 0, "to_match": 0, "ignored": 0}
        summary["skipped"] = len(lines) - len(todo)
        outgoing = todo.filtered(lambda line: line.amount <= 0)
        outgoing.write({"security_match_state": "ignored"})
        summary["ignored"] = len(outgoing)
        incoming = todo - outgoing
        found = incoming._security_find_subscribers()
        to_pay, reasons = [], {}
        for line in incoming:
            partner, reason, candidates = found[line.id]
            if partner:
                to_pay.append((line, partner))
            else:
                reasons[line.id] = (reason, candidates)
        chunks = split_every(self._security_match_chunk_size(), to_pay, list)
        for index, chunk in enumerate(chunks):
            if index in (0, 1) and len(to_pay) >= ANALYZE_THRESHOLD:
                # before the first chunk, and once its payments exist
                self._security_refresh_move_statistics()
            for line, reason in self._security_pay_many_safe(chunk).items():
                reasons[line.id] = (reason, found[line.id][2])
        for line in incoming:
            if line.id in reasons:
                line._security_set_to_match(*reasons[line.id])
                summary["to_match"] += 1
            else:
                summary["matched"] += 1
        return summary

    @api.model
    def _security_match_chunk_size(self):
        """Lines paid together (in one savepoint) by automatic matching:
        system parameter ``security_billing_bank.match_chunk_size``."""
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("security_billing_bank.match_chunk_size")
        )
        try:
            return max(int(value), 1) if value else MATCH_CHUNK_SIZE
        except ValueError:
            return MATCH_CHUNK_SIZE

    def _security_lock(self):
        """Row-lock the lines and re-read them (another transaction may have
        matched them meanwhile)."""
        if not self:
            return self
        self.flush_recordset()
        self.env.cr.execute(
            "SELECT id FROM account_bank_statement_line WHERE id IN %s "
            "ORDER BY id FOR UPDATE",
            [tuple(self.ids)],
        )
        self.invalidate_recordset()
        return self.exists()

    def _security_is_matchable(self):
        """Not matched yet, and the line still waits on its suspense line."""
        self.ensure_one()
        if self.security_match_state in ("matched", "ignored"):
            return False
        _liquidity, suspense, other = self._seek_for_lines()
        return bool(suspense) and not other

    def _security_set_to_match(self, reason, candidates=None):
        self.write(
            {
                "security_match_state": "to_match",
                "security_match_reason": reason,
                "security_candidate_ids": [Command.set(candidates.ids)]
                if candidates
                else [Command.clear()],
            }
        )

    @api.model
    def _security_summary_text(self, summary):
        text = self.env._(
            "Bank matching: %(matched)s paid to subscribers, %(to_match)s to "
            "match by hand, %(ignored)s outgoing ignored.",
            **summary,
        )
        if summary.get("skipped"):
            text += " " + self.env._(
                "%(skipped)s already processed, left as they were.", **summary
            )
        return text

    # ------------------------------------------------------ finding subscribers
    def _security_get_account_refs(self):
        """``(refs, source)``: the valid account numbers of this line, from
        the registry column when filled, else from the payment purpose."""
        self.ensure_one()
        return self._security_account_refs(self.security_account_ref, self.payment_ref)

    @api.model
    def _security_account_refs(self, registry_ref, purpose):
        """``(refs, source)``: the valid account numbers of a line whose
        registry column is ``registry_ref`` and purpose ``purpose``."""
        if registry_ref:
            ref = account_ref.normalize(registry_ref)
            return ([ref] if account_ref.is_valid(ref) else []), "column"
        return account_ref.extract(purpose), "purpose"

    def _security_find_subscribers(self):
        """``{line.id: (partner or None, reason, candidates)}`` with all the
        account numbers looked up in one query."""
        refs = {line.id: line._security_get_account_refs() for line in self}
        all_refs = {ref for line_refs, _src in refs.values() for ref in line_refs}
        by_ref = self._security_subscribers_by_ref(all_refs)
        result = {}
        for line in self:
            line_refs, source = refs[line.id]
            partners = self._security_subscribers_of(
                by_ref, line_refs, line.company_id.id
            )
            result[line.id] = line._security_match_verdict(line_refs, source, partners)
        return result

    @api.model
    def _security_subscribers_of(self, by_ref, refs, company_id):
        """The subscribers (commercial partners) of the account numbers
        ``refs`` of a line of ``company_id``: the company's own, else the
        shared ones (``by_ref`` from ``_security_subscribers_by_ref``). A
        line pays a subscriber when there is exactly one."""
        partners = self.env["res.partner"].browse()
        for ref in refs:
            partners |= by_ref.get((ref, company_id)) or by_ref.get(
                (ref, False), partners.browse()
            )
        return partners.commercial_partner_id

    @api.model
    def _security_may_pay_subscriber(self, vals):
        """Whether a new line of values ``vals`` may pay a subscriber when
        matched: incoming money of a journal, waiting on its suspense line
        (no counterpart account given)."""
        return bool(
            vals.get("journal_id")
            and not vals.get("counterpart_account_id")
            and float(vals.get("amount") or 0.0) > 0
        )

    @api.model
    def _security_prepare_subscriber_vals_list(self, vals_list):
        """The values of imported lines, each incoming one whose account
        numbers give exactly one subscriber with that subscriber as partner
        (builder; all the numbers looked up in one query).

        Matching would pay these lines to that subscriber and put its entry
        on it (``_security_set_partner``): given at creation, the partner
        costs nothing when the payments are made (and numbered, one pay job
        at a time). The other lines keep their values: matching leaves them
        To match, or ignores them (outgoing). A line whose payment fails
        when matched keeps the subscriber (To match, with the error).

        :param list vals_list: values of new statement lines
        :return: the values, with ``partner_id`` where one subscriber matches
        :rtype: list
        """
        refs = [
            self._security_account_refs(
                vals.get("security_account_ref"), vals.get("payment_ref")
            )[0]
            if self._security_may_pay_subscriber(vals)
            else []
            for vals in vals_list
        ]
        by_ref = self._security_subscribers_by_ref(
            {ref for line_refs in refs for ref in line_refs}
        )
        if not by_ref:
            return vals_list
        journals = self.env["account.journal"].browse(
            {vals["journal_id"] for vals in vals_list if vals.get("journal_id")}
        )
        company_of = {journal.id: journal.company_id.id for journal in journals}
        result = []
        for vals, line_refs in zip(vals_list, refs, strict=True):
            if line_refs:
                partners = self._security_subscribers_of(
                    by_ref, line_refs, company_of[vals["journal_id"]]
                )
                if len(partners) == 1:
                    vals = {**vals, "partner_id": partners.id}
            result.append(vals)
        return result

    @api.model
    def _security_subscribers_by_ref(self, refs):
        """``{(ref, company_id or False): partner}`` of subscribers."""
        if not refs:
            return {}
        partners = (
            self.env["res.partner"]
            .sudo()
            .search(
                [
                    ("security_account_ref", "in", list(refs)),
                    ("security_is_subscriber", "=", True),
                ]
            )
        )
        return {
            (partner.security_account_ref, partner.company_id.id): partner
            for partner in partners
        }

    def _security_match_verdict(self, refs, source, partners):
        """``(partner or None, reason, candidates)`` of one line."""
        self.ensure_one()
        if len(partners) == 1:
            return partners, False, partners
        if len(partners) > 1:
            return (
                None,
                self.env._(
                    "Ambiguous: several subscribers match (%(refs)s).",
                    refs=", ".join(
                        f"{p.security_account_ref} {p.name}" for p in partners
                    ),
                ),
                partners,
            )
        if source == "column":
            return None, self._security_column_reason(), partners
        if refs:
            return (
                None,
                self.env._(
                    "Account number %(refs)s found in the purpose, but no such "
                    "subscriber.",
                    refs=", ".join(refs),
                ),
                partners,
            )
        return (
            None,
            self.env._("No valid account number found in the purpose."),
            partners,
        )

    def _security_column_reason(self):
        ref = self.security_account_ref
        try:
            normalized = account_ref.check(ref)
        except account_ref.InvalidAccountRef as exc:
            return self.env["res.partner"]._security_account_ref_error(exc)
        return self.env._(
            "Registry account number %(ref)s: no such subscriber.", ref=normalized
        )

    # ------------------------------------------------------------------ paying
    @api.model
    def _security_pay_many_safe(self, pairs):
        """Pay ``[(line, partner)]`` together in a savepoint; when that
        fails, split them in halves until each failing line is alone: its
        payment is rolled back, the others are paid. Returns ``{line:
        reason}`` of the lines not paid."""
        try:
            with self.env.cr.savepoint():
                self._security_pay_many(pairs)
        except (UserError, ValidationError) as exc:
            if len(pairs) > 1:
                half = len(pairs) // 2
                return {
                    **self._security_pay_many_safe(pairs[:half]),
                    **self._security_pay_many_safe(pairs[half:]),
                }
            line, partner = pairs[0]
            _logger.info("Bank line %s not paid: %s", line.id, exc)
            return {
                line: self.env._(
                    "Payment to %(ref)s failed: %(error)s",
                    ref=partner.security_account_ref,
                    error=exc.args[0] if exc.args else exc,
                )
            }
        return {}

    @api.model
    def _security_pay_many(self, pairs):
        """Turn incoming lines into payments of their subscribers
        (``[(line, partner)]``) through one call of the payment entry point
        per company, allocated oldest first, and reconcile each line with its
        payment. Returns ``{line: payment}``."""
        pairs = [(line, partner.commercial_partner_id) for line, partner in pairs]
        for line, partner in pairs:
            line._security_check_payable(partner)
        payments = {}
        by_company = {}
        for line, partner in pairs:
            by_company.setdefault(line.company_id, []).append((line, partner))
        for company_pairs in by_company.values():
            payments.update(self._security_create_subscriber_payments(company_pairs))
        lines = self.browse([line.id for line, _partner in pairs])
        lines._security_reconcile_with_payments(payments)
        lines._security_mark_matched(payments)
        return payments

    def _security_mark_matched(self, payments):
        """Matched lines: no reason nor candidates, their subscriber payment."""
        self.write(
            {
                "security_match_state": "matched",
                "security_match_reason": False,
                "security_candidate_ids": [Command.clear()],
            }
        )
        for line in self:
            line.security_payment_id = payments[line]

    def _security_check_payable(self, partner):
        if not partner.security_is_subscriber:
            raise UserError(
                self.env._(
                    "%(partner)s is not a subscriber.", partner=partner.display_name
                )
            )
        if partner.company_id and partner.company_id != self.company_id:
            raise UserError(
                self.env._(
                    "Subscriber %(partner)s belongs to another company.",
                    partner=partner.display_name,
                )
            )
        if self.amount <= 0:
            raise UserError(
                self.env._(
                    "Line %(line)s is outgoing money: it cannot pay a subscriber.",
                    line=self.payment_ref,
                )
            )
        if not self._security_is_matchable():
            raise UserError(
                self.env._(
                    "Line %(line)s is already reconciled.", line=self.payment_ref
                )
            )

    def _security_external_id(self):
        self.ensure_one()
        key = self.unique_import_id or f"line:{self.id}"
        return f"{EXTERNAL_ID_PREFIX}{key}"

    @api.model
    def _security_create_subscriber_payments(self, pairs):
        """The subscriber payments of ``[(line, partner)]`` (lines of one
        company), through one call of the core entry point (idempotent on
        the lines' external ids). Returns ``{line: payment}``."""
        company = pairs[0][0].company_id
        payments = self.env["account.payment"].with_company(company)
        category = self.env["security.payment.category"]._get_by_code("bank")
        results = payments._security_register_payments(
            [
                {
                    "partner": partner,
                    "amount": line.amount,
                    "external_id": line._security_external_id(),
                    "date": line.date,
                    "journal": line.journal_id,
                    "category": category,
                    "memo": line.payment_ref or line.ref,
                }
                for line, partner in pairs
            ]
        )
        found = {}
        for (line, partner), result in zip(pairs, results, strict=True):
            payment = self.env["account.payment"].browse(result["payment_id"])
            if result["duplicate"]:
                line._security_check_duplicate_payment(payment, partner)
            found[line] = payment
        return found

    def _security_check_duplicate_payment(self, payment, partner):
        """A re-imported line finds its first payment: reuse it if it is the
        same money for the same subscriber and still waits for the bank."""
        if payment.partner_id.commercial_partner_id != partner or (
            self.currency_id.compare_amounts(payment.amount, self.amount)
        ):
            raise UserError(
                self.env._(
                    "This bank transaction was already paid to %(partner)s "
                    "(payment %(payment)s).",
                    partner=payment.partner_id.display_name,
                    payment=payment.display_name,
                )
            )
        if not payment._seek_for_lines()[0].filtered(lambda line: not line.reconciled):
            raise UserError(
                self.env._(
                    "Payment %(payment)s of this bank transaction is already "
                    "reconciled with another statement line.",
                    payment=payment.display_name,
                )
            )

    def _security_reconcile_with_payments(self, payments):
        """For each of these lines, put its entry on the payment's partner
        (``{line: payment}``), move its suspense line to the payment's
        outstanding account and reconcile both. The partners are written line
        by line (one value each), the accounts by one write per account and
        all the pairs are reconciled at once."""
        plan = []
        to_move = {}
        for line in self:
            payment = payments[line]
            liquidity, suspense, _other = line._seek_for_lines()
            outstanding = payment._seek_for_lines()[0].filtered(
                lambda aml: not aml.reconciled
            )
            line._security_set_partner(liquidity | suspense, payment.partner_id)
            account = outstanding.account_id
            to_move[account] = to_move.get(account, suspense.browse()) | suspense
            plan.append(suspense | outstanding)
        for account, suspense_lines in to_move.items():
            suspense_lines.with_context(skip_readonly_check=True).write(
                {"account_id": account.id}
            )
        self.env["account.move.line"]._reconcile_plan(plan)

    def _security_set_partner(self, move_lines, partner):
        """Put this line's entry and ``move_lines`` of it on ``partner``."""
        self.ensure_one()
        if self.move_id.partner_id == partner and move_lines.partner_id == partner:
            return
        self.move_id.with_context(skip_readonly_check=True).write(
            {
                "partner_id": partner.id,
                "line_ids": [
                    Command.update(aml.id, {"partner_id": partner.id})
                    for aml in move_lines
                ],
            }
        )

    # ------------------------------------------------------ manual assignment
    def _security_assign_subscriber(self, partner):
        """The accountant's choice for lines To match: pay them to
        ``partner`` through the same path as automatic matching.

        :param partner: the subscriber (``res.partner``) paid by every line
        :return: the lines, paid and matched
        :raise UserError: a line is already matched, or cannot pay
            ``partner`` (``_security_check_payable``); nothing is paid
        """
        lines = self._security_lock()
        for line in lines:
            if line.security_match_state == "matched":
                raise UserError(
                    self.env._(
                        "Line %(line)s is already matched to %(partner)s.",
                        line=line.payment_ref,
                        partner=line.partner_id.display_name,
                    )
                )
        self._security_pay_many([(line, partner) for line in lines])
        return lines
