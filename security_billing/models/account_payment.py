from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import clean_context, config, float_compare, split_every

from ..tools.locks import hold_subscriber, lock_subscribers

# Context of payments created and posted at once by the system.
QUIET_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}

# Payments posted together (see _security_create_posted).
POST_CHUNK_SIZE = 50


class AccountPayment(models.Model):
    _inherit = "account.payment"

    security_external_id = fields.Char(
        string="External Payment ID",
        copy=False,
        index=True,
        readonly=True,
        help="Id of the payment in the channel it came from (bank, terminal, "
        "API); a second payment with the same id is never created.",
    )
    security_category_id = fields.Many2one(
        "security.payment.category", string="Payment Category", index=True
    )
    security_contract_id = fields.Many2one(
        "contract.contract",
        domain="[('partner_id', '=', partner_id), ('security_is_mmr', '=', True)]",
    )
    # Inverses of core many2one fields, for the ORM only: when the state of a
    # payment changes, the fields depending on it are found through these
    # (cached for a new payment) instead of a search per change.
    security_origin_move_ids = fields.One2many("account.move", "origin_payment_id")
    security_move_line_ids = fields.One2many("account.move.line", "payment_id")

    @api.model
    def _security_register_payment(
        self,
        partner,
        amount,
        external_id=None,
        date=None,
        journal=None,
        category=None,
        contract=None,
        memo=None,
        extra_vals=None,
    ):
        """Register and allocate one incoming payment of a subscriber.

        The payment entry point of every channel (manual, API, bank,
        terminal, online, autopay): a batch of one of
        ``_security_register_payments``, which has the steps.

        :param partner: the payer (``res.partner``); the payment is its
            commercial partner's.
        :param amount: positive number, in the company currency.
        :param str external_id: id of the payment in its channel; with it the
            call is idempotent: a repeated id returns the first result and
            writes nothing.
        :param date: payment date (default: today in the user's timezone).
        :param journal: ``account.journal`` (default: the company's first
            active bank journal).
        :param category: ``security.payment.category`` or empty.
        :param contract: MMR ``contract.contract`` the payment pays (default:
            the subscriber's only active MMR contract, if any).
        :param str memo: the channel's memo.
        :param dict extra_vals: other values of the payment given by the
            channel (e.g. the online payment's transaction); they never
            replace the values decided here (amount, direction, subscriber,
            contract, ...).
        :return: ``{"payment_id", "duplicate", "allocations": [...]}`` where
            allocations are ``{"invoice": name, "invoice_id": id, "amount": x}``.
        :rtype: dict
        :raises UserError: when the amount is not a positive number.
        """
        return self._security_register_payments(
            [
                {
                    "partner": partner,
                    "amount": amount,
                    "external_id": external_id,
                    "date": date,
                    "journal": journal,
                    "category": category,
                    "contract": contract,
                    "memo": memo,
                    "extra_vals": extra_vals,
                }
            ]
        )[0]

    @api.model
    def _security_register_payments(self, requests):
        """Register and allocate incoming payments of subscribers at once.

        The payments are created and posted together, their external ids
        claimed by one statement, all of them allocated oldest first by one
        call of the allocation (one locking query) and the balance hook is
        called once for every subscriber touched. The result is the same as
        registering them one by one in this order: a repeated external id,
        also within the batch, returns the first result with ``duplicate``
        set. Any error raises for the whole batch (the caller isolates the
        lines). The caller's ``default_<field>`` context keys are dropped:
        the payments, their entries and reconciliations get no value from
        them (e.g. another currency or counterpart account).

        The steps, each overridable like Odoo's ``account.payment.register``
        (``_init_payments`` → ``_post_payments`` → ``_reconcile_payments``):
        ``_security_normalize_requests`` → ``_security_lock_subscribers`` →
        ``_security_claim_requests`` →
        ``_security_new_request_indexes`` → ``_security_prepare_payments_vals``
        → ``_security_create_posted`` → ``_security_allocate`` →
        ``_security_payment_results`` → ``_security_record_claim_results``.

        :param list requests: dicts with the arguments of
            ``_security_register_payment``: ``partner``, ``amount`` and
            optional ``external_id``, ``date``, ``journal``, ``category``,
            ``contract``, ``memo``, ``extra_vals``.
        :return: the results of ``_security_register_payment``, in the order
            of ``requests``.
        :rtype: list
        :raises UserError: when an amount is not a positive number (nothing
            is written).
        """
        self = self.with_context(clean_context(self.env.context))
        requests = self._security_normalize_requests(requests)
        self._security_lock_subscribers(requests)
        claims = self._security_claim_requests(requests)
        new_indexes = self._security_new_request_indexes(requests, claims)
        payments, allocations = self.browse(), {}
        if new_indexes:
            payments = self._security_create_posted(
                self._security_prepare_payments_vals(
                    [requests[index] for index in new_indexes]
                )
            )
            allocations = payments._security_allocate()
        new_payments = dict(zip(new_indexes, payments, strict=True))
        results = self._security_payment_results(
            requests, claims, new_payments, allocations
        )
        self._security_record_claim_results(requests, claims, new_indexes, results)
        return results

    @api.model
    def _security_normalize_requests(self, requests):
        """The requests as the next steps read them: amounts checked, each
        paid by its payer's commercial partner.

        :param list requests: the requests of ``_security_register_payments``.
        :return: new request dicts (``requests`` is left as it is).
        :rtype: list
        :raises UserError: when an amount is not a positive number.
        """
        for request in requests:
            self._security_check_amount(request["amount"])
        return [
            dict(request, partner=request["partner"].commercial_partner_id)
            for request in requests
        ]

    @api.model
    def _security_lock_subscribers(self, requests):
        """Take the payment locks of the subscribers of ``requests``, first
        and in one order for every channel: ascending commercial partner id,
        before the claims, the receivable lines and the sequences are read
        (``tools/locks.py``).

        A second payment of the same subscriber waits here until the first
        one commits. Under REPEATABLE READ its transaction still sees the
        database as of its first statement, so it then fails to serialize on
        the lines the first one reconciled and Odoo replays it, unless the
        channel took the lock before its transaction started
        (``_security_hold_subscriber``, as the terminal requests do); the
        order keeps batches of several subscribers from deadlocking.

        :param list requests: normalized requests (commercial partners).
        """
        lock_subscribers(self.env.cr, [request["partner"].id for request in requests])

    @api.model
    def _security_hold_subscriber(self, partner):
        """Wait for the payment lock of ``partner``'s subscriber, then go on
        in a new transaction that holds it until it ends, so that its view
        of the database includes the payment it waited for.

        For a channel that registers one payment per request and has written
        nothing yet in its transaction (terminal requests): the transaction
        is rolled back and the environment's cache cleared. The entry
        point's lock (``_security_lock_subscribers``) is then granted at
        once. Under a test cursor (hooks that never run) it only takes the
        transaction's lock.

        :param partner: ``res.partner`` paying (its commercial partner is
            locked).
        :return: None
        """
        partner_id = partner.commercial_partner_id.id
        if self.env.registry.in_test_mode() or not self._security_can_hold_lock():
            lock_subscribers(self.env.cr, [partner_id])
            return
        hold_subscriber(self.env.cr, partner_id)

    @api.model
    def _security_can_hold_lock(self):
        """Whether session locks may be held across transactions: not behind
        a pooler in transaction mode (PgBouncer ``pool_mode = transaction``),
        where ``security_billing_hold_payment_lock = False`` in the Odoo
        configuration file turns ``_security_hold_subscriber`` into the
        transaction's lock only."""
        value = config.get("security_billing_hold_payment_lock", True)
        return str(value).strip().lower() not in ("0", "false", "no", "off")

    @api.model
    def _security_claim_requests(self, requests):
        """Claim the external ids of ``requests`` (idempotency keys), by one
        statement in the current company.

        The idempotency key is bookkeeping of the channel, not a document of
        the user: any user allowed to register a payment may record it.

        :param list requests: normalized requests.
        :return: ``{external_id: (security.payment.request, created)}``;
            ``created`` is false for an id claimed before this call.
        :rtype: dict
        """
        return (
            self.env["security.payment.request"]
            .sudo()
            ._claim_many(
                [
                    (request["external_id"], request["partner"], request["amount"])
                    for request in requests
                    if request.get("external_id")
                ],
                self.env.company,
            )
        )

    @api.model
    def _security_new_request_indexes(self, requests, claims):
        """Positions of the requests that make a payment: those without
        external id, and the first of each external id claimed by this call
        (the others are duplicates).

        :param list requests: normalized requests.
        :param dict claims: the result of ``_security_claim_requests``.
        :return: indexes into ``requests``, in their order.
        :rtype: list
        """
        new_indexes, seen = [], set()
        for index, request in enumerate(requests):
            external_id = request.get("external_id")
            if external_id:
                if not claims[external_id][1] or external_id in seen:
                    continue
                seen.add(external_id)
            new_indexes.append(index)
        return new_indexes

    @api.model
    def _security_payment_results(self, requests, claims, new_payments, allocations):
        """The result of each request: its new payment's, else (a duplicate)
        the first result of its external id, with ``duplicate`` set.

        :param list requests: normalized requests.
        :param dict claims: the result of ``_security_claim_requests``.
        :param dict new_payments: ``{request index: account.payment}`` of the
            payments made by this call.
        :param dict allocations: the result of ``_security_allocate``.
        :return: the results of ``_security_register_payment``, in the order
            of ``requests``.
        :rtype: list
        """
        results = [None] * len(requests)
        first_of = {}
        for index, payment in new_payments.items():
            results[index] = self._security_payment_result(
                payment, allocations[payment.id]
            )
            external_id = requests[index].get("external_id")
            if external_id:
                first_of[external_id] = results[index]
        for index, request in enumerate(requests):
            if results[index] is None:
                external_id = request["external_id"]
                first = first_of.get(external_id)
                if first is None:
                    first = claims[external_id][0]._get_result()
                results[index] = dict(first, duplicate=True)
        return results

    @api.model
    def _security_payment_result(self, payment, allocations):
        """The result of a payment made by the entry point.

        :param payment: the new ``account.payment``.
        :param list allocations: its allocations, from ``_security_allocate``.
        :return: ``{"payment_id", "duplicate": False, "allocations": [...]}``
            where allocations are ``{"invoice": name, "invoice_id": id,
            "amount": x}``; JSON-serializable (kept as the external id's
            answer).
        :rtype: dict
        """
        return {
            "payment_id": payment.id,
            "duplicate": False,
            "allocations": [
                {
                    "invoice": alloc["invoice"].name,
                    "invoice_id": alloc["invoice"].id,
                    "amount": alloc["amount"],
                }
                for alloc in allocations
            ],
        }

    @api.model
    def _security_record_claim_results(self, requests, claims, new_indexes, results):
        """Keep the result of each external id claimed by this call on its
        claim (one statement): a repeated id answers it.

        :param list requests: normalized requests.
        :param dict claims: the result of ``_security_claim_requests``.
        :param list new_indexes: the result of
            ``_security_new_request_indexes``.
        :param list results: the result of ``_security_payment_results``.
        """
        claims_done = {
            claims[requests[index]["external_id"]][0]: results[index]
            for index in new_indexes
            if requests[index].get("external_id")
        }
        self.env["security.payment.request"].sudo()._record_results(claims_done)

    @api.model
    def _security_prepare_payments_vals(self, requests):
        """Values of the payments of ``requests``; the default contracts and
        journal are looked up once for all of them.

        :param list requests: normalized requests that make a payment.
        :return: one ``account.payment`` values dict per request, in their
            order (see ``_prepare_security_payment_vals``).
        :rtype: list
        """
        partners = self.env["res.partner"].union(
            *(req["partner"] for req in requests if not req.get("contract"))
        )
        defaults = self._security_default_contracts(partners)
        journal = self.env["account.journal"]
        if not all(req.get("journal") for req in requests):
            journal = self._security_default_journal()
        return [
            self._prepare_security_payment_vals(
                req["partner"],
                req["amount"],
                req.get("date"),
                req.get("journal") or journal,
                req.get("category"),
                req.get("contract"),
                req.get("memo"),
                req.get("external_id"),
                extra_vals=req.get("extra_vals"),
                default_contracts=defaults,
            )
            for req in requests
        ]

    @api.model
    def _security_default_contracts(self, partners):
        """``{partner_id: contract}``: the MMR contract of each subscriber
        that has exactly one active (none otherwise), whatever the caller's
        ``active_test``."""
        contracts = self.env["contract.contract"].with_context(active_test=True)
        contracts = contracts.search(
            [("partner_id", "in", partners.ids), ("security_is_mmr", "=", True)]
        )
        grouped = contracts.grouped("partner_id")
        return {
            partner.id: contract if len(contract) == 1 else contract.browse()
            for partner, contract in grouped.items()
        }

    @api.model
    def _security_default_journal(self):
        """The company's first active bank journal, whatever the caller's
        ``active_test``."""
        journals = self.env["account.journal"].with_context(active_test=True)
        return journals.search(
            [
                ("type", "=", "bank"),
                ("company_id", "in", self.env.company._accessible_branches().ids),
            ],
            limit=1,
        )

    @api.model
    def _security_create_posted(self, vals_list):
        """Create and post payments whose entries count in the balances.

        The entries get their security values at creation (a later write
        would recompute them and mark them manually modified). The payments
        are created and posted at once by the system: no creation message,
        follower or tracking on them and their entries (their author and date
        say who and when), unless the company keeps an accounting audit trail.

        :param vals_list: list of ``account.payment`` values dicts, or one
            dict (one payment).
        :return: the posted payments, in the order of ``vals_list``.
        :rtype: account.payment
        """
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        payments = self
        if not self.env.company.check_account_audit_trail:
            payments = self.with_context(**QUIET_CONTEXT)
        payments = payments.create(vals_list)
        move_vals = {
            payment.id: payment._security_prepare_move_vals() for payment in payments
        }
        # Posted in chunks: Odoo names each new entry by looking for the
        # journal's last name among the newest entries, past the unnamed ones
        # of the same posting (quadratic in its size).
        posting = payments.with_context(security_payment_move_vals=move_vals)
        for chunk in split_every(POST_CHUNK_SIZE, posting.ids, posting.browse):
            chunk.action_post()
        return payments.with_env(self.env)

    def _security_prepare_move_vals(self):
        """Extra values of this payment's entry, given at its creation by
        ``_security_create_posted`` (the entry is posted right after).

        ``security_is_payment`` and ``security_contract_id``: the entry counts
        in the subscriber's balance, bound to the payment's contract.
        ``name``: no draft number (Odoo would look up the journal's last one
        for the draft); the number is given at posting, as for the invoices
        of a billing run. ``checked``: the value posting sets (the journal's
        *Auto-Check on Post*), so posting does not write it again.
        """
        self.ensure_one()
        return {
            "security_is_payment": True,
            "security_contract_id": self.security_contract_id.id,
            "name": "/",
            "checked": self.journal_id.autocheck_on_post,
        }

    @api.model
    def _security_check_amount(self, amount):
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise UserError(_("Amount %(amount)r is not a number.", amount=amount))
        if float_compare(amount, 0.0, precision_digits=2) <= 0:
            raise UserError(
                _("Amount must be positive, got %(amount)s.", amount=amount)
            )

    @api.model
    def _prepare_security_payment_vals(
        self,
        partner,
        amount,
        date,
        journal,
        category,
        contract,
        memo,
        external_id,
        extra_vals=None,
        default_contracts=None,
    ):
        """Values of one subscriber payment, from the arguments only.

        ``default_contracts``: ``{partner_id: contract}`` looked up once for a
        batch (``_security_prepare_payments_vals``), else looked up here.
        ``extra_vals``: the channel's other values (e.g. the online payment's
        transaction); the values set here win over them.
        """
        if not contract:
            if default_contracts is None:
                default_contracts = self._security_default_contracts(partner)
            contract = default_contracts.get(partner.id, self.env["contract.contract"])
        journal = journal or self._security_default_journal()
        return {
            # channel-specific values first: they decide no money or owner
            **(extra_vals or {}),
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": partner.id,
            "amount": amount,
            "date": date or fields.Date.context_today(self),
            "journal_id": journal.id,
            # the caller's memo only: the external id has its own field
            "memo": memo or False,
            "security_external_id": external_id or False,
            "security_category_id": category.id if category else False,
            "security_contract_id": contract.id,
        }

    def _security_allocate(self):
        """Allocate these posted payments oldest first, in their order, then
        call the balance hook once for their subscribers.

        :return: ``{payment_id: [{"invoice": move, "amount": x, "line":
            credit line}]}``, every payment of ``self`` a key (an empty list
            when it paid no invoice: the amount stays as credit).
        :rtype: dict
        """
        lines = self.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        position = {payment_id: index for index, payment_id in enumerate(self.ids)}
        lines = lines.sorted(lambda line: position[line.payment_id.id])
        result = {payment.id: [] for payment in self}
        for alloc in lines._security_allocate_oldest_first():
            result[alloc["line"].payment_id.id].append(alloc)
        self.partner_id._security_on_balance_changed()
        return result

    def _security_get_allocations(self):
        """The invoices this payment paid, from its reconciliation."""
        self.ensure_one()
        lines = self.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        return [
            {
                "invoice": partial.debit_move_id.move_id.name,
                "invoice_id": partial.debit_move_id.move_id.id,
                "amount": partial.amount,
            }
            for partial in lines.matched_debit_ids
        ]

    # ------------------------------------------- posted payments of subscribers
    @api.model
    def _security_locked_fields(self):
        """Fields of a posted subscriber payment that only managers may change."""
        return set(self._get_trigger_fields_to_synchronize()) | {
            "move_id",
            "memo",
            "payment_method_line_id",
            "security_category_id",
            "security_contract_id",
            "security_external_id",
        }

    def _security_is_posted_subscriber_payment(self):
        self.ensure_one()
        return self.state not in ("draft", "canceled", "rejected") and bool(
            self.move_id.security_in_balance
            or self.partner_id.commercial_partner_id.sudo().security_is_subscriber
        )

    def _security_check_posted_change(self):
        """Refuse changing posted subscriber payments unless the company allows
        it and the user is a Security Billing Manager."""
        for payment in self.filtered(
            lambda p: p._security_is_posted_subscriber_payment()
        ):
            payment.company_id._security_check_payment_edit(
                _(
                    "Payment %(payment)s of %(partner)s",
                    payment=payment.display_name,
                    partner=payment.partner_id.display_name,
                )
            )

    def write(self, vals):
        unposting = vals.get("state") in ("draft", "canceled", "rejected")
        if unposting or self._security_locked_fields().intersection(vals):
            self._security_check_posted_change()
        return super().write(vals)

    def action_draft(self):
        self._security_check_posted_change()
        partners = self._security_unposted_partners()
        res = super().action_draft()
        partners._security_on_balance_changed()
        return res

    def action_cancel(self):
        self._security_check_posted_change()
        partners = self._security_unposted_partners()
        res = super().action_cancel()
        partners._security_on_balance_changed()
        return res

    def unlink(self):
        self._security_check_posted_change()
        return super().unlink()

    def _security_unposted_partners(self):
        """Subscribers whose balance changes when these payments are unposted."""
        return self.filtered(
            lambda p: p._security_is_posted_subscriber_payment()
        ).partner_id.commercial_partner_id
