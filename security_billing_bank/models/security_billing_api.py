# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Bank methods of the integrator API."""

from odoo import api, models
from odoo.exceptions import ValidationError

from odoo.addons.security_billing.tools.user_lang import in_user_lang

FILE_FORMATS = ("csv", "xlsx")


class SecurityBillingApi(models.AbstractModel):
    _inherit = "security.billing.api"

    @api.model
    @in_user_lang
    def debt_registry(
        self, debtors_only=False, include_address=False, file_format=None
    ):
        """The debt registry for banks and payment terminals.

        Returns a list of ``{"account_ref", "name" (masked), "amount_owed",
        "recommended_amount"}`` (plus ``"address"`` with ``include_address``),
        by account number; with ``file_format`` ``"csv"`` or ``"xlsx"``,
        returns ``{"rows": [...], "filename", "mimetype", "content"}`` where
        ``content`` is the file in base64.
        """
        self._check_api_access()
        self._check_debt_registry_args(debtors_only, include_address, file_format)
        registry = self.env["security.debt.registry"]
        rows = registry._get_rows(
            debtors_only=debtors_only, include_address=include_address
        )
        if not file_format:
            return rows
        return dict(
            registry._render(rows, file_format, include_address=include_address),
            rows=rows,
        )

    @api.model
    def _check_debt_registry_args(self, debtors_only, include_address, file_format):
        for name, value in (
            ("debtors_only", debtors_only),
            ("include_address", include_address),
        ):
            if not isinstance(value, bool):
                raise ValidationError(
                    self.env._(
                        "Invalid %(name)s %(value)r: expected true or false.",
                        name=name,
                        value=value,
                    )
                )
        if file_format not in (None, False, "", *FILE_FORMATS):
            raise ValidationError(
                self.env._(
                    "Invalid file_format %(value)r: use csv or xlsx (or nothing "
                    "for the rows only).",
                    value=file_format,
                )
            )
