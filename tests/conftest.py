"""pytest configuration shared by the whole suite.

The tests need an Odoo database with the addons installed: run them with
``./dev test`` (fresh database) or ``./dev test --keep-db`` (reused database),
which pass ``--odoo-database``, ``--odoo-http`` and ``--odoo-addons-path`` to
pytest-odoo (see README.md, "Developing").
"""

import os

import pytest

# No jobrunner in the test process: queue_job starts one with the HTTP server
# of --odoo-http; the tests run the jobs themselves (queue_job's test helpers).
os.environ["ODOO_QUEUE_JOB_CHANNELS"] = "root:0"


def pytest_configure(config):
    if not (
        config.getoption("--odoo-database", default=None)
        or config.getoption("--odoo-config", default=None)
        or os.environ.get("ODOO_RC")
    ):
        pytest.exit(
            "These tests run against an Odoo database: use `./dev test` "
            "(or pass --odoo-database=DB --odoo-http --odoo-addons-path=...).",
            returncode=4,
        )
