/** @odoo-module **/

import PaymentForm from "@payment/js/payment_form";

PaymentForm.include({
    /**
     * Send the "use for automatic payments" choice of the Billing page.
     *
     * @override
     */
    _prepareTransactionRouteParams() {
        const params = this._super(...arguments);
        const checkbox = document.querySelector(
            'input[name="security_use_for_autopay"]'
        );
        if (checkbox) {
            params.security_use_for_autopay = checkbox.checked;
        }
        return params;
    },
});
