from odoo import fields, models

LINE_TYPES = [
    ("missing", "Missing here"),
    ("extra", "Not in registry"),
    ("amount", "Different sum"),
    ("account", "Different account"),
]


class SecurityTerminalReconciliationLine(models.Model):
    _name = "security.terminal.reconciliation.line"
    _description = "Payment Terminal Reconciliation Difference"
    _order = "reconciliation_id, type, txn_id"

    reconciliation_id = fields.Many2one(
        "security.terminal.reconciliation",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(
        related="reconciliation_id.company_id", store=True, index=True
    )
    currency_id = fields.Many2one(related="reconciliation_id.currency_id")
    type = fields.Selection(
        LINE_TYPES,
        required=True,
        help="Missing here: in the registry, not recorded by us. Not in "
        "registry: recorded by us that day, not in the registry. Different "
        "sum / account: both have the txn_id with other values.",
    )
    txn_id = fields.Char(string="Terminal Txn ID", required=True)
    registry_line = fields.Integer(help="Line of the registry file.")
    registry_account = fields.Char()
    registry_amount = fields.Monetary(string="Registry Sum")
    terminal_payment_id = fields.Many2one(
        "security.terminal.payment", string="Recorded Payment", ondelete="set null"
    )
    recorded_account = fields.Char()
    recorded_amount = fields.Monetary(string="Recorded Sum")
