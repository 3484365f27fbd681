"""The terminal's source-address filter and forwarded headers (a client
claiming an allowed address), through real HTTP.

The filter reads ``request.httprequest.remote_addr`` only. Without
``--proxy-mode`` that is the TCP peer and X-Forwarded-* headers are ignored.
With ``--proxy-mode`` Odoo 18 applies werkzeug's ProxyFix (one trusted hop:
``x_for=1, x_proto=1, x_host=1``) when the request has an X-Forwarded-Host
header: the remote address becomes the LAST X-Forwarded-For value, the one
the proxy in front of Odoo wrote. Values a client puts before it are not
used; a request reaching Odoo directly can claim any address, hence the
operator's duties (README, Access and security).
"""

import base64
from unittest.mock import patch
from urllib.parse import urlencode

from odoo.tests import HttpCase, tagged
from odoo.tools import config

from .test_terminal import PASSWORD, TerminalCase

ALLOWED = "192.0.2.10"  # the provider's address, never the test client's
OTHER = "203.0.113.5"


@tagged("post_install", "-at_install")
class TestTerminalForwardedHeaders(TerminalCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.allowed_networks = f"{ALLOWED}/32"

    def _status(self, **headers):
        """HTTP status of a terminal check sent from 127.0.0.1 with ``headers``."""
        token = base64.b64encode(f"qiwi:{PASSWORD}".encode()).decode()
        params = urlencode({"command": "check", "txn_id": "1", "account": self.ref})
        self.env.flush_all()
        response = self.url_open(
            f"/security_billing/terminal/{self.provider.code}?{params}",
            headers=dict({"Authorization": f"Basic {token}"}, **headers),
        )
        return response.status_code

    def _forwarded(self, chain):
        return {"X-Forwarded-For": chain, "X-Forwarded-Host": "pay.example.com"}

    def _proxy_mode(self, value):
        return patch.dict(config.options, {"proxy_mode": value})

    def test_without_proxy_mode_forwarded_headers_are_ignored(self):
        with self._proxy_mode(False):
            self.assertEqual(self._status(), 403)
            self.assertEqual(self._status(**self._forwarded(ALLOWED)), 403)
            self.assertEqual(
                self._status(**self._forwarded(f"{OTHER}, {ALLOWED}")), 403
            )
            self.assertEqual(self._status(**{"X-Real-IP": ALLOWED}), 403)

    def test_proxy_mode_takes_the_last_forwarded_address(self):
        with self._proxy_mode(True):
            # the proxy's own value (last) decides
            self.assertEqual(self._status(**self._forwarded(ALLOWED)), 200)
            self.assertEqual(
                self._status(**self._forwarded(f"{OTHER}, {ALLOWED}")), 200
            )
            # an allowed address forged by the client before the proxy's value
            # is not used
            self.assertEqual(
                self._status(**self._forwarded(f"{ALLOWED}, {OTHER}")), 403
            )
            self.assertEqual(self._status(**self._forwarded(OTHER)), 403)

    def test_proxy_mode_needs_the_forwarded_host(self):
        # Odoo applies ProxyFix only with X-Forwarded-Host: X-Forwarded-For
        # alone is ignored, the TCP peer (127.0.0.1) is filtered
        with self._proxy_mode(True):
            self.assertEqual(self._status(**{"X-Forwarded-For": ALLOWED}), 403)
            self.assertEqual(self._status(), 403)
