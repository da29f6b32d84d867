import { registry } from "@web/core/registry";

// A salesperson narrows the customers to their own. Data: tests/test_tour.py, TestMyCustomersTour.
registry.category("web_tour.tours").add("crm_lifecycle_my_customers_tour", {
    steps: () => [
        {
            content: "Everybody's customers at first",
            trigger: ".o_data_row:contains(Tour Not Mine Ltd)",
        },
        {
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            trigger: ".o_filter_menu .dropdown-item:contains(My customers)",
            run: "click",
        },
        {
            content: "Their own customer stays",
            trigger: ".o_data_row:contains(Tour Mine Ltd)",
        },
        {
            content: "The others' are gone",
            trigger: ".o_list_renderer:not(:has(.o_data_row:contains(Tour Not Mine Ltd)))",
        },
    ],
});
