"""Who may set the billing fields, tried over XML-RPC as an attacker would:
autopay methods of other customers, account numbers, service status
overrides."""

import xmlrpc.client

from odoo import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.security_billing.tools import account_ref

from ..common import RpcUsersMixin
from .dunning_common import DunningCase


class BillingFieldAccessCase(RpcUsersMixin, DunningCase, HttpCase):
    """Two subscribers with their saved methods, and four kinds of users, all
    with contact rights: an employee without billing rights, a billing user,
    a billing manager and the administrator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company
        users = {
            "employee": ("base.group_user,base.group_partner_manager", company),
            "billing": (
                "base.group_partner_manager,"
                "security_billing.group_security_billing_user",
                company,
            ),
            "manager": (
                "base.group_partner_manager,"
                "security_billing.group_security_billing_manager",
                company,
            ),
        }
        cls._create_rpc_users("sb_", users, "{}")
        cls.admin = cls.env.ref("base.user_admin")
        cls.admin.write(
            {
                "password": cls._password(cls.admin.login),
                "company_ids": [Command.link(company.id)],
                "company_id": company.id,
            }
        )
        cls.partner_b = cls._create_subscriber("Bob Burglar")
        cls.contract_b = cls._create_mmr_contract(cls.partner_b, price=30.0)
        cls.token_a = cls._create_token(cls.partner)
        cls.token_b = cls._create_token(cls.partner_b)

    def _assert_refused(self, pattern, user, model, method, *args, **kwargs):
        with self.assertRaises(
            xmlrpc.client.Fault, msg=f"{user.login}: {model}.{method}{args!r}"
        ) as caught:
            self._rpc(user, model, method, *args, **kwargs)
        self.assertRegex(caught.exception.faultString, pattern)
        return caught.exception

    @staticmethod
    def _free_ref(base):
        return account_ref.make_account_ref(base)


@tagged("post_install", "-at_install")
class TestAutopayTokenOwnership(BillingFieldAccessCase):
    """Exploit 3: customer A's card set as customer B's autopay method."""

    NOT_OWNED = r"belongs to .*Alice Alarm.*not to .*Bob Burglar"

    def test_other_customers_token_refused_on_subscriber(self):
        for user in (self.billing, self.manager, self.admin):
            self._assert_refused(
                self.NOT_OWNED,
                user,
                "res.partner",
                "write",
                self.partner_b.ids,
                {"security_autopay_token_id": self.token_a.id},
            )
            self.partner_b.invalidate_recordset()
            self.assertFalse(self.partner_b.security_autopay_token_id)
        # the employee without billing rights may not even try
        self._assert_refused(
            "security_autopay_token_id",
            self.employee,
            "res.partner",
            "write",
            self.partner_b.ids,
            {"security_autopay_token_id": self.token_a.id},
        )
        self.assertFalse(self.partner_b.security_autopay_token_id)

    def test_other_customers_token_refused_on_contract(self):
        for user in (self.billing, self.manager, self.admin):
            self._assert_refused(
                self.NOT_OWNED,
                user,
                "contract.contract",
                "write",
                self.contract_b.ids,
                {"security_autopay_token_id": self.token_a.id},
            )
            self.contract_b.invalidate_recordset()
            self.assertFalse(self.contract_b.security_autopay_token_id)

    def test_contract_moved_to_another_customer_keeps_no_foreign_token(self):
        self.contract_b.security_autopay_token_id = self.token_b
        self._assert_refused(
            r"belongs to .*Bob Burglar.*not to .*Alice Alarm",
            self.manager,
            "contract.contract",
            "write",
            self.contract_b.ids,
            {"partner_id": self.partner.id},
        )
        self.contract_b.invalidate_recordset()
        self.assertEqual(self.contract_b.partner_id, self.partner_b)

    def test_own_token_accepted(self):
        contact_b = self.env["res.partner"].create(
            {"name": "Bob's wife", "parent_id": self.partner_b.id}
        )
        token_contact = self._create_token(contact_b)
        self._rpc(
            self.billing,
            "res.partner",
            "write",
            self.partner_b.ids,
            {"security_autopay_token_id": token_contact.id},
        )
        self._rpc(
            self.manager,
            "contract.contract",
            "write",
            self.contract_b.ids,
            {"security_autopay_token_id": self.token_b.id},
        )
        self.partner_b.invalidate_recordset()
        self.contract_b.invalidate_recordset()
        self.assertEqual(self.partner_b.security_autopay_token_id, token_contact)
        self.assertEqual(self.contract_b.security_autopay_token_id, self.token_b)

    def _assert_foreign_token_not_charged(self, invoice):
        attempt = self.env["security.autopay.attempt"]._run_autopay(date_ref=self.today)
        self.assertEqual(attempt.invoice_id, invoice)
        self.assertEqual(attempt.state, "stopped")
        self.assertRegex(attempt.error, "does not belong to the billed customer")
        self.assertFalse(attempt.transaction_id)
        self.assertFalse(
            self.env["payment.transaction"].search([("invoice_ids", "in", invoice.ids)])
        )
        self.assertFalse(
            self.env["payment.transaction"].search([("token_id", "=", self.token_a.id)])
        )
        self.assertEqual(invoice.payment_state, "not_paid")
        # the next runs do not try again with the same method
        self.assertFalse(
            self.env["security.autopay.attempt"]._run_autopay(date_ref=self._days(5))
        )

    def test_foreign_token_set_before_not_charged_subscriber(self):
        # set before the rule existed (or behind the ORM's back)
        self.env.cr.execute(
            "UPDATE res_partner SET security_autopay_token_id = %s WHERE id = %s",
            [self.token_a.id, self.partner_b.id],
        )
        self.env.invalidate_all()
        invoice = self._mmr_invoice(self.contract_b, 30.0)
        self._assert_foreign_token_not_charged(invoice)

    def test_foreign_token_set_before_not_charged_contract(self):
        self.env.cr.execute(
            "UPDATE contract_contract SET security_autopay_token_id = %s WHERE id = %s",
            [self.token_a.id, self.contract_b.id],
        )
        self.env.invalidate_all()
        invoice = self._mmr_invoice(self.contract_b, 30.0)
        self._assert_foreign_token_not_charged(invoice)


@tagged("post_install", "-at_install")
class TestSubscriberFieldsAccess(BillingFieldAccessCase):
    """Exploit 4: account numbers, subscriber flag and autopay need the
    billing groups; renumbering a subscriber with payments, the manager."""

    NO_RIGHTS = r"You do not have enough rights to access the fields"

    def _billing_values(self):
        return {
            "security_account_ref": self._free_ref("7700001"),
            "security_is_subscriber": False,
            "security_autopay_token_id": self.token_a.id,
            "security_autopay_enabled": False,
        }

    def test_employee_cannot_write_billing_fields(self):
        ref_a = self.partner.security_account_ref
        for fname, value in self._billing_values().items():
            self._assert_refused(
                f"{self.NO_RIGHTS}.*{fname}",
                self.employee,
                "res.partner",
                "write",
                self.partner.ids,
                {fname: value},
            )
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.security_account_ref, ref_a)
        self.assertTrue(self.partner.security_is_subscriber)
        self.assertFalse(self.partner.security_autopay_token_id)
        self.assertTrue(self.partner.security_autopay_enabled)
        # the swap of two account numbers is refused at its first write
        self._assert_refused(
            self.NO_RIGHTS,
            self.employee,
            "res.partner",
            "write",
            self.partner_b.ids,
            {"security_account_ref": self._free_ref("7700002")},
        )
        self.partner_b.invalidate_recordset()
        self.assertNotEqual(
            self.partner_b.security_account_ref, self._free_ref("7700002")
        )

    def test_employee_still_edits_contacts(self):
        self._rpc(
            self.employee,
            "res.partner",
            "write",
            self.partner.ids,
            {"phone": "+32 2 555 00 00"},
        )
        self.assertEqual(self.partner.phone, "+32 2 555 00 00")
        [read] = self._rpc(
            self.employee, "res.partner", "read", self.partner.ids, ["name", "phone"]
        )
        self.assertEqual(read["name"], "Alice Alarm")
        self._assert_refused(
            self.NO_RIGHTS,
            self.employee,
            "res.partner",
            "read",
            self.partner.ids,
            ["security_account_ref"],
        )
        new_id = self._rpc(
            self.employee, "res.partner", "create", {"name": "Plain Contact"}
        )
        new = self.env["res.partner"].browse(new_id)
        self.assertFalse(new.security_is_subscriber)
        self.assertFalse(new.security_account_ref)

    def test_accountant_without_billing_rights_edits_other_payments(self):
        """Code reading the subscriber flag for users without billing rights
        reads it as the system: their own work goes on."""
        accountant = self._create_rpc_user(
            "sb_accountant", "account.group_account_invoice", self.company
        )
        supplier = self.env["res.partner"].create({"name": "Plain Supplier"})
        payment = self.env["account.payment"].create(
            {
                "partner_id": supplier.id,
                "amount": 10.0,
                "payment_type": "inbound",
                "journal_id": self.bank_journal.id,
            }
        )
        payment.action_post()
        self._rpc(
            accountant,
            "account.payment",
            "write",
            payment.ids,
            {"memo": "corrected memo"},
        )
        self.assertEqual(payment.memo, "corrected memo")

    def test_employee_cannot_create_with_billing_fields(self):
        count = self.env["res.partner"].search_count([])
        for fname, value in self._billing_values().items():
            if fname == "security_is_subscriber":
                value = True
            self._assert_refused(
                f"{self.NO_RIGHTS}.*{fname}",
                self.employee,
                "res.partner",
                "create",
                {"name": "Mallory", fname: value},
            )
        # a default in the context is a value too
        self._assert_refused(
            f"{self.NO_RIGHTS}.*security_is_subscriber",
            self.employee,
            "res.partner",
            "create",
            {"name": "Mallory"},
            context={"default_security_is_subscriber": True},
        )
        self.assertEqual(self.env["res.partner"].search_count([]), count)

    def test_employee_cannot_copy_with_billing_fields(self):
        count = self.env["res.partner"].search_count([])
        self._assert_refused(
            f"{self.NO_RIGHTS}.*security_account_ref",
            self.employee,
            "res.partner",
            "copy",
            self.partner.id,
            {"security_account_ref": self._free_ref("7700003")},
        )
        self._assert_refused(
            f"{self.NO_RIGHTS}.*security_autopay_token_id",
            self.employee,
            "res.partner",
            "copy",
            self.partner_b.id,
            {"security_autopay_token_id": self.token_b.id},
        )
        self.assertEqual(self.env["res.partner"].search_count([]), count)
        # a plain copy by the employee is a contact, not a second subscriber
        [copy_id] = self._rpc(self.employee, "res.partner", "copy", self.partner.id)
        duplicate = self.env["res.partner"].browse(copy_id)
        self.assertFalse(duplicate.security_is_subscriber)
        self.assertFalse(duplicate.security_account_ref)

    def test_billing_user_sets_billing_fields(self):
        new_id = self._rpc(
            self.billing,
            "res.partner",
            "create",
            {"name": "New Subscriber", "security_is_subscriber": True},
        )
        new = self.env["res.partner"].browse(new_id)
        self.assertTrue(account_ref.is_valid(new.security_account_ref))
        self._rpc(
            self.billing,
            "res.partner",
            "write",
            self.partner_b.ids,
            {
                "security_account_ref": self._free_ref("7700004"),
                "security_autopay_token_id": self.token_b.id,
                "security_autopay_enabled": False,
            },
        )
        self.partner_b.invalidate_recordset()
        self.assertEqual(self.partner_b.security_account_ref, self._free_ref("7700004"))
        self.assertEqual(self.partner_b.security_autopay_token_id, self.token_b)
        self.assertFalse(self.partner_b.security_autopay_enabled)
        # a billing user's copy of a subscriber is a new subscriber, new number
        [copy_id] = self._rpc(self.billing, "res.partner", "copy", self.partner.id)
        duplicate = self.env["res.partner"].browse(copy_id)
        self.assertTrue(duplicate.security_is_subscriber)
        self.assertTrue(duplicate.security_account_ref)
        self.assertNotEqual(
            duplicate.security_account_ref, self.partner.security_account_ref
        )

    def test_renumbering_a_subscriber_with_payments_is_manager_only(self):
        self._pay(self.partner, 30.0)
        old_ref = self.partner.security_account_ref
        self._assert_refused(
            r"Alice Alarm already has payments.*Security Billing Manager",
            self.billing,
            "res.partner",
            "write",
            self.partner.ids,
            {"security_account_ref": self._free_ref("7700005")},
        )
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.security_account_ref, old_ref)
        # writing the same number again is no renumbering
        self._rpc(
            self.billing,
            "res.partner",
            "write",
            self.partner.ids,
            {"security_account_ref": old_ref},
        )
        self._rpc(
            self.manager,
            "res.partner",
            "write",
            self.partner.ids,
            {"security_account_ref": self._free_ref("7700005")},
        )
        self.partner.invalidate_recordset()
        self.assertEqual(self.partner.security_account_ref, self._free_ref("7700005"))

    def test_views_load_without_billing_rights(self):
        views = [[False, "form"], [False, "list"], [False, "kanban"], [False, "search"]]
        for xmlid, view_type in (
            ("security_billing.view_partner_list_security_billing", "list"),
            ("security_billing.view_partner_kanban_security_billing", "kanban"),
        ):
            views.append([self.env.ref(xmlid).id, view_type])
        employee = self._rpc(self.employee, "res.partner", "get_views", views)
        fields = employee["models"]["res.partner"]["fields"]
        for fname in self._billing_values():
            self.assertNotIn(fname, fields)
        for view_type in ("form", "list", "kanban", "search"):
            self.assertNotIn(
                "security_account_ref", employee["views"][view_type]["arch"]
            )
        billing = self._rpc(self.billing, "res.partner", "get_views", views)
        fields = billing["models"]["res.partner"]["fields"]
        for fname in self._billing_values():
            self.assertIn(fname, fields)


@tagged("post_install", "-at_install")
class TestServiceStatusAccess(BillingFieldAccessCase):
    """Exploit 5: a billing user kept a debtor active with an override."""

    def _status_values(self):
        return {
            "security_override_state": "active",
            "security_override_until": str(self._days(365)),
            "security_override_reason": "friend of the family",
            "security_state": "active",
            "security_state_since": str(self.today),
        }

    def test_billing_user_cannot_change_status_fields(self):
        self.contract_b.sudo().write({"security_state": "suspended"})
        for fname, value in self._status_values().items():
            self._assert_refused(
                r"Only a Security Billing Manager may change the service "
                rf"status of .*MMR Bob Burglar.*{fname}",
                self.billing,
                "contract.contract",
                "write",
                self.contract_b.ids,
                {fname: value},
            )
        self.contract_b.invalidate_recordset()
        self.assertEqual(self.contract_b.security_state, "suspended")
        self.assertFalse(self.contract_b.security_override_state)
        self.assertFalse(self.contract_b.security_override_until)
        # nor create a contract born with an override
        self._assert_refused(
            r"Only a Security Billing Manager may change the service status",
            self.billing,
            "contract.contract",
            "create",
            {
                "name": "MMR override",
                "partner_id": self.partner_b.id,
                "security_override_state": "active",
                "security_override_until": str(self._days(365)),
            },
        )

    def test_billing_user_edits_other_contract_fields(self):
        self._rpc(
            self.billing,
            "contract.contract",
            "write",
            self.contract_b.ids,
            {"note": "call before visiting"},
        )
        self.contract_b.invalidate_recordset()
        self.assertIn("call before visiting", str(self.contract_b.note))

    def test_manager_changes_status_fields(self):
        self._rpc(
            self.manager,
            "contract.contract",
            "write",
            self.contract_b.ids,
            self._status_values(),
        )
        self.contract_b.invalidate_recordset()
        self.assertEqual(self.contract_b.security_override_state, "active")
        self.assertEqual(self.contract_b.security_override_until, self._days(365))

    def test_dunning_still_suspends_and_overrides_end(self):
        """The system writes the status fields for the billing user's flows."""
        self.contract_b.sudo().write(
            {
                "security_override_state": "active",
                "security_override_until": self._days(-1),
                "security_override_reason": "ended",
            }
        )
        self._mmr_invoice(self.contract_b, 30.0, days_ago=40)
        self.env["contract.contract"].with_user(self.billing)._security_run_dunning(
            date_ref=self.today
        )
        self.contract_b.invalidate_recordset()
        self.assertFalse(self.contract_b.security_override_state)
        self.assertEqual(self.contract_b.security_state, "suspended")
