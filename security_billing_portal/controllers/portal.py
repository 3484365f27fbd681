from werkzeug.exceptions import Forbidden, NotFound

from odoo import _, fields, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import content_disposition, request
from odoo.tools import format_amount

from odoo.addons.account_payment.controllers.payment import PaymentPortal
from odoo.addons.contract.controllers.main import PortalContract
from odoo.addons.payment import utils as payment_utils
from odoo.addons.portal.controllers.portal import pager as portal_pager

RECEIPT_REPORT = "security_billing_portal.action_report_security_payment_receipt"
BILLING_URL = "/my/billing"
MESSAGE_KEY = "security_billing_message"
# The counters of /my that depend on being a subscriber.
HOME_COUNTERS = {
    "security_billing_count",
    "invoice_count",
    "overdue_invoice_count",
    "contract_count",
}


class SecurityBillingPortal(PaymentPortal, PortalContract):
    """The portal Billing page of security subscribers.

    It extends OCA contract's portal too, so that its counters on /my come
    after contract's (``_security_generic_counters``).

    Thin: every route finds the commercial partner of the logged-in user,
    checks access to the ids it receives, validates input through the models
    and renders. Routes with ids answer 404 for records of other customers.
    """

    _security_items_per_page = 12

    # ----------------------------------------------------------------- helpers
    def _security_partner(self):
        """Commercial partner of the portal user (sudo, as request.env.user)."""
        return request.env.user.partner_id.commercial_partner_id

    def _security_contracts(self):
        """The user's MMR contracts, read with the user's rights (record rules)."""
        partner = self._security_partner()
        return request.env["contract.contract"].search(
            partner._security_portal_contract_domain(), order="name, id"
        )

    def _security_check_contract(self, contract_id):
        """The user's own MMR contract (sudo) or 404, never another's."""
        try:
            contract_sudo = self._document_check_access(
                "contract.contract", contract_id
            )
        except (AccessError, MissingError) as exc:
            raise NotFound() from exc
        if not contract_sudo._security_portal_is_owned_by(self._security_partner()):
            raise NotFound()
        return contract_sudo

    def _security_check_token(self, token_id):
        """A payment token of the user or their company, or 404."""
        partner = request.env.user.partner_id
        token_sudo = (
            request.env["payment.token"]
            .sudo()
            .search(
                [
                    ("id", "=", PaymentPortal._cast_as_int(token_id) or 0),
                    (
                        "partner_id",
                        "in",
                        [partner.id, partner.commercial_partner_id.id],
                    ),
                ]
            )
        )
        if not token_sudo:
            raise NotFound()
        return token_sudo

    def _security_redirect(self, message, level="success"):
        request.session[MESSAGE_KEY] = {"text": message, "level": level}
        return request.redirect(BILLING_URL)

    def _security_history_page(self, model, domain, url, order, page):
        """One page of a history list (sudo, the domain is the customer's
        own): ``(records, pager)``."""
        records = request.env[model].sudo()
        pager = portal_pager(
            url=url,
            total=records.search_count(domain),
            page=page,
            step=self._security_items_per_page,
        )
        records = records.search(
            domain,
            order=order,
            limit=self._security_items_per_page,
            offset=pager["offset"],
        )
        return records, pager

    def _security_layout_values(self, page_name="security_billing"):
        values = self._prepare_portal_layout_values()
        values["page_name"] = page_name
        values["today"] = fields.Date.context_today(request.env.user)
        return values

    # -------------------------------------------------------------- portal home
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if counters and not HOME_COUNTERS.intersection(counters):
            return values
        contracts = request.env["contract.contract"]
        billing_count = (
            contracts.search_count(
                self._security_partner()._security_portal_contract_domain()
            )
            if contracts.has_access("read")
            else 0
        )
        if "security_billing_count" in counters:
            values["security_billing_count"] = billing_count
        if not counters:
            # /my itself: the Billing card shows at once (/my/counters
            # answers every key it gets: none but the counters asked)
            values["security_billing_subscriber"] = bool(billing_count)
        if billing_count:
            values.update(self._security_generic_counters(counters))
        return values

    def _security_generic_counters(self, counters):
        """Odoo's invoice and contract entries of /my for a subscriber: they
        count only what the Billing page does not show (bills and contracts
        other than MMR ones), so that the Billing card is the one way in to
        the monitoring bills."""
        values = {}
        moves = request.env["account.move"]
        not_mmr = [("security_is_mmr", "=", False)]
        if "invoice_count" in counters and moves.has_access("read"):
            values["invoice_count"] = moves.search_count(
                self._get_invoices_domain("out") + not_mmr, limit=1
            )
        if "overdue_invoice_count" in counters and moves.has_access("read"):
            values["overdue_invoice_count"] = moves.search_count(
                self._get_overdue_invoices_domain() + not_mmr
            )
        contracts = request.env["contract.contract"]
        if "contract_count" in counters and contracts.has_access("read"):
            values["contract_count"] = contracts.search_count(
                [("security_is_mmr", "=", False)]
            )
        return values

    # ------------------------------------------------------------ billing page
    @http.route(BILLING_URL, type="http", auth="user", methods=["GET"], website=True)
    def security_billing(self, **kwargs):
        values = self._security_layout_values()
        contracts = self._security_contracts()
        if not contracts:
            return request.render(
                "security_billing_portal.portal_billing_not_configured", values
            )
        partner = self._security_partner()
        values.update(
            {
                "partner": partner,
                "cards": contracts.sudo()._security_portal_card_values(),
                "autopay_token": partner._security_portal_autopay_token(),
                "promise": partner._security_portal_promise_values(),
                "message": request.session.pop(MESSAGE_KEY, None),
            }
        )
        return request.render("security_billing_portal.portal_my_billing", values)

    # --------------------------------------------------------------------- pay
    @http.route(
        f"{BILLING_URL}/<int:contract_id>/pay",
        type="http",
        auth="user",
        methods=["GET"],
        website=True,
    )
    def security_billing_pay(
        self, contract_id, amount_choice=None, custom_amount=None, **kwargs
    ):
        contract_sudo = self._security_check_contract(contract_id)
        values = self._security_layout_values("security_billing_pay")
        values.update(
            {
                "billing_contract": contract_sudo,
                "amount_options": contract_sudo._security_portal_amount_options(),
                "amount_choice": amount_choice,
                "custom_amount": custom_amount,
                "autopay_token": contract_sudo._security_autopay_token(),
                "max_amount": contract_sudo.company_id.security_portal_max_amount,
                "currency": contract_sudo._security_portal_currency(),
            }
        )
        if amount_choice:
            try:
                amount = contract_sudo._security_portal_resolve_amount(
                    amount_choice, custom_amount
                )
            except UserError as exc:
                values["error"] = exc.args[0]
            else:
                values.update(self._security_payment_form_values(contract_sudo, amount))
        return request.render("security_billing_portal.portal_billing_pay", values)

    def _security_payment_form_values(self, contract_sudo, amount):
        """Context of Odoo's ``payment.form`` for a Billing page payment."""
        partner_sudo = request.env.user.partner_id
        company = contract_sudo.company_id
        currency = contract_sudo._security_portal_currency()
        report = {}
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                company.id,
                partner_sudo.id,
                amount,
                currency_id=currency.id,
                report=report,
            )
        )
        methods_sudo = (
            request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids,
                partner_sudo.id,
                currency_id=currency.id,
                report=report,
            )
        )
        tokens_sudo = (
            request.env["payment.token"]
            .sudo()
            ._get_available_tokens(providers_sudo.ids, partner_sudo.id)
        )
        autopay_token = contract_sudo._security_autopay_token()
        return {
            "amount": amount,
            "submit_button_label": _(
                "Pay %(amount)s", amount=format_amount(request.env, amount, currency)
            ),
            "currency": currency,
            "partner_id": partner_sudo.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": methods_sudo,
            "tokens_sudo": tokens_sudo,
            "availability_report": report,
            "default_token_id": autopay_token.id
            if autopay_token in tokens_sudo
            else None,
            # New methods are always saved; the checkbox of Odoo is not shown.
            "show_tokenize_input_mapping": dict.fromkeys(providers_sudo.ids, False),
            "reference_prefix": self._security_partner().security_account_ref,
            "transaction_route": f"{BILLING_URL}/{contract_sudo.id}/transaction",
            "landing_route": BILLING_URL,
            "access_token": self._security_amount_token(contract_sudo, amount),
            "company_mismatch": not PaymentPortal._can_partner_pay_in_company(
                partner_sudo, company
            ),
            "expected_company": company,
        }

    def _security_amount_token(self, contract_sudo, amount):
        """Signs the amount shown so that the browser cannot change it."""
        return payment_utils.generate_access_token(
            request.env.user.partner_id.id,
            amount,
            contract_sudo._security_portal_currency().id,
            contract_sudo.id,
            "security_billing",
        )

    @http.route(
        f"{BILLING_URL}/<int:contract_id>/transaction", type="json", auth="user"
    )
    def security_billing_transaction(
        self,
        contract_id,
        amount=None,
        access_token=None,
        csrf_token=None,
        security_use_for_autopay=False,
        **kwargs,
    ):
        """Create the transaction of a Billing page payment (payment.form RPC)."""
        if not request.validate_csrf(csrf_token):
            raise ValidationError(
                _("Your session has expired: reload the Billing page and try again.")
            )
        contract_sudo = self._security_check_contract(contract_id)
        contract_sudo._security_portal_check_amount(amount)
        if not payment_utils.check_access_token(
            access_token,
            request.env.user.partner_id.id,
            float(amount),
            contract_sudo._security_portal_currency().id,
            contract_sudo.id,
            "security_billing",
        ):
            raise ValidationError(
                _("The amount to pay was changed: reload the Billing page.")
            )
        self._validate_transaction_kwargs(kwargs)
        self._security_check_provider(contract_sudo, kwargs)
        for key in ("landing_route", "is_validation", "tokenization_requested"):
            kwargs.pop(key, None)
        tx_sudo = self._create_transaction(
            amount=float(amount),
            currency_id=contract_sudo._security_portal_currency().id,
            partner_id=request.env.user.partner_id.id,
            # a card is saved only when the customer ticks the box
            tokenization_requested=bool(security_use_for_autopay),
            landing_route=BILLING_URL,
            reference_prefix=self._security_partner().security_account_ref or None,
            is_validation=False,
            custom_create_values={
                "security_billing": True,
                "security_contract_id": contract_sudo.id,
                "security_use_for_autopay": bool(security_use_for_autopay),
            },
            **kwargs,
        )
        # the customer lands on the confirmation of this very payment
        tx_sudo.landing_route = f"{BILLING_URL}/confirmation/{tx_sudo.id}"
        return tx_sudo._get_processing_values()

    def _security_check_provider(self, contract_sudo, kwargs):
        """The provider (or saved method) must be one of the contract's company."""
        providers = request.env["payment.provider"].sudo()
        token_id = PaymentPortal._cast_as_int(kwargs.get("token_id"))
        if kwargs.get("flow") == "token" and token_id:
            providers = request.env["payment.token"].sudo().browse(token_id).provider_id
        else:
            providers = providers.browse(
                PaymentPortal._cast_as_int(kwargs.get("provider_id")) or []
            )
        if not providers.exists() or providers.company_id != contract_sudo.company_id:
            raise ValidationError(
                _("This payment method cannot pay the bills of this account.")
            )

    # ------------------------------------------------------ autopay method
    @http.route(
        f"{BILLING_URL}/payment-method",
        type="http",
        auth="user",
        methods=["GET"],
        website=True,
    )
    def security_billing_payment_method(self, **kwargs):
        partner = self._security_partner()
        if not self._security_contracts():
            return request.redirect(BILLING_URL)
        tokens_sudo = (
            request.env["payment.token"]
            .sudo()
            ._get_available_tokens(
                None, request.env.user.partner_id.id, is_validation=True
            )
        )
        values = self._security_layout_values("security_billing_method")
        values.update(
            {
                "tokens_sudo": tokens_sudo,
                "autopay_token": partner._security_portal_autopay_token(),
                "can_remove": partner._security_portal_can_remove_autopay(),
            }
        )
        return request.render(
            "security_billing_portal.portal_billing_payment_method", values
        )

    @http.route(
        f"{BILLING_URL}/payment-method",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def security_billing_set_payment_method(self, token_id=None, **kwargs):
        token_sudo = self._security_check_token(token_id)
        partner = self._security_partner()
        try:
            partner._security_portal_set_autopay_token(token_sudo)
        except UserError as exc:
            return self._security_redirect(exc.args[0], "danger")
        return self._security_redirect(
            _(
                "%(method)s will be used for your automatic payments.",
                method=token_sudo.display_name,
            )
        )

    @http.route(
        f"{BILLING_URL}/payment-method/remove",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def security_billing_remove_payment_method(self, **kwargs):
        partner = self._security_partner()
        if not partner._security_portal_can_remove_autopay():
            raise Forbidden(
                _("Your automatic payment method cannot be removed, only replaced.")
            )
        try:
            partner._security_portal_remove_autopay_token()
        except UserError as exc:
            return self._security_redirect(exc.args[0], "danger")
        return self._security_redirect(_("Automatic payments are turned off."))

    # ------------------------------------------------------- promised payment
    @http.route(
        f"{BILLING_URL}/promise",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def security_billing_promise(self, **kwargs):
        if not self._security_contracts():
            return request.redirect(BILLING_URL)
        result = self._security_partner()._security_portal_request_promise()
        if result["ok"]:
            return self._security_redirect(result["message"])
        return self._security_redirect(result["message"], "danger")

    # ----------------------------------------------------------------- history
    @http.route(
        [f"{BILLING_URL}/bills", f"{BILLING_URL}/bills/page/<int:page>"],
        type="http",
        auth="user",
        methods=["GET"],
        website=True,
    )
    def security_billing_bills(self, page=1, **kwargs):
        bills, pager = self._security_history_page(
            "account.move",
            self._security_partner()._security_portal_bills_domain(),
            f"{BILLING_URL}/bills",
            "invoice_date desc, id desc",
            page,
        )
        values = self._security_layout_values("security_billing_bills")
        values.update({"bills": bills, "pager": pager})
        return request.render("security_billing_portal.portal_billing_bills", values)

    @http.route(
        [f"{BILLING_URL}/payments", f"{BILLING_URL}/payments/page/<int:page>"],
        type="http",
        auth="user",
        methods=["GET"],
        website=True,
    )
    def security_billing_payments(self, page=1, **kwargs):
        partner = self._security_partner()
        payments, pager = self._security_history_page(
            "account.payment",
            partner._security_portal_payments_domain(),
            f"{BILLING_URL}/payments",
            "date desc, id desc",
            page,
        )
        values = self._security_layout_values("security_billing_payments")
        values.update(
            {"rows": partner._security_portal_payment_rows(payments), "pager": pager}
        )
        return request.render("security_billing_portal.portal_billing_payments", values)

    # --------------------------------------------- confirmation and receipt
    def _security_check_transaction(self, tx_id):
        """A Billing page transaction of the user's account (sudo), or 404."""
        tx_sudo = request.env["payment.transaction"].sudo().browse(tx_id).exists()
        if (
            not tx_sudo
            or not tx_sudo.security_billing
            or tx_sudo.partner_id.commercial_partner_id != self._security_partner()
        ):
            raise NotFound()
        return tx_sudo

    def _security_check_payment(self, payment_id):
        """A payment of the user's account, as its history lists it (sudo),
        or 404."""
        domain = self._security_partner()._security_portal_payments_domain()
        payment_sudo = (
            request.env["account.payment"]
            .sudo()
            .search([("id", "=", payment_id)] + domain)
        )
        if not payment_sudo:
            raise NotFound()
        return payment_sudo

    @http.route(
        f"{BILLING_URL}/confirmation/<int:tx_id>",
        type="http",
        auth="user",
        methods=["GET"],
        website=True,
    )
    def security_billing_confirmation(self, tx_id, **kwargs):
        """Where the customer lands after paying: what was paid and the
        state of the account now, or why the payment did not go through."""
        tx_sudo = self._security_check_transaction(tx_id)
        values = self._security_layout_values("security_billing_confirmation")
        values.update(
            {
                "tx_sudo": tx_sudo,
                "receipt": tx_sudo.payment_id._security_portal_receipt_values()
                if tx_sudo.state == "done" and tx_sudo.payment_id
                else None,
                "cards": tx_sudo.security_contract_id._security_portal_card_values(),
            }
        )
        return request.render(
            "security_billing_portal.portal_billing_confirmation", values
        )

    @http.route(
        f"{BILLING_URL}/payments/<int:payment_id>/receipt",
        type="http",
        auth="user",
        methods=["GET"],
        website=True,
    )
    def security_billing_receipt(self, payment_id, **kwargs):
        """The receipt of one payment, from the payments history."""
        payment_sudo = self._security_check_payment(payment_id)
        values = self._security_layout_values("security_billing_receipt")
        values.update(
            {
                "receipt": payment_sudo._security_portal_receipt_values(),
                "company": payment_sudo.company_id,
            }
        )
        return request.render("security_billing_portal.portal_billing_receipt", values)

    @http.route(
        f"{BILLING_URL}/payments/<int:payment_id>/receipt/pdf",
        type="http",
        auth="user",
        methods=["GET"],
        website=True,
    )
    def security_billing_receipt_pdf(self, payment_id, **kwargs):
        """The receipt of one payment as a PDF download; the same checks as
        the receipt page (a payment of the user's account, else 404)."""
        payment_sudo = self._security_check_payment(payment_id)
        pdf, _kind = (
            request.env["ir.actions.report"]
            .sudo()
            ._render_qweb_pdf(RECEIPT_REPORT, payment_sudo.ids)
        )
        filename = _("Receipt %(name)s.pdf", name=payment_sudo.name.replace("/", "-"))
        return request.make_response(
            pdf,
            headers=[
                ("Content-Type", "application/pdf"),
                ("Content-Length", len(pdf)),
                ("Content-Disposition", content_disposition(filename)),
            ],
        )
