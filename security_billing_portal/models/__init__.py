from . import account_payment
from . import contract_contract
from . import payment_transaction
from . import res_company
from . import res_config_settings
from . import res_partner
