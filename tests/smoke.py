"""Smoke checks shared by the tests/<addon>/test_smoke.py modules.

They hold even while an addon is still a skeleton: with no action, menu or model
yet, the loops check nothing, but the addon must be installed.
"""

import os
import unittest

from odoo.tests import HttpCase, TransactionCase, tagged


class AddonSmokeMixin:
    """Checks of one addon's installed data; set ``addon`` in the subclass."""

    addon = None

    def _addon_records(self, model):
        data = self.env["ir.model.data"].search(
            [("module", "=", self.addon), ("model", "=", model)]
        )
        return self.env[model].browse(data.mapped("res_id")).exists()

    def test_module_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", self.addon)])
        self.assertEqual(module.state, "installed", f"{self.addon} is not installed")

    def test_window_actions_load_their_views(self):
        for action in self._addon_records("ir.actions.act_window"):
            with self.subTest(action=action.xml_id):
                self.assertIn(action.res_model, self.env, "unknown res_model")
                views = [(v.view_id.id, v.view_mode) for v in action.view_ids]
                given = {mode for _id, mode in views}
                for mode in action.view_mode.split(","):
                    mode = mode.strip()
                    if mode and mode not in given:
                        views.append((False, mode))
                views.append((action.search_view_id.id, "search"))
                result = self.env[action.res_model].get_views(
                    views, {"action_id": action.id, "load_filters": True}
                )
                for _id, mode in views:
                    self.assertIn(mode, result["views"])

    def test_menus_load(self):
        menus = self._addon_records("ir.ui.menu")
        for menu in menus.filtered("action"):
            with self.subTest(menu=menu.complete_name):
                self.assertTrue(menu.action.exists(), "menu action does not exist")
        # what the web client loads at start-up
        self.env["ir.ui.menu"].load_menus(debug=False)

    def test_models_have_access_rules(self):
        for model_name, model in self.env.registry.items():
            if model._original_module != self.addon or model._abstract:
                continue
            with self.subTest(model=model_name):
                access = self.env["ir.model.access"].search_count(
                    [("model_id.model", "=", model_name)]
                )
                self.assertGreater(access, 0, f"{model_name} has no ir.model.access")


class WebSmokeCase(HttpCase):
    """Logged in as admin, the web client answers."""

    def _check_backend(self):
        self.authenticate("admin", "admin")
        response = self.url_open("/odoo")
        self.assertEqual(response.status_code, 200)
        self.assertIn("odoo", response.text.lower())

    def _check_browser(self):
        """A headless Chromium opens the login page and runs a line of JS.

        Odoo turns a browser that cannot start into a skipped test; here it is a
        failure, unless SB_NO_BROWSER=1 says there is deliberately no browser.
        """
        try:
            self.browser_js("/web/login", "console.log('test successful')")
        except unittest.SkipTest as e:
            if os.environ.get("SB_NO_BROWSER") == "1":
                raise
            self.fail(f"the headless browser could not run: {e}")


def smoke_test_classes(addon_name, module, browser=False):
    """The smoke test classes of ``addon_name``, for its test_smoke module::

        TestSmoke, TestWebSmoke = smoke_test_classes("my_addon", __name__)

    ``browser``: the web test also runs headless Chromium (one addon is enough).
    """

    @tagged("post_install", "-at_install")
    class TestSmoke(AddonSmokeMixin, TransactionCase):
        addon = addon_name

    @tagged("post_install", "-at_install")
    class TestWebSmoke(WebSmokeCase):
        def test_backend_loads(self):
            self._check_backend()

        if browser:

            def test_browser_runs_js(self):
                self._check_browser()

    for cls in (TestSmoke, TestWebSmoke):
        cls.__module__, cls.__qualname__ = module, cls.__name__
    return TestSmoke, TestWebSmoke
