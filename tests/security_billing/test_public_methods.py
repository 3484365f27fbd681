"""Every public method our addons define is a remotely callable endpoint.

Odoo's RPC (``/web/dataset/call_kw``, XML-RPC ``execute_kw``) calls any method
whose name does not start with an underscore on any model the caller can
read. This module keeps the table of those methods, each with who may call it
and why that is safe, and fails when a new public method appears (or an old
one goes) without the table saying so. Adding a row is a security review:
check the method enforces what its row says, and test it.
"""

import inspect

from odoo.service.model import check_method_name
from odoo.tests import TransactionCase, tagged

# Who may call a method remotely and get an effect:
FRAMEWORK = "framework"  # ORM/framework hook: the model's ACL and rules apply
READER = "reader"  # anyone who can read the record: it only opens a view
USER = "billing user"  # checked in the method: Security Billing / User
MANAGER = "billing manager"  # checked in the method: Security Billing / Manager
API = "api"  # checked in the method: Security Billing / API or Manager
WHO = {FRAMEWORK, READER, USER, MANAGER, API}

RPC_SURFACE = {
    # ---------------------------------------------------------- integrators
    ("security.billing.api", "account_status"): (
        API,
        "_check_api_access first; reads one subscriber by account number",
    ),
    ("security.billing.api", "register_payment"): (
        API,
        "_check_api_access first; amount, reference and category are "
        "arguments, validated; idempotent on the external id",
    ),
    ("security.billing.api", "list_debtors"): (
        API,
        "_check_api_access first; the caller's companies only",
    ),
    ("security.billing.api", "export_app_status"): (
        API,
        "_check_api_access first; builds the file of the caller's company",
    ),
    ("security.billing.api", "request_promised_payment"): (
        API,
        "_check_api_access first; the promise rules decide amount and date",
    ),
    ("security.billing.api", "debt_registry"): (
        API,
        "_check_api_access first; arguments validated, caller's company",
    ),
    # ------------------------------------------------------ ORM overrides
    ("account.move", "create"): (FRAMEWORK, "ACL of account.move"),
    ("account.move", "write"): (
        FRAMEWORK,
        "ACL of account.move; posted subscriber payments follow the lock",
    ),
    ("account.move", "button_draft"): (
        FRAMEWORK,
        "core rights; a locked posted subscriber payment cannot be reset",
    ),
    ("account.move", "button_cancel"): (
        FRAMEWORK,
        "core rights; a locked posted subscriber payment cannot be cancelled",
    ),
    ("account.move", "init"): (FRAMEWORK, "runs at install; no effect twice"),
    ("account.move", "unlink"): (
        FRAMEWORK,
        "ACL of account.move; a locked posted subscriber payment entry stays",
    ),
    ("account.move.line", "create"): (
        FRAMEWORK,
        "ACL of account.move.line; no new item on a locked payment entry",
    ),
    ("account.move.line", "unlink"): (
        FRAMEWORK,
        "ACL of account.move.line; items of a locked payment entry stay",
    ),
    ("account.move.line", "remove_move_reconcile"): (
        FRAMEWORK,
        "core rights; a locked posted subscriber payment stays reconciled",
    ),
    ("account.partial.reconcile", "write"): (
        FRAMEWORK,
        "ACL; partials of a locked subscriber payment cannot be rewritten",
    ),
    ("account.partial.reconcile", "unlink"): (
        FRAMEWORK,
        "ACL; partials of a locked subscriber payment stay",
    ),
    ("contract.contract", "create"): (
        FRAMEWORK,
        "ACL: billing users; status fields are the manager's, a saved "
        "method must be the customer's",
    ),
    ("contract.contract", "write"): (
        FRAMEWORK,
        "ACL: billing users; status fields are the manager's, a saved "
        "method must be the customer's",
    ),
    ("account.move.line", "write"): (FRAMEWORK, "ACL of account.move.line"),
    ("account.partial.reconcile", "create"): (
        FRAMEWORK,
        "ACL of account.partial.reconcile",
    ),
    ("account.payment", "action_cancel"): (
        FRAMEWORK,
        "core rights; locked posted subscriber payments refused",
    ),
    ("account.payment", "action_draft"): (
        FRAMEWORK,
        "core rights; locked posted subscriber payments refused",
    ),
    ("account.payment", "unlink"): (
        FRAMEWORK,
        "core rights; locked posted subscriber payments refused",
    ),
    ("account.payment", "write"): (
        FRAMEWORK,
        "core rights; locked posted subscriber payments refused",
    ),
    ("account.bank.statement.line", "create"): (
        FRAMEWORK,
        "ACL of statement lines; chunked creation of imports",
    ),
    ("contract.line", "create"): (FRAMEWORK, "ACL of contract.line"),
    ("product.product", "create"): (FRAMEWORK, "ACL of product.product"),
    ("product.template", "create"): (FRAMEWORK, "ACL of product.template"),
    ("res.partner", "create"): (
        FRAMEWORK,
        "ACL of res.partner; billing fields need the billing groups",
    ),
    ("res.partner", "write"): (
        FRAMEWORK,
        "ACL of res.partner; billing fields need the billing groups, "
        "renumbering a subscriber with payments the manager",
    ),
    ("res.partner", "init"): (FRAMEWORK, "runs at install; no effect twice"),
    ("res.partner", "copy_data"): (
        FRAMEWORK,
        "a copy by a user without billing rights is a plain contact",
    ),
    ("security.site", "create"): (FRAMEWORK, "ACL: billing users"),
    ("security.site", "write"): (FRAMEWORK, "ACL: billing users"),
    ("security.terminal.provider", "write"): (
        FRAMEWORK,
        "ACL: managers; the code of a provider with payments is frozen",
    ),
    ("contract.recurring.mixin", "get_next_period_date_end"): (
        FRAMEWORK,
        "pure date computation from its arguments, writes nothing",
    ),
    ("account.statement.import.1c.parser", "parse"): (
        FRAMEWORK,
        "turns the given bytes into dicts, writes nothing",
    ),
    ("security.promise.wizard", "default_get"): (FRAMEWORK, "ACL of the wizard"),
    ("security.state.override.wizard", "default_get"): (
        FRAMEWORK,
        "ACL of the wizard: managers",
    ),
    ("security.subscriber.wizard.mixin", "default_get"): (
        FRAMEWORK,
        "ACL of each wizard: billing users",
    ),
    ("security.bank.line.assign", "default_get"): (
        FRAMEWORK,
        "ACL of the wizard: billing users",
    ),
    # -------------------------------------------------------------- reports
    ("report.security_billing.abstract_xlsx", "get_workbook_options"): (
        FRAMEWORK,
        "report_xlsx hook; returns xlsxwriter options, reads nothing",
    ),
    ("report.security_billing.report_app_usage_xlsx", "generate_xlsx_report"): (
        USER,
        "called by the report route; checks the billing group and company",
    ),
    ("report.security_billing.report_mmr_aging_xlsx", "generate_xlsx_report"): (
        USER,
        "called by the report route; checks the billing group and company",
    ),
    ("report.security_billing.report_rmr_xlsx", "generate_xlsx_report"): (
        USER,
        "called by the report route; checks the billing group and company",
    ),
    # ------------------------------------------------------------- buttons
    ("res.partner", "action_security_view_invoices"): (
        READER,
        "returns an action; the invoices are read with the caller's rights",
    ),
    ("res.partner", "action_security_view_payments"): (
        READER,
        "returns an action; the payments are read with the caller's rights",
    ),
    ("security.app.connector", "action_export_now"): (
        MANAGER,
        "write access on the connector is checked before the upload",
    ),
    ("security.app.connector", "action_download_file"): (
        USER,
        "read access on the connector (billing users); nothing is sent",
    ),
    ("security.app.connector", "action_view_logs"): (
        READER,
        "returns an action; the logs are read with the caller's rights",
    ),
    ("security.app.export.log", "action_download"): (
        READER,
        "checks read access on the log; a URL of its attachment, served "
        "with the caller's rights",
    ),
    ("security.billing.run", "action_security_run_billing_now"): (
        USER,
        "checks the billing user group; bills the current company",
    ),
    ("security.billing.run", "action_view_invoices"): (
        READER,
        "returns an action; the invoices are read with the caller's rights",
    ),
    ("account.bank.statement.line", "action_security_match"): (
        USER,
        "_security_check_match_access: billing users of the line's company",
    ),
    ("account.bank.statement.line", "action_security_assign"): (
        USER,
        "_security_check_match_access, then the wizard (billing users)",
    ),
    ("account.bank.statement.line", "action_undo_reconciliation"): (
        FRAMEWORK,
        "core rights; the subscriber payment stays and the line is to match",
    ),
    ("security.terminal.payment", "action_clear_alert"): (
        USER,
        "read access on terminal payments (billing users) is checked; it "
        "only clears the alert flag",
    ),
    ("security.terminal.provider", "action_view_terminal_payments"): (
        READER,
        "returns an action; the payments are read with the caller's rights",
    ),
    ("security.terminal.reconciliation", "action_compare"): (
        USER,
        "ACL: billing users; compares the uploaded registry, pays nothing",
    ),
    # -------------------------------------------------------------- wizards
    ("security.billing.report.wizard", "action_print"): (
        USER,
        "ACL of the wizard: billing users; the report checks again",
    ),
    ("security.manual.payment", "action_confirm"): (
        USER,
        "ACL of the wizard: billing users; the entry point pays",
    ),
    ("security.promise.wizard", "action_request"): (
        USER,
        "ACL of the wizard: billing users; the promise rules decide",
    ),
    ("security.state.override.wizard", "action_apply"): (
        MANAGER,
        "ACL of the wizard: managers only",
    ),
    ("security.transfer.funds", "action_transfer"): (
        USER,
        "ACL of the wizard: billing users; one transaction, locked in order",
    ),
    ("security.bank.line.assign", "action_assign"): (
        USER,
        "ACL of the wizard: billing users; lines checked again",
    ),
    ("security.debt.registry.wizard", "action_export"): (
        USER,
        "ACL of the wizard: billing users; caller's company",
    ),
    # ------------------------------------------ statement imports (OCA's)
    ("account.statement.import", "import_file_button"): (
        USER,
        "OCA's button, ACL of the wizard: billing users and accountants; a "
        "big file answers with its background import",
    ),
    ("account.statement.import", "import_single_file"): (
        USER,
        "OCA's step, ACL of the wizard; the whole file is checked before "
        "the statements are created inline or by jobs",
    ),
    ("security.bank.import", "action_security_retry"): (
        USER,
        "ACL: bank import users, rules: their companies; requeues this "
        "import's failed jobs only, each does its chunk's step once",
    ),
    ("security.bank.import", "action_view_lines"): (
        READER,
        "opens the import's statement lines (their own ACL and rules)",
    ),
    # ------------------------------------ billing overview (read-only SQL views)
    ("security.billing.overview", "init"): (
        FRAMEWORK,
        "creates the report's SQL view at install; RPC refuses the name init",
    ),
    ("security.billing.report.view.mixin", "init"): (
        FRAMEWORK,
        "creates each analysis' SQL view at install; RPC refuses the name init",
    ),
}

OUR_ADDONS = ("security_billing", "security_billing_portal", "security_billing_bank")


def _defining_addon(cls):
    parts = cls.__module__.split(".")
    if len(parts) > 2 and parts[:2] == ["odoo", "addons"] and parts[2] in OUR_ADDONS:
        return parts[2]
    return None


def public_methods_of_our_addons(registry):
    """{(model, method)} of every public function our addons' classes define.

    A method is listed under the model whose class defines it (abstract
    mixins included), once, however many models inherit it.
    """
    found = set()
    for model_name, model_cls in registry.items():
        for cls in model_cls.__mro__:
            if not _defining_addon(cls):
                continue
            owner = getattr(cls, "_name", None) or model_name
            if owner != model_name and owner in registry:
                continue  # listed under the model that defines it
            for name, value in vars(cls).items():
                if name.startswith("_") or not inspect.isfunction(value):
                    continue
                found.add((model_name, name))
    return found


@tagged("post_install", "-at_install")
class TestPublicMethods(TransactionCase):
    def test_every_public_method_is_in_the_table(self):
        found = public_methods_of_our_addons(self.env.registry)
        missing = sorted(found - set(RPC_SURFACE))
        self.assertFalse(
            missing,
            "public methods callable over RPC without a row in RPC_SURFACE "
            "(say who may call them and check it in the method, or rename them "
            f"with a leading underscore): {missing}",
        )

    def test_no_stale_rows(self):
        found = public_methods_of_our_addons(self.env.registry)
        stale = sorted(set(RPC_SURFACE) - found)
        self.assertFalse(stale, f"rows of RPC_SURFACE without a method: {stale}")

    def test_rows_say_who_and_why(self):
        for key, (who, why) in RPC_SURFACE.items():
            with self.subTest(method=key):
                self.assertIn(who, WHO)
                self.assertGreater(len(why), 10)

    def test_private_helpers_are_not_callable_remotely(self):
        """What the table leaves out is out of RPC's reach by its name."""
        with self.assertRaises(Exception) as caught:
            check_method_name("_security_register_payment")
        self.assertIn("Private methods", str(caught.exception))
        with self.assertRaises(Exception) as caught:
            check_method_name("init")  # the SQL view of a report
        self.assertIn("Private methods", str(caught.exception))
        check_method_name("register_payment")  # the documented API
