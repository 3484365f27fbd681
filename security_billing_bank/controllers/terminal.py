"""OSMP/QIWI check-pay endpoint of the payment terminal networks.

Thin: find the provider, filter the source address, check HTTP Basic
credentials, hand the parameters to the provider's ``_osmp_check`` /
``_osmp_pay`` and render their dict as the protocol's XML. The business
rules live in ``models/security_terminal_provider_osmp.py``, the result
codes and the XML in ``tools/osmp.py``.

The database: the route is ``auth="none"`` without session, so the server
must select the database by itself (one database, or ``--db-filter``).

The source address is ``request.httprequest.remote_addr`` and nothing else
(no header is read here). Without ``--proxy-mode`` it is the TCP peer. With
``--proxy-mode`` and an ``X-Forwarded-Host`` header, Odoo's ProxyFix (one
trusted hop) makes it the last ``X-Forwarded-For`` value: the reverse proxy
must overwrite (or append to) that header and Odoo must be reachable only
through it, or anyone can claim an allowed address (readme/CONFIGURE.md).
"""

import base64
import binascii

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..tools import osmp

XML_HEADERS = [
    ("Content-Type", "text/xml; charset=utf-8"),
    ("Cache-Control", "no-store"),
]


class TerminalController(http.Controller):
    @http.route(
        "/security_billing/terminal/<string:provider_code>",
        type="http",
        auth="none",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def security_terminal(self, provider_code, **kwargs):
        provider = request.env["security.terminal.provider"]
        provider = provider.with_user(SUPERUSER_ID)._osmp_get_provider(provider_code)
        if not provider or not provider.active:
            return request.make_response("", status=404)
        if not provider._osmp_address_allowed(request.httprequest.remote_addr):
            return request.make_response("", status=403)
        if not provider._osmp_credentials_ok(*self._get_basic_credentials()):
            return request.make_response(
                "",
                status=401,
                headers=[("WWW-Authenticate", 'Basic realm="terminal"')],
            )
        params = {name: kwargs.get(name) for name in osmp.PARAMS}
        command = params["command"]
        if command == "check":
            answer = provider._osmp_check(params)
        elif command == "pay":
            provider._osmp_wait_for_account(params)
            answer = provider._osmp_pay(params)
        else:
            answer = provider._osmp_unknown_command(params)
        return request.make_response(osmp.render_xml(answer), headers=XML_HEADERS)

    @staticmethod
    def _get_basic_credentials():
        """(login, password) of the Authorization header, or (None, None)."""
        header = request.httprequest.headers.get("Authorization") or ""
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        login, sep, password = decoded.partition(":")
        return (login, password) if sep else (None, None)
