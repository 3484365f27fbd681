"""Shared set-up of the bank statement, registry and debt registry tests."""

import base64
from pathlib import Path

from odoo.exceptions import UserError

from ..common import SecurityBillingCase

SAMPLES = Path(__file__).parent / "samples"
OUR_ACCOUNT = "40702810900000000001"
CAMT_IBAN = "NL77ABNA0574908765"
REGISTRY_MAPPING = "security_billing_bank.sheet_mapping_payment_registry"
# Account numbers of the subscribers named in the sample files.
IVAN, ANNA, SHIELD = "1000017", "1000025", "1000033"
UNKNOWN = "1000041"  # valid check digit, no such subscriber


def read_sample(name):
    return (SAMPLES / name).read_bytes()


def import_vals(sample=None, journal=None, filename=None, data=None, mapping=None):
    """Values of the statement import wizard for a file: the bytes of the
    sample ``sample`` (or ``data``), named ``filename`` (default: the
    sample's name), into ``journal`` (default: the one the wizard finds),
    read with the sheet ``mapping`` if given."""
    vals = {
        "statement_filename": filename or sample,
        "statement_file": base64.b64encode(
            read_sample(sample) if data is None else data
        ),
    }
    if journal:
        vals["security_journal_id"] = journal.id
    if mapping:
        vals["sheet_mapping_id"] = mapping.id
    return vals


class BankCase(SecurityBillingCase):
    """Three subscribers with one open 30.00 MMR invoice each, a bank journal
    for the 1C samples, one for CAMT and one for a payment system."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank_journal.bank_account_id = cls._create_bank_account(OUR_ACCOUNT)
        cls.camt_journal = cls._create_bank_journal(
            "Bank CAMT", "BCMT", cls._create_bank_account(CAMT_IBAN)
        )
        cls.registry_journal = cls._create_bank_journal("Payment system", "PSYS")
        cls.mapping = cls.env.ref(REGISTRY_MAPPING)
        cls.ivan = cls._create_paying_subscriber("Ivan Petrov", IVAN)
        cls.anna = cls._create_paying_subscriber("Anna Maria Sidorova", ANNA)
        cls.shield = cls._create_paying_subscriber("Shield Guard", SHIELD)
        cls.st_lines = cls.env["account.bank.statement.line"]
        cls.payments = cls.env["account.payment"]

    @classmethod
    def _create_bank_account(cls, number):
        return cls.env["res.partner.bank"].create(
            {
                "acc_number": number,
                "partner_id": cls.env.company.partner_id.id,
                "company_id": cls.env.company.id,
            }
        )

    @classmethod
    def _create_bank_journal(cls, name, code, bank_account=None):
        return cls.env["account.journal"].create(
            {
                "name": name,
                "code": code,
                "type": "bank",
                "bank_account_id": bank_account.id if bank_account else False,
            }
        )

    @classmethod
    def _create_paying_subscriber(cls, name, ref, **vals):
        partner = cls._create_subscriber(name, security_account_ref=ref, **vals)
        contract = cls._create_mmr_contract(partner, price=30.0)
        partner.invalidate_recordset()
        cls._invoice_contract(contract)
        return partner

    # ------------------------------------------------------------- helpers
    @classmethod
    def import_file(cls, data, filename, journal=None, mapping=None):
        """Run the import wizard as the UI does; returns its action."""
        vals = {
            "statement_filename": filename,
            "statement_file": base64.b64encode(data),
            "sheet_mapping_id": mapping.id if mapping else False,
            "security_journal_id": journal.id if journal else False,
        }
        wizard = cls.env["account.statement.import"].create(vals)
        return wizard.import_file_button()

    @classmethod
    def import_registry(cls, data, filename="registry.csv"):
        return cls.import_file(data, filename, cls.registry_journal, cls.mapping)

    def import_broken(self, data, filename, journal=None, mapping=None):
        """Import a broken file: returns the error message."""
        with self.assertRaises(UserError) as caught:
            self.import_file(data, filename, journal, mapping)
        return str(caught.exception)

    def journal_lines(self, journal):
        return self.st_lines.search(
            [("journal_id", "=", journal.id)], order="date, sequence, id"
        )

    def bank_payments(self, partner=None):
        domain = [("security_external_id", "=like", "bank:%")]
        if partner:
            domain.append(("partner_id", "=", partner.id))
        return self.payments.search(domain)

    def open_invoices(self, partner):
        return self.env["account.move"].search(
            [
                ("partner_id", "=", partner.id),
                ("move_type", "=", "out_invoice"),
                ("payment_state", "not in", ("paid", "in_payment")),
            ]
        )

    def notification_text(self, action):
        return action.get("params", {}).get("message", "")

    def assertLineState(self, line, state, reason=None):
        self.assertEqual(line.security_match_state, state, line.payment_ref)
        if reason:
            self.assertIn(reason, line.security_match_reason or "")

    def assertPaidBy(self, line, partner):
        """The line is matched, reconciled and made one payment of ``partner``
        for its amount, paying the subscriber's invoice."""
        self.assertLineState(line, "matched")
        self.assertTrue(line.is_reconciled)
        payment = line.security_payment_id
        self.assertEqual(payment.partner_id, partner)
        self.assertEqual(payment.amount, line.amount)
        self.assertEqual(payment.security_category_id.code, "bank")
        self.assertEqual(payment.journal_id, line.journal_id)
        self.assertEqual(payment.date, line.date)
        self.assertTrue(payment.is_matched)
        self.assertTrue(payment.move_id.security_is_payment)
        self.assertFalse(self.open_invoices(partner))
