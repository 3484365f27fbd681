# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Subscriber names as shown to banks and payment terminals."""

from odoo import models

MASK = "***"


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _security_masked_name(self):
        """The name a bank or a terminal may show: the first word whole, the
        others reduced to their initial ("Ivan Petrov" -> "Ivan P***"); a
        single word keeps its initial only. Companies keep their name."""
        self.ensure_one()
        if self.is_company:
            return self.name or ""
        words = (self.name or "").split()
        if not words:
            return ""
        if len(words) == 1:
            return words[0][0] + MASK
        return " ".join([words[0], *(word[0] + MASK for word in words[1:])])
