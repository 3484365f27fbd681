"""Billing of MMR contracts: the OCA invoicing hooks and the batches of a
billing run (``security.billing.run``)."""

import logging

from psycopg2 import OperationalError

from odoo import api, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY

_logger = logging.getLogger(__name__)

# A billing run bills at most this many overdue periods per contract.
MAX_CATCH_UP = 36


class ContractContract(models.Model):
    _inherit = "contract.contract"  # pylint: disable=consider-merging-classes-inherited

    def _compute_recurring_next_date(self):
        """Prorated contracts align their periods: compute them one by one."""
        prorated, others = self._security_split_prorated()
        res = super(ContractContract, others)._compute_recurring_next_date()
        for contract in prorated:
            super(ContractContract, contract)._compute_recurring_next_date()
        return res

    @api.model
    def _get_contracts_to_invoice_domain(self, date_ref=None):
        """MMR contracts are billed (and posted) by the security billing run
        only (``_security_billing_run_domain``): the stock OCA cron bills the
        other contracts, so it never leaves draft invoices of MMR contracts
        behind, whatever its caller's context."""
        domain = super()._get_contracts_to_invoice_domain(date_ref)
        return expression.AND([domain, [("security_is_mmr", "=", False)]])

    @api.model
    def _security_billing_run_domain(self, date_ref=None):
        """The contracts a billing run bills: OCA's due contracts that are MMR
        sale contracts generating invoices."""
        domain = super()._get_contracts_to_invoice_domain(date_ref)
        return expression.AND(
            [
                domain,
                [
                    ("security_is_mmr", "=", True),
                    ("contract_type", "=", "sale"),
                    ("generation_type", "=", "invoice"),
                ],
            ]
        )

    def _prepare_invoice(self, date_invoice, journal=None):
        vals = super()._prepare_invoice(date_invoice, journal=journal)
        if not (
            vals.get("invoice_payment_term_id")
            or self.partner_id.with_company(self.company_id).property_payment_term_id
        ):
            # Without payment terms Odoo makes the invoice due on the day it is
            # created: an invoice dated in the past would never be past due.
            vals["invoice_date_due"] = date_invoice
        if self.env.context.get("security_billing_run"):
            vals.update(self._security_prepare_billing_run_invoice_vals(vals))
        return vals

    def _prepare_recurring_invoices_values(self, date_ref=False):
        self._security_prefetch_invoicing_data()
        invoices_values = super()._prepare_recurring_invoices_values(date_ref=date_ref)
        if self.env.context.get("security_billing_run"):
            Move = self.env["account.move"]
            for invoice_vals in invoices_values:
                Move._security_add_line_amounts(invoice_vals)
        return invoices_values

    def _security_prefetch_invoicing_data(self):
        """Read at once what OCA reads contract by contract while preparing
        the invoices: the lines it invoices come from one search per contract
        (``_get_lines_to_invoice``), so their partners would be read one by
        one (the language of each line's markers, the invoice partner)."""
        self.mapped("partner_id.lang")
        self.mapped("invoice_partner_id.lang")

    def _security_prepare_billing_run_invoice_vals(self, vals):
        """Values of an invoice of a billing run (posted by batch, see
        ``_security_bill``).

        The contract is set at once instead of being computed from the lines
        (every line of the invoice comes from this contract).
        """
        self.ensure_one()
        journal = self.env["account.journal"].browse(vals["journal_id"])
        run_vals = self.env["account.move"]._security_prepare_batch_invoice_vals(
            journal
        )
        run_vals["security_contract_id"] = self.id
        run_id = self.env.context.get("security_billing_run_id")
        if run_id:
            run_vals["security_billing_run_id"] = run_id
        return run_vals

    @api.model
    def _add_contract_origin(self, invoices):
        # A billing run links its invoices to the run and the contract
        # (security_contract_id): no chatter message per invoice.
        if self.env.context.get("security_billing_run"):
            return
        return super()._add_contract_origin(invoices)

    def _security_bill_due(self, date_ref):
        """Create and post every due period of these contracts.

        Contracts behind by several periods are caught up (one invoice per
        period, up to ``MAX_CATCH_UP``). Returns ``(moves, errors)`` where
        errors are ``[(contract, message)]``; failing contracts are skipped.
        """
        moves = self.env["account.move"]
        errors = []
        todo = self.with_context(security_billing_run=True)
        for _round in range(MAX_CATCH_UP):
            todo = todo._security_filter_due(date_ref)
            todo, already = todo._security_split_already_invoiced(date_ref)
            errors += already
            if not todo:
                break
            new_moves, new_errors = todo._security_bill_isolating(date_ref)
            moves |= new_moves
            errors += new_errors
            todo -= self.browse([contract.id for contract, _msg in new_errors])
        return moves, errors

    def _security_filter_due(self, date_ref):
        domain = self._security_billing_run_domain(date_ref)
        return self.filtered_domain(domain).filtered(
            lambda c: not c.date_end or c.recurring_next_date <= c.date_end
        )

    def _security_split_already_invoiced(self, date_ref):
        """Guard: a period start already on a valid invoice is never billed again.

        Returns ``(contracts to bill, [(contract, message)])``.
        """
        pending = {}
        for contract in self:
            for line in contract.contract_line_ids:
                if not line.display_type and line._can_be_invoiced(date_ref):
                    pending[line.id] = (contract, line.next_period_date_start)
        if not pending:
            return self, []
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(
            """
            SELECT DISTINCT t.line_id, m.name
              FROM unnest(%s::int[], %s::date[]) AS t(line_id, period_start)
              JOIN account_move_line l
                ON l.contract_line_id = t.line_id
               AND l.security_period_start = t.period_start
              JOIN account_move m
                ON m.id = l.move_id
               AND m.state != 'cancel'
               AND m.move_type = 'out_invoice'
            """,
            [list(pending), [start for _c, start in pending.values()]],
        )
        errors, blocked = [], self.browse()
        for line_id, move_name in self.env.cr.fetchall():
            contract, start = pending[line_id]
            if contract in blocked:
                continue
            blocked |= contract
            errors.append(
                (
                    contract,
                    self.env._(
                        "The period from %(start)s is already invoiced by "
                        "%(invoice)s: not billed again. Check the contract's "
                        "next invoice date.",
                        start=start,
                        invoice=move_name,
                    ),
                )
            )
        return self - blocked, errors

    def _security_bill_isolating(self, date_ref):
        """Bill these contracts together; on failure, isolate the culprits.

        The set is billed in one savepoint; if it fails it is split in two
        and each half retried, down to single contracts, whose error is
        returned. Returns ``(moves, [(contract, message)])``.
        """
        try:
            with self.env.cr.savepoint():
                return self._security_bill(date_ref), []
        except OperationalError as exc:
            if exc.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY:
                raise  # a concurrent transaction: the whole chunk is retried
            error = exc
        except Exception as exc:  # logged and skipped
            error = exc
        if len(self) == 1:
            _logger.warning("Billing of contract %s failed: %s", self.id, error)
            return self.env["account.move"], [
                (self, self._security_error_message(error))
            ]
        half = len(self) // 2
        moves_a, errors_a = self[:half]._security_bill_isolating(date_ref)
        moves_b, errors_b = self[half:]._security_bill_isolating(date_ref)
        return moves_a | moves_b, errors_a + errors_b

    def _security_bill(self, date_ref):
        """Create the next invoices of these contracts and post them together."""
        moves = self._recurring_create_invoice(date_ref)
        moves._security_post_batch()
        return moves

    @api.model
    def _security_error_message(self, exc):
        if isinstance(exc, UserError | ValidationError):
            return exc.args[0]
        return f"{type(exc).__name__}: {exc}"
