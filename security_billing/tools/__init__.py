from . import account_ref
