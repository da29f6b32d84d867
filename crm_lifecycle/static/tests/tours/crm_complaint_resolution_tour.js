import { registry } from "@web/core/registry";

// A complaint agent finishes a complaint from its form: types what was done in the Resolution tab,
// saves, then moves it to Resolved in the status bar; both saves go through without an error dialog.
// Data: tests/test_complaint.py, TestComplaintTours (the test opens the form of its complaint).
registry.category("web_tour.tours").add("crm_complaint_resolution_tour", {
    steps: () => [
        {
            content: "The complaint's form is open",
            trigger: ".o_form_view .o_field_widget[name='subject'] input:value(Tour Broken Coffee Machine)",
        },
        {
            content: "Open the Resolution tab",
            trigger: ".o_notebook a.nav-link[name='resolution']",
            run: "click",
        },
        {
            trigger: ".o_field_html[name='resolution'] .odoo-editor-editable",
            run: "click",
        },
        {
            content: "Type what was done for the customer",
            trigger: ".o_field_html[name='resolution'] .odoo-editor-editable p",
            run: "editor Replaced the machine and refunded the delivery",
        },
        {
            content: "Save the resolution",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The form is saved, no error dialog",
            trigger: ".o_form_view .o_form_saved",
        },
        {
            trigger: "body:not(:has(.o_error_dialog, .modal))",
        },
        {
            content: "Move the complaint to Resolved in the status bar",
            trigger: ".o_statusbar_status button:contains(Resolved)",
            run: "click",
        },
        {
            content: "It is resolved and saved, no error dialog",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Resolved)",
        },
        {
            trigger: ".o_form_view .o_form_saved",
        },
        {
            trigger: "body:not(:has(.o_error_dialog, .modal))",
        },
    ],
});
