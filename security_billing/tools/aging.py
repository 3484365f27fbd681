"""How past due MMR debt is aged, in SQL: one definition for the MMR aging
XLSX report and the aging analysis.

The open items are the posted journal items in the balance of MMR invoices
with a residual left; each is as many days past due as there are days from
its due date (else its date) to the reference date.
"""

from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

# (key, label, first day past due, last day past due)
AGING_BUCKETS = (
    ("current", _lt("Current"), None, 0),
    ("1_30", _lt("1-30 days"), 1, 30),
    ("31_60", _lt("31-60 days"), 31, 60),
    ("61_90", _lt("61-90 days"), 61, 90),
    ("over_90", _lt("Over 90 days"), 91, None),
)


def aging_open_items_sql():
    """Condition on ``l`` (account_move_line), ``m`` (its move) and ``p``
    (its partner, joined): the open items of MMR invoices that are aged."""
    return SQL(
        """m.security_is_mmr
           AND l.security_in_balance
           AND l.parent_state = 'posted'
           AND l.amount_residual > 0"""
    )


def aging_days_sql(date):
    """Days past due of the item ``l`` on ``date`` (a value or SQL)."""
    return SQL("(%s::date - COALESCE(l.date_maturity, l.date))", date)


def aging_bucket_condition(days, low, high):
    """``days`` (SQL) falls in the bucket ``[low, high]`` (None: open end)."""
    conditions = []
    if low is not None:
        conditions.append(SQL("%s >= %s", days, low))
    if high is not None:
        conditions.append(SQL("%s <= %s", days, high))
    return SQL("(%s)", SQL(" AND ").join(conditions))


def aging_bucket_sql(date):
    """The key of the bucket of the item ``l`` on ``date`` (SQL CASE)."""
    days = aging_days_sql(date)
    return SQL(
        "CASE %s END",
        SQL(" ").join(
            SQL("WHEN %s THEN %s", aging_bucket_condition(days, low, high), key)
            for key, _label, low, high in AGING_BUCKETS
        ),
    )
