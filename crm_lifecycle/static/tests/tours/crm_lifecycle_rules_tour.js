import { registry } from "@web/core/registry";

// A lifecycle manager (a sales manager, not an administrator) changes the lifecycle rules of their
// company: a threshold, then the churn risk points, which show their sum while they are typed.
// Data: tests/test_tour.py, TestLifecycleRulesTour.
registry.category("web_tour.tours").add("crm_lifecycle_rules_tour", {
    steps: () => [
        {
            content: "The thresholds can be typed in",
            trigger: ".o_form_view .o_field_widget[name='lifecycle_client_min_orders'] input",
            run: "edit 3 && press Tab",
        },
        {
            trigger: ".o_field_widget[name='lifecycle_churn_weight_recency'] input",
            run: "edit 40 && press Tab",
        },
        {
            content: "The points now add up to 105, and the form says so before saving",
            trigger: ".o_field_widget[name='lifecycle_churn_weight_total']:contains(105)",
        },
        {
            trigger: ".o_lifecycle_weight_warning",
        },
        {
            trigger: ".o_field_widget[name='lifecycle_churn_weight_no_contact'] input",
            run: "edit 10 && press Tab",
        },
        {
            content: "Back to 100: no warning",
            trigger: ".o_field_widget[name='lifecycle_churn_weight_total']:contains(100)",
        },
        {
            trigger: ".o_form_view:not(:has(.o_lifecycle_weight_warning))",
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
