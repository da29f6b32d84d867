import { registry } from "@web/core/registry";

// The ladder as a salesperson meets it: the customer kanban in columns by rung, then the
// customer's form with the rung in the status bar and the Lifecycle tab explaining it.
registry.category("web_tour.tours").add("crm_lifecycle_ladder_tour", {
    url: "/odoo",
    steps: () => [
        {
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            trigger: ".o_app[data-menu-xmlid='crm_lifecycle.crm_lifecycle_menu_root']",
            run: "click",
        },
        {
            content: "Every rung is a column, even an empty one",
            trigger: ".o_kanban_group .o_column_title:contains(Advocate)",
        },
        {
            trigger: ".o_searchview_input",
            run: "edit Tour Ladder Client",
        },
        {
            trigger: ".dropdown-menu.o_searchview_autocomplete",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "The customer with two orders sits in the Client column",
            trigger:
                ".o_kanban_group:has(.o_column_title:contains(Client)) .o_kanban_record:contains(Tour Ladder Client Ltd)",
            run: "click",
        },
        {
            content: "The status bar shows the rung",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Client)",
        },
        {
            trigger: ".o_notebook .nav-link[name='crm_lifecycle']",
            run: "click",
        },
        {
            content: "The Lifecycle tab says why, and what the next rung needs",
            trigger: ".o_field_widget[name='ladder_reason']:contains(2 orders):contains(Next rung)",
        },
        {
            content: "The rung history lists the first placement",
            trigger: ".o_field_widget[name='ladder_history_ids'] .o_data_row:contains(First placement)",
        },
    ],
});
