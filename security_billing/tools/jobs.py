"""Helpers of the background jobs (OCA queue_job)."""

import requests
from psycopg2 import OperationalError

from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY


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
