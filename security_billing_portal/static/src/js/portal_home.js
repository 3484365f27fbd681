/** @odoo-module **/

import { PortalHomeCounters } from "@portal/js/portal";

PortalHomeCounters.include({
    /**
     * For a subscriber, Odoo's "Your Invoices" entry shows only when there
     * are invoices other than the monitoring bills of the Billing page.
     *
     * @override
     */
    _getCountersAlwaysDisplayed() {
        const counters = this._super(...arguments);
        if (this.el.querySelector(".o_security_billing_home[data-subscriber]")) {
            return counters.filter((name) => name !== "invoice_count");
        }
        return counters;
    },
});
