import { registry } from "@web/core/registry";

// A lifecycle manager opens Customer Lifecycle > Reporting > Dashboard: the Dashboards app opens on
// the Customer Lifecycle dashboard (among Odoo's Sales dashboards), which loads its figures. The
// test puts what it expects in window.crmLifecycleDashboardExpected: {cells: {"Data!B31": 3, ...},
// charts: {figure id: [[values of each data set]] or the scorecard's value}}. The grid and the
// charts are drawn on canvases, so they are read from the dashboard's spreadsheet model.

function dashboardModel() {
    const stack = [odoo.__WOWL_DEBUG__.root.__owl__];
    while (stack.length) {
        const node = stack.pop();
        if (node.component.constructor.template === "spreadsheet_dashboard.DashboardAction") {
            return node.component.state.activeDashboard?.model;
        }
        stack.push(...Object.values(node.children));
    }
}

function cellAt(model, reference) {
    const [sheetName, xc] = reference.split("!");
    const sheetId = model.getters.getSheetIdByName(sheetName);
    const { toCartesian } = odoo.loader.modules.get("@odoo/o-spreadsheet").helpers;
    return model.getters.getEvaluatedCell({ sheetId, ...toCartesian(xc) });
}

async function checkFigures() {
    const model = dashboardModel();
    if (!model) {
        throw new Error("The dashboard's spreadsheet is not loaded");
    }
    const { waitForDataLoaded } = odoo.loader.modules.get("@spreadsheet/helpers/model");
    await waitForDataLoaded(model);
    const problems = [];
    const expected = window.crmLifecycleDashboardExpected;
    // the figures computed from the test's records
    for (const [reference, value] of Object.entries(expected.cells)) {
        const cell = cellAt(model, reference);
        if (cell.value !== value) {
            problems.push(`${reference} shows ${JSON.stringify(cell.value)}, expected ${value}`);
        }
    }
    // no cell of any sheet in error
    const { toXC } = odoo.loader.modules.get("@odoo/o-spreadsheet").helpers;
    for (const sheetId of model.getters.getSheetIds()) {
        const name = model.getters.getSheetName(sheetId);
        for (const position of model.getters.getEvaluatedCellsPositions(sheetId)) {
            const cell = model.getters.getEvaluatedCell(position);
            if (cell.type === "error") {
                const xc = toXC(position.col, position.row);
                problems.push(`${name}!${xc}: ${cell.value} ${cell.message || ""}`);
            }
        }
    }
    // every chart is drawn (its runtime builds), and those the test fed show its figures
    const dashboardSheet = model.getters.getSheetIdByName("Dashboard");
    for (const figure of model.getters.getFigures(dashboardSheet)) {
        const definition = model.getters.getChartDefinition(figure.id);
        let runtime;
        try {
            runtime = model.getters.getChartRuntime(figure.id);
        } catch (error) {
            problems.push(`chart ${figure.id} (${definition.type}): ${error.message}`);
            continue;
        }
        if (!(figure.id in expected.charts)) {
            continue;
        }
        const shown =
            definition.type === "scorecard"
                ? runtime.keyValue
                : runtime.chartJsConfig.data.datasets.map((dataset) => dataset.data);
        if (JSON.stringify(shown) !== JSON.stringify(expected.charts[figure.id])) {
            problems.push(
                `chart ${figure.id} (${definition.type}) shows ${JSON.stringify(shown)}, ` +
                    `expected ${JSON.stringify(expected.charts[figure.id])}`
            );
        }
    }
    if (problems.length) {
        throw new Error(`The dashboard shows wrong figures:\n${problems.join("\n")}`);
    }
}

registry.category("web_tour.tours").add("crm_lifecycle_dashboard_tour", {
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
            trigger: ".o_menu_sections button[data-menu-xmlid='crm_lifecycle.crm_lifecycle_menu_reporting']",
            run: "click",
        },
        {
            content: "Reporting > Dashboard",
            trigger: ".dropdown-item[data-menu-xmlid='crm_lifecycle.spreadsheet_dashboard_menu_lifecycle']",
            run: "click",
        },
        {
            content: "The Dashboards app opens on the Customer Lifecycle dashboard, among the Sales dashboards",
            trigger:
                ".o_search_panel_section:has(header:contains(Sales)) .o_search_panel_category_value.active[data-name='Customer Lifecycle']",
        },
        {
            content: "The dashboard itself, not its sample",
            trigger: ".o_spreadsheet_dashboard_action .o_renderer:not(.o-sample-dashboard) .o-grid",
            run: checkFigures,
        },
    ],
});
