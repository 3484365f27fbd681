from . import security_subscriber_wizard_mixin
from . import security_idempotent_wizard_mixin
from . import security_manual_payment
from . import security_transfer_funds
from . import security_state_override_wizard
from . import security_promise_wizard
from . import security_billing_report_wizard
