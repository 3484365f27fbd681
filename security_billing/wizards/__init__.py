from . import security_manual_payment
from . import security_transfer_funds
