from . import security_payment_receipt_report
