"""Helpers of the background jobs (OCA queue_job)."""

import requests
from psycopg2 import OperationalError

from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY

from odoo.addons.queue_job.job import identity_exact


def is_transient_error(exc):
    """Whether ``exc`` may pass if the same work is tried again later.

    A concurrency error of PostgreSQL (serialization failure, lock not
    available, deadlock) or a network failure that escaped a payment
    provider (connection refused or reset, timeout). Business outcomes
    (a declined card, a provider refusing a charge) are not transient.
    """
    if isinstance(exc, OperationalError):
        return exc.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY
    return isinstance(
        exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
    )


def delay_once(records, description):
    """``records.with_delay`` for work enqueued once: the job is keyed by
    its method and arguments (``identity_exact``), so enqueuing the same
    work again while its job waits returns the waiting job.

    :param records: the recordset the job's method runs on
    :param str description: the job's name in the jobs list (translated)
    :return: a queue_job delayable: call the job's method on it
    """
    return records.with_delay(description=description, identity_key=identity_exact)
