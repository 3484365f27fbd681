/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * An accountant opens the Security Billing app on its overview, opens the
 * past due analysis from its card, groups it by age, opens a group and
 * drills down to an invoice line of the analysis.
 */
registry.category("web_tour.tours").add("security_billing_overview", {
    steps: () => [
        {
            content: "The app opens on the overview, with its past due card",
            trigger: ".o_security_billing_overview .o_kanban_record a:has(h2.text-danger)",
            run: "click",
        },
        {
            content: "The past due analysis opens as a list",
            trigger: ".o_list_view .o_data_row",
        },
        {
            content: "Open the search options",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Group by age",
            trigger: ".o_group_by_menu .o_menu_item:contains('Age')",
            run: "click",
        },
        {
            content: "Open the first age group",
            trigger: ".o_list_view .o_group_header:first",
            run: "click",
        },
        {
            content: "Drill down to an invoice of that group",
            trigger: ".o_list_view .o_data_row:first .o_data_cell[name='partner_id']",
            run: "click",
        },
        {
            content: "The past due invoice opens in a form",
            trigger: ".o_form_view .o_field_widget[name='amount_residual']",
        },
        {
            content: "and leads to the invoice itself",
            trigger: ".o_form_view .o_field_widget[name='move_id'] a",
            run: "click",
        },
        {
            content: "The invoice opens",
            trigger: ".o_form_view .o_field_widget[name='invoice_line_ids']",
        },
    ],
});
