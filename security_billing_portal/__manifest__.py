# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Security Billing Portal",
    "summary": "Customer Billing page in the portal: balances, pay any amount, "
    "autopay method, promised payments, bills and payments history",
    "version": "18.0.1.0.0",
    "category": "Accounting",
    "license": "AGPL-3",
    "author": "security_billing developers",
    "website": "https://github.com/security-billing/security_billing",
    "depends": ["security_billing", "portal", "account_payment"],
    "data": [
        "security/ir.model.access.csv",
        "security/security_billing_portal_rules.xml",
        "views/portal_templates.xml",
        "report/security_payment_receipt_report.xml",
        "views/res_config_settings_views.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "security_billing_portal/static/src/js/payment_form.js",
            "security_billing_portal/static/src/js/portal_home.js",
            "security_billing_portal/static/src/scss/billing_portal.scss",
        ],
        "web.assets_tests": [
            "security_billing_portal/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
