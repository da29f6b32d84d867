import { registry } from "@web/core/registry";

// A customer on the portal: from /my to their complaints, files a new one with the form (the
// description holds markup, which must come back as plain text), lands on its page and writes to the
// team in the chatter. Data: tests/test_complaint_portal.py (the customer already has one complaint,
// so that the entry shows on /my).
registry.category("web_tour.tours").add("crm_complaint_portal_tour", {
    url: "/my",
    steps: () => [
        {
            content: "The complaints entry shows on the portal home once they are counted",
            trigger: ".o_portal_index_card a[href='/my/complaints']",
            run: "click",
        },
        {
            content: "The list holds the customer's earlier complaint",
            trigger: ".o_complaint_portal_row:contains(Portal Tour Earlier Complaint)",
        },
        {
            trigger: "a.o_complaint_portal_new",
            run: "click",
        },
        {
            trigger: "form.o_complaint_portal_form input[name='subject']",
            run: "edit Portal Tour Broken Machine",
        },
        {
            trigger: "form.o_complaint_portal_form select[name='category']",
            run: "select product",
        },
        {
            trigger: "form.o_complaint_portal_form textarea[name='description']",
            run: "edit It stopped on day two. <script>alert(1)</script>",
        },
        {
            trigger: "button.o_complaint_portal_submit",
            run: "click",
        },
        {
            content: "The new complaint's page shows its subject",
            trigger: "#complaint_header h3:contains(Portal Tour Broken Machine)",
        },
        {
            content: "The markup typed in the description is shown as text, never run",
            trigger: "#complaint_description:contains(alert):not(:has(script))",
        },
        {
            content: "The chatter lets the customer write",
            trigger: "#chatterRoot:shadow .o-mail-Composer-input",
            run: "edit Any news about my machine?",
        },
        {
            trigger: "#chatterRoot:shadow .o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "The reply appears in the thread",
            trigger: "#chatterRoot:shadow .o-mail-Message:contains(Any news about my machine?)",
        },
    ],
});
