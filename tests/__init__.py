# Tests of the security_billing addons, run by pytest-odoo through `./dev test`.
# They live outside the addon folders: tests/<addon>/ per addon, tests/scenarios/
# for end-to-end scenarios across the addons.
