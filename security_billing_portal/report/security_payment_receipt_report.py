"""Values of the subscriber's payment receipt PDF: what the portal's receipt
page shows (``account.payment._security_portal_receipt_values``)."""

from odoo import api, models


class ReportSecurityPaymentReceipt(models.AbstractModel):
    _name = "report.security_billing_portal.report_security_payment_receipt"
    _description = "Subscriber Payment Receipt"

    @api.model
    def _get_report_values(self, docids, data=None):
        """:param docids: ids of ``account.payment`` records
        :param data: unused (the report takes no options)
        :return: the QWeb values: ``docs`` and ``receipts`` (the receipt
            values by payment id)"""
        payments = self.env["account.payment"].browse(docids)
        return {
            "doc_ids": docids,
            "doc_model": "account.payment",
            "docs": payments,
            "receipts": {
                payment.id: payment._security_portal_receipt_values()
                for payment in payments
            },
        }
