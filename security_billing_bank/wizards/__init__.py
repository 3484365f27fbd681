from . import security_bank_line_assign
from . import security_debt_registry_wizard
