import { registry } from "@web/core/registry";

// A complaint agent sets severities: two complaints at once in the list (multi-edit), then one on its
// form with the severity badges. Data: tests/test_complaint.py, TestComplaintTours (the test opens the
// list of its complaints).
registry.category("web_tour.tours").add("crm_complaint_severity_tour", {
    steps: () => [
        {
            content: "Select the first complaint",
            trigger: ".o_data_row:contains(Tour Severity One) .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Select the second complaint",
            trigger: ".o_data_row:contains(Tour Severity Two) .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Edit the severity of the selected rows",
            trigger: ".o_data_row:contains(Tour Severity One) td[name='severity']",
            run: "click",
        },
        {
            trigger: ".o_data_row.o_selected_row td[name='severity'] select",
            run: 'select "high"',
        },
        {
            content: "Confirm the change for both complaints",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o_list_unselect_all",
            run: "click",
        },
        {
            content: "Both show High, in the warning colour",
            trigger: ".o_data_row:contains(Tour Severity One) td[name='severity'].text-warning:contains(High)",
        },
        {
            trigger: ".o_data_row:contains(Tour Severity Two) td[name='severity'].text-warning:contains(High)",
        },
        {
            content: "Open the first complaint",
            trigger: ".o_data_row:contains(Tour Severity One) td[name='subject']",
            run: "click",
        },
        {
            content: "Choose Critical among the severity badges",
            trigger: ".o_field_selection_badge[name='severity'] .o_selection_badge:contains(Critical)",
            run: "click",
        },
        {
            content: "Critical is chosen",
            trigger: ".o_field_selection_badge[name='severity'] .o_selection_badge.active:contains(Critical)",
        },
        {
            content: "A critical complaint asks for a review",
            trigger: "button[name='action_request_review']",
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_form_saved",
        },
        {
            trigger: "body:not(:has(.o_error_dialog, .modal))",
        },
    ],
});
