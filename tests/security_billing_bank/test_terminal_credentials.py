"""Terminal passwords: the per-worker memory of a verified password."""

from odoo.tests import tagged

from .test_terminal import PASSWORD, TerminalCase


@tagged("post_install", "-at_install")
class TestTerminalCredentials(TerminalCase):
    def test_verified_password_is_remembered_until_it_changes(self):
        provider = self._protocol()
        for _attempt in range(2):  # second time: from the worker's memory
            self.assertTrue(provider._osmp_credentials_ok("qiwi", PASSWORD))
        self.assertFalse(provider._osmp_credentials_ok("qiwi", PASSWORD + "x"))
        self.assertFalse(provider._osmp_credentials_ok("other", PASSWORD))
        self.assertFalse(provider._osmp_credentials_ok("qiwi", ""))

        new_password = "another-terminal-secret-42"
        self.provider.password = new_password
        provider = self._protocol()
        self.assertFalse(provider._osmp_credentials_ok("qiwi", PASSWORD))
        self.assertTrue(provider._osmp_credentials_ok("qiwi", new_password))
        self.assertTrue(provider._osmp_credentials_ok("qiwi", new_password))
