# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Security Billing",
    "summary": "Billing of alarm-monitoring companies: subscribers, sites, MMR "
    "subscriptions, balances, oldest-first allocation, billing runs",
    "version": "18.0.1.0.0",
    "category": "Accounting",
    "license": "AGPL-3",
    "author": "security_billing developers",
    "website": "https://github.com/security-billing/security_billing",
    "depends": ["account", "contract", "payment", "mail", "sms", "report_xlsx"],
    "data": [
        "security/security_billing_groups.xml",
        "security/ir.model.access.csv",
        "security/security_billing_rules.xml",
        "data/ir_sequence_data.xml",
        "data/security_payment_category_data.xml",
        "views/res_partner_views.xml",
        "views/security_site_views.xml",
        "views/security_payment_category_views.xml",
        "views/menus.xml",
    ],
    "demo": [],
    "installable": True,
    "application": True,
}
