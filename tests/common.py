"""Shared test base classes with factory helpers for the whole suite."""

import json
from datetime import date

from odoo import Command, fields
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job


class DemoDataCase(TransactionCase):
    """A test of the demo data, skipped on a database installed without it:
    ``subscribers`` are the demo subscribers (their e-mails
    subscriber...@example.com), ``contracts`` their contracts."""

    def setUp(self):
        super().setUp()
        if not self.env.ref(
            "security_billing.demo_bundle_ajax_essential", raise_if_not_found=False
        ):
            self.skipTest("database installed without demo data")
        self.subscribers = self.env["res.partner"].search(
            [
                ("security_is_subscriber", "=", True),
                ("email", "=like", "subscriber%@example.com"),
            ]
        )
        self.contracts = self.subscribers.security_contract_ids


class SecurityBillingCase(AccountTestInvoicingCommon):
    """A company with a chart of accounts, an MMR product and factories."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, tracking_disable=True, mail_notrack=True)
        )
        cls.env.user.groups_id |= cls.env.ref(
            "security_billing.group_security_billing_manager"
        )
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.mmr_product = cls._create_mmr_product("Monitoring", 30.0)

    # ---------------------------------------------------------------- factories
    @classmethod
    def _create_mmr_product(cls, name, price, **vals):
        return cls.env["product.product"].create(
            dict(
                {
                    "name": name,
                    "type": "service",
                    "list_price": price,
                    "security_is_mmr": True,
                    "taxes_id": [Command.clear()],
                },
                **vals,
            )
        )

    @classmethod
    def _create_company_user(
        cls,
        login,
        groups="security_billing.group_security_billing_user",
        company=None,
        **vals,
    ):
        """A user of ``company`` only (default: the test company), in
        ``groups`` (default: a billing accountant), with more ``vals``
        (``lang``, ``password``...)."""
        company = company or cls.company_data["company"]
        return new_test_user(
            cls.env,
            login=login,
            groups=groups,
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
            **vals,
        )

    @classmethod
    def _create_subscriber(cls, name="Subscriber", **vals):
        return cls.env["res.partner"].create(
            dict({"name": name, "security_is_subscriber": True}, **vals)
        )

    @classmethod
    def _create_mmr_contract(
        cls,
        partner,
        price=30.0,
        rule="monthly",
        invoicing="pre-paid",
        date_start=None,
        product=None,
        quantity=1.0,
        **vals,
    ):
        product = product or cls.mmr_product
        date_start = date_start or fields.Date.today()
        return cls.env["contract.contract"].create(
            dict(
                {
                    "name": f"MMR {partner.name}",
                    "partner_id": partner.id,
                    "line_recurrence": False,
                    "recurring_rule_type": rule,
                    "recurring_invoicing_type": invoicing,
                    "date_start": date_start,
                    "recurring_next_date": date_start,
                    "contract_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "name": product.name,
                                "quantity": quantity,
                                "price_unit": price,
                                "uom_id": product.uom_id.id,
                            }
                        )
                    ],
                },
                **vals,
            )
        )

    @classmethod
    def _create_site(
        cls, partner, contract=None, vendor="ajax", device_id=None, **vals
    ):
        return cls.env["security.site"].create(
            dict(
                {
                    "name": f"Site of {partner.name}",
                    "partner_id": partner.id,
                    "contract_id": contract.id if contract else False,
                    "vendor": vendor,
                    "device_id": device_id,
                },
                **vals,
            )
        )

    @classmethod
    def _invoice_contract(cls, contract, post=True):
        """Create (and post) the next invoice of ``contract``."""
        invoice = contract.recurring_create_invoice()
        if post:
            invoice.action_post()
        return invoice

    @classmethod
    def _pay(cls, partner, amount, **kwargs):
        """Register a payment through the one allocation entry point."""
        return cls.env["account.payment"]._security_register_payment(
            partner, amount, **kwargs
        )

    @staticmethod
    def _date(text):
        return date.fromisoformat(text)

    def _run_jobs(self, run):
        """The stored jobs of the run's chunks, in chunk order."""
        return [
            Job.load(self.env, uuid)
            for uuid in run.chunk_ids.sorted("sequence").sudo().mapped("job_uuid")
        ]

    def _perform_job(self, job):
        """Run one job as queue_job's runner does (without its commits)."""
        job.set_started()
        job.store()
        job.perform()
        job.set_done()
        job.store()

    def _run_as_runner(self, job):
        """Run one stored job as queue_job's runner does (without commits):
        a retryable error rolls the run back and postpones the job (pending,
        retry counted). Returns that error, else None."""
        job.set_started()
        job.store()
        try:
            with self.env.cr.savepoint():
                job.perform()
        except RetryableJobError as err:
            job.postpone(result=str(err), seconds=err.seconds)
            job.set_pending(reset_retry=False)
            job.store()
            return err
        job.set_done()
        job.store()
        return None

    def _assert_owner_notified(self, message, user, bus_text):
        """``message`` (one ``mail.message``) reached ``user``'s inbox, and
        one browser notification matching ``bus_text`` went to them
        (``tools/notify.notify_owner``). Returns its payload."""
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, user.partner_id)
        self.assertEqual(message.notification_ids.res_partner_id, user.partner_id)
        self.env.cr.precommit.run()  # the bus notifications are sent at commit
        bus = (
            self.env["bus.bus"]
            .sudo()
            .search(
                [
                    ("message", "like", "simple_notification"),
                    ("message", "like", bus_text),
                ]
            )
        )
        self.assertEqual(len(bus), 1)
        self.assertEqual(
            json.loads(bus.channel)[1:], ["res.partner", user.partner_id.id]
        )
        return json.loads(bus.message)["payload"]

    def _perform_run_jobs(self, run):
        for job in self._run_jobs(run):
            self._perform_job(job)
        run.invalidate_recordset()


class RpcUsersMixin:
    """Users who call the server over XML-RPC, as integrators and attackers
    do; mixed into an ``HttpCase``."""

    @staticmethod
    def _password(login):
        return f"{login}-Secret-1"

    @classmethod
    def _create_rpc_user(cls, login, groups, company):
        """A user of ``company`` with ``groups`` (comma-separated xml ids)
        who logs in with ``_password(login)``."""
        return new_test_user(
            cls.env,
            login=login,
            groups=groups,
            password=cls._password(login),
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )

    @classmethod
    def _create_rpc_users(cls, prefix, users, attribute="{}_user"):
        """The RPC user ``<prefix><name>`` of each ``name`` of ``users``, set
        as ``cls.<attribute.format(name)>``.

        :param dict users: ``name: groups`` (of the test company) or
            ``name: (groups, company)``
        """
        for name, groups in users.items():
            company = cls.company_data["company"]
            if isinstance(groups, tuple):
                groups, company = groups
            user = cls._create_rpc_user(f"{prefix}{name}", groups, company)
            setattr(cls, attribute.format(name), user)

    def _rpc(self, user, model, method, *args, **kwargs):
        """``execute_kw`` of ``model.method(*args, **kwargs)`` as ``user``."""
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname,
            user.id,
            self._password(user.login),
            model,
            method,
            list(args),
            kwargs,
        )
