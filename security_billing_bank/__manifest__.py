# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Security Billing Bank",
    "summary": "Payment registries, bank statements (1C, CSV/XLSX, CAMT), "
    "automatic matching, debt registry, payment-terminal protocol",
    "version": "18.0.1.0.0",
    "category": "Accounting",
    "license": "AGPL-3",
    "author": "security_billing developers",
    "website": "https://github.com/security-billing/security_billing",
    "depends": [
        "security_billing",
        "account_statement_import_file",
        "account_statement_import_camt",
        "account_statement_import_sheet_file",
    ],
    "data": [
        "security/ir.model.access.csv",
        "security/security_terminal_rules.xml",
        "security/security_debt_registry_rules.xml",
        "data/account_statement_import_sheet_mapping_data.xml",
        "wizards/security_bank_line_assign_views.xml",
        "wizards/security_debt_registry_wizard_views.xml",
        "views/account_bank_statement_line_views.xml",
        "views/security_terminal_provider_views.xml",
        "views/security_terminal_payment_views.xml",
        "views/security_terminal_reconciliation_views.xml",
        "views/security_terminal_menus.xml",
        "views/security_bank_menus.xml",
    ],
    "demo": ["demo/security_billing_bank_demo.xml"],
    "installable": True,
}
