from . import security_terminal_provider
from . import security_terminal_payment
from . import security_terminal_reconciliation
from . import security_terminal_reconciliation_line
