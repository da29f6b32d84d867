import { registry } from "@web/core/registry";

// Opens the Customer Lifecycle app from the home menu and finds the customer the test created.
registry.category("web_tour.tours").add("crm_lifecycle_menu_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "Open the home menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open the Customer Lifecycle app",
            trigger: ".o_app[data-menu-xmlid='crm_lifecycle.crm_lifecycle_menu_root']",
            run: "click",
        },
        {
            content: "The Customers screen opens",
            trigger: ".o_breadcrumb:contains(Customers)",
        },
        {
            content: "Search for the customers created by the test",
            trigger: ".o_searchview_input",
            run: "edit Tour",
        },
        {
            trigger: ".dropdown-menu.o_searchview_autocomplete",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "The customer created by the test is listed",
            trigger: ".o_kanban_record:contains(Tour Ladder Customer Ltd)",
        },
        {
            content: "A contact person of that company is not listed as a customer",
            trigger: ".o_kanban_renderer:not(:has(.o_kanban_record:contains(Tour Contact Person)))",
        },
    ],
});
