"""What recurring monthly revenue (RMR) is, in SQL: one definition for the
RMR XLSX report and the RMR analysis.

RMR is the monthly-normalised price (OCA's ``monthly_recurring``) of the lines
of active MMR contracts (not section or note lines). On a date, a line counts
when it runs (started, not ended, not cancelled); in a month, a line starting
in it is added (new) and a line ending in it is cancelled (lost).
"""

from odoo.tools import SQL


def rmr_lines_sql():
    """``SELECT`` of the lines RMR is made of, one row per contract line:
    ``line_id, contract_id, partner_id, company_id, product_id, rmr,
    date_start, date_end, is_canceled``."""
    return SQL(
        """
        SELECT cl.id AS line_id, cl.contract_id, c.partner_id, c.company_id,
               cl.product_id, cl.monthly_recurring AS rmr,
               cl.date_start, cl.date_end,
               COALESCE(cl.is_canceled, FALSE) AS is_canceled
          FROM contract_line cl
          JOIN contract_contract c ON c.id = cl.contract_id
         WHERE c.security_is_mmr AND c.active
           AND cl.display_type IS NULL
        """
    )


def rmr_running_sql(alias, date):
    """The line ``alias`` (a row of ``rmr_lines_sql``) runs on ``date``
    (a value or an SQL expression)."""
    return SQL(
        """(%(a)s.date_start <= %(date)s
            AND (%(a)s.date_end IS NULL OR %(a)s.date_end >= %(date)s)
            AND NOT %(a)s.is_canceled)""",
        a=SQL.identifier(alias),
        date=date,
    )


def rmr_added_sql(alias, start, end):
    """The line ``alias`` starts between ``start`` and ``end``: new RMR."""
    return SQL(
        "(%(a)s.date_start BETWEEN %(start)s AND %(end)s)",
        a=SQL.identifier(alias),
        start=start,
        end=end,
    )


def rmr_ended_sql(alias, start, end):
    """The line ``alias`` ends between ``start`` and ``end``: lost RMR."""
    return SQL(
        "(%(a)s.date_end BETWEEN %(start)s AND %(end)s)",
        a=SQL.identifier(alias),
        start=start,
        end=end,
    )
