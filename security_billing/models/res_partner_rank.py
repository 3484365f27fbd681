"""Customer and supplier ranks raised once per batch of posted invoices."""

from collections import defaultdict
from contextlib import contextmanager

from odoo import models

# Key of ``cr.cache``: {(rank field, partner id): increment} pending in a batch.
PENDING_RANKS = "security_billing_pending_ranks"


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    @contextmanager
    def _security_batched_ranks(self):
        """Within the block, the ranks Odoo raises partner by partner while
        posting (``_increase_rank``: a savepoint, a row lock and an update
        per customer of each invoice) are added up, then raised at the end
        of the block by one ``_increase_rank`` per field and increment.

        Same ranks at the end as raised one by one; as in Odoo, a partner
        row locked by another transaction is not raised (here with the
        partners raised by the same amount in the block). Nothing is raised
        if the block fails. Blocks nest: the outermost one raises.
        """
        cache = self.env.cr.cache
        if PENDING_RANKS in cache:
            yield
            return
        pending = cache[PENDING_RANKS] = defaultdict(int)
        try:
            yield
        finally:
            del cache[PENDING_RANKS]
        by_increment = defaultdict(list)
        for (field, partner_id), increment in pending.items():
            by_increment[field, increment].append(partner_id)
        for (field, increment), partner_ids in sorted(by_increment.items()):
            self.browse(sorted(partner_ids))._increase_rank(field, increment)

    def _increase_rank(self, field, n=1):
        pending = self.env.cr.cache.get(PENDING_RANKS)
        if pending is None or not self.ids:
            return super()._increase_rank(field, n)
        for partner_id in self.ids:
            pending[field, partner_id] += n
