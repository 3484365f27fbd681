/** @odoo-module **/

import { localization } from "@web/core/l10n/localization";
import { registry } from "@web/core/registry";

/**
 * An amount as the page's language writes it: 40.00 in English, 40,00 in
 * Russian or Ukrainian (the tour also runs for a Russian customer).
 *
 * @param {number} value
 * @returns {string}
 */
function money(value) {
    return value.toFixed(2).replace(".", localization.decimalPoint);
}

/**
 * A portal customer pays a custom amount of 40.00 on a balance of 90.00 with
 * the demo provider, sees the confirmation (amount, bills paid, receipt),
 * goes back to the Billing page and sees 50.00 due.
 */
registry.category("web_tour.tours").add("security_billing_portal_pay", {
    url: "/my/billing",
    steps: () => [
        {
            content: "The card is red (past due) and shows the balance due",
            trigger:
                ".o_security_billing_card[data-status='past_due'] " +
                ".o_security_balance_due[data-amount='90.00']",
        },
        {
            content: "The Pay button says what it pays",
            trigger: ".o_security_billing_card .o_security_pay_button .oe_currency_value",
        },
        {
            content: "Pay another amount",
            trigger: ".o_security_billing_card .o_security_pay_other",
            run: "click",
        },
        {
            content: "Choose another amount",
            trigger: "#security_amount_custom",
            run: "click",
        },
        {
            content: "Type 40",
            trigger: "input[name='custom_amount']",
            run: "edit 40",
        },
        {
            content: "Continue to the payment form",
            trigger: ".o_security_amount_continue",
            run: "click",
        },
        {
            content: "The amount to pay is 40.00",
            trigger: `.o_security_pay_amount:contains('${money(40)}')`,
        },
        {
            content: "Select the demo payment method",
            trigger: "input[name='o_payment_radio'][data-provider-code='demo']",
            run: "click",
        },
        {
            content: "Type test card details",
            trigger: "#customer_input",
            run: "edit 4242",
        },
        {
            content: "Pay 40.00",
            trigger:
                `button[name='o_payment_submit_button']:not(:disabled):contains('${money(40)}')`,
            run: "click",
        },
        {
            content: "The confirmation shows the amount received",
            trigger: `.o_security_confirmation_done:contains('${money(40)}')`,
            timeout: 30000,
        },
        {
            content: "and the bills it paid",
            trigger: ".o_security_receipt_allocation",
        },
        {
            content: "and what is left to pay",
            trigger: `.o_security_confirmation_balance:contains('${money(50)}')`,
        },
        {
            content: "Back to Billing",
            trigger: ".o_security_back_to_billing",
            run: "click",
        },
        {
            content: "Back on the Billing page, 50.00 is left to pay",
            trigger:
                ".o_security_billing_card .o_security_balance_due[data-amount='50.00']",
        },
    ],
});
