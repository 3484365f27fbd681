"""The payment lock of a subscriber: a PostgreSQL advisory lock keyed by
the commercial partner's id, so that two payments of one account run one
after the other instead of colliding on its receivable lines.

The order, for every payment channel: the subscribers' locks first, in
ascending commercial partner id, before anything is read that will be
written (the idempotency claims, the receivable lines, the sequence).

Under REPEATABLE READ, Odoo's isolation, a transaction sees the database as
of its first statement; a lock taken later, even by the first statement
itself, does not refresh that view: the second of two payments waits, then
fails to serialize on the lines the first one reconciled. ``hold_subscriber``
avoids that for a channel that can start its transaction again (a terminal
request reads before it writes): it holds a session lock across a new
transaction, whose first statement comes after the lock was granted.
"""

import logging

_logger = logging.getLogger(__name__)

# First key of the two-int advisory locks of the payments ("SBPL").
PAYMENT_LOCK_NAMESPACE = 0x5342504C


def lock_subscribers(cr, partner_ids):
    """Take the payment locks of ``partner_ids`` until the end of the
    transaction, in ascending id order (one statement).

    Re-entrant: a lock this connection holds already (also at session level,
    ``hold_subscriber``) is granted at once.

    :param cr: the database cursor of the transaction
    :param partner_ids: ids of commercial partners
    """
    ids = sorted(set(partner_ids))
    if not ids:
        return
    cr.execute(
        """
        SELECT pg_advisory_xact_lock(%s, key.id)
          FROM unnest(%s::int[]) WITH ORDINALITY AS key(id, position)
         ORDER BY key.position
        """,
        [PAYMENT_LOCK_NAMESPACE, ids],
    )


def hold_subscriber(cr, partner_id):
    """Wait for the payment lock of ``partner_id``, then start a new
    transaction that holds it until it ends (committed or rolled back).

    The current transaction is rolled back: call it before anything is
    written in it. The lock is a session lock, released by the cursor's
    post-commit and post-rollback hooks (also when the cursor is closed), so
    the connection goes back to the pool without it.

    :param cr: an Odoo cursor (not a test cursor: its hooks do not run)
    :param int partner_id: id of the commercial partner
    """
    key = (PAYMENT_LOCK_NAMESPACE, partner_id)
    cr.execute("SELECT pg_advisory_lock(%s, %s)", key)
    released = []

    def release():
        if released:
            return
        released.append(True)
        cnx = cr._cnx
        if cnx.closed:
            return  # the server ended the session, and its locks
        in_transaction = cnx.info.transaction_status != 0  # not idle
        with cnx.cursor() as raw:
            raw.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            if not raw.fetchone()[0]:
                _logger.warning("Payment lock %s was not held", key)
        if not in_transaction:
            cnx.rollback()  # end the transaction the unlock opened

    cr.rollback()
    cr.postcommit.add(release)
    cr.postrollback.add(release)
