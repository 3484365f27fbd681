# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Plug the 1CClientBankExchange parser into the OCA statement import; match
the imported lines to subscribers right after the import."""

import logging

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.base.models.res_bank import sanitize_account_number

from .account_bank_statement_line_import import IMPORT_CONTEXT_KEY
from .account_statement_import_jobs import IMPORT_KEY

_logger = logging.getLogger(__name__)


class AccountStatementImport(models.TransientModel):
    _inherit = "account.statement.import"

    security_journal_id = fields.Many2one(
        "account.journal",
        string="Journal",
        domain=[("type", "=", "bank")],
        default=lambda self: self.env.context.get("journal_id"),
        help="Journal of the statement; required for payment registries, "
        "which name no bank account.",
    )

    def _import_file(self):
        """Import, then match the new lines to subscribers in the same
        transaction: an error anywhere imports nothing.

        The OCA import's entry point. Payment registries need a journal
        (``security_journal_id`` or the ``journal_id`` context key, since a
        registry names no bank account).

        :return: OCA's result (``statement_ids``, ``notifications``) with
            the matching's counts under ``security_match`` and its summary
            appended to the notifications
        :rtype: dict
        """
        wizard = self
        if self.security_journal_id:
            wizard = self.with_context(journal_id=self.security_journal_id.id)
        elif self.sheet_mapping_id.security_is_registry and not self.env.context.get(
            "journal_id"
        ):
            raise UserError(
                self.env._(
                    "Choose the journal of the payment system: a payment "
                    "registry names no bank account."
                )
            )
        result = super(AccountStatementImport, wizard)._import_file()
        wizard._security_match_imported(result)
        return result

    def _create_bank_statements(self, stmts_vals, result):
        """The imported lines get their journal items at creation (see
        account.bank.statement.line._security_prepare_import_vals)."""
        wizard = self.with_context(**{IMPORT_CONTEXT_KEY: True})
        return super(AccountStatementImport, wizard)._create_bank_statements(
            stmts_vals, result
        )

    def _security_match_imported(self, result):
        """Match and pay the lines of the imported statements.

        :param dict result: OCA's import result; gets ``security_match``
            (the counts of ``_security_match_and_pay``) and the summary in
            its ``notifications``; nothing is done for a file imported in
            the background (``security_import_id``)
        """
        if result.get(IMPORT_KEY):
            return  # a big file: its jobs match and pay its lines
        statements = self.env["account.bank.statement"].browse(result["statement_ids"])
        lines = statements.line_ids
        if not lines:
            return
        # the import is allowed: its payments are made as superuser (the
        # idempotency keys are not writable by accountants)
        summary = lines.sudo()._security_match_and_pay()
        result["security_match"] = summary
        result["notifications"].append(lines._security_summary_text(summary))

    def _parse_file(self, data_file):
        """Parse a 1CClientBankExchange file, else let the next parser try."""
        parser = self.env["account.statement.import.1c.parser"]
        try:
            _logger.debug("Try parsing with 1CClientBankExchange.")
            parsed = parser.parse(data_file)
        except ValueError:
            _logger.debug("Statement file is not a 1C file.", exc_info=True)
            parsed = None
        if parsed is None:
            return super()._parse_file(data_file)
        return [
            (self._1c_currency_code(account), account, statements)
            for _currency, account, statements in parsed
        ]

    def _1c_currency_code(self, account_number):
        """1C files carry no currency: use the journal's (or company's)."""
        journal = self.env["account.journal"].browse(self.env.context.get("journal_id"))
        if not journal:
            journal = self.env["account.journal"].search(
                [
                    ("type", "=", "bank"),
                    (
                        "bank_account_id.sanitized_acc_number",
                        "ilike",
                        sanitize_account_number(account_number),
                    ),
                ],
                limit=1,
            )
        company = journal.company_id or self.env.company
        return (journal.currency_id or company.currency_id).name
