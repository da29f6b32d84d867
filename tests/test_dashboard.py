"""The Customer Lifecycle dashboard of the Dashboards app: who sees it, what its data sources read, that
its titles are exported for translation, and, in the browser, the figures it shows."""

import ast
import json
import re
from pathlib import Path

from odoo import Command
from odoo.exceptions import AccessError
from odoo.osv import expression
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools.translate import TranslationModuleReader

from odoo.addons.spreadsheet.utils.validate_data import fields_in_spreadsheet

from .common import GROUP_LIFECYCLE_MANAGER, GROUP_SALESMAN, LifecycleCase

FILES = Path(__file__).resolve().parents[1] / "crm_lifecycle" / "data" / "files"
DASHBOARD = FILES / "customer_lifecycle_dashboard.json"
SAMPLE = FILES / "customer_lifecycle_sample_dashboard.json"
XMLID = "crm_lifecycle.spreadsheet_dashboard_lifecycle"
MENU = "crm_lifecycle.spreadsheet_dashboard_menu_lifecycle"
# the formulas that read Odoo's data, with literal arguments only
FORMULA = re.compile(r"\b(PIVOT\.VALUE|PIVOT\.HEADER|ODOO\.LIST\.HEADER|ODOO\.LIST)\(([^()]*)\)")
LABEL = re.compile(r'^=_t\("((?:[^"\\]|\\.)*)"\)$')


def load(path):
    return json.loads(path.read_text())


def formulas(data):
    """(sheet name, cell, function, [arguments]) of every Odoo formula of the spreadsheet."""
    for sheet in data["sheets"]:
        for xc, cell in sheet["cells"].items():
            for function, args in FORMULA.findall(cell.get("content", "")):
                yield sheet["name"], xc, function, ast.literal_eval(f"[{args}]")


def data_cells(data):
    return next(sheet for sheet in data["sheets"] if sheet["name"] == "Data")["cells"]


def figure_cell(data, field, key):
    """The Data sheet's cell counting the group `key` of `field` (e.g. the customers on a rung)."""
    for xc, cell in data_cells(data).items():
        if xc.startswith("B") and f'"{field}","{key}")' in cell.get("content", ""):
            return f"Data!{xc}"
    raise AssertionError(f"no Data cell counts {field} = {key}")


def kpi_cell(data, name):
    """The Data sheet's value of the figure named `name` in its column A."""
    cells = data_cells(data)
    for xc, cell in cells.items():
        if xc.startswith("A") and cell.get("content") == f'=_t("{name}")':
            return f"Data!B{xc[1:]}"
    raise AssertionError(f"no Data row {name}")


def domain_fields(domain):
    return [leaf[0] for leaf in domain if isinstance(leaf, list | tuple)]


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestDashboardData(TransactionCase):
    """What the JSON reads exists: a renamed or removed field, measure or selection value fails here
    (in the browser it would only show as an error in a cell)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data = load(DASHBOARD)
        cls.sample = load(SAMPLE)

    def field(self, model, chain):
        """fields_get() of the last field of `chain` on `model` (as the web client reads it)."""
        names = chain.split(".")
        for name in names[:-1]:
            self.assertIn(name, self.env[model]._fields, f"{model}.{chain}")
            model = self.env[model]._fields[name].comodel_name
        description = self.env[model].fields_get([names[-1]], ["type", "groupable", "aggregator", "sortable",
                                                                "selection", "relation"])  # fmt: skip
        self.assertIn(names[-1], description, f"{model} has no field {names[-1]} (in {chain})")
        return description[names[-1]]

    def check_domain(self, model, domain, where):
        expression.expression(domain, self.env[model])  # unknown fields and operators raise here
        for chain in domain_fields(domain):
            self.field(model, chain)

    def check_group_by(self, model, spec, where):
        name, _sep, granularity = spec.partition(":")
        field = self.field(model, name)
        self.assertTrue(field["groupable"], f"{where}: {model}.{name} cannot be grouped by")
        if granularity:
            self.assertIn(field["type"], ("date", "datetime"), f"{where}: {model}.{name} has no {granularity}")

    def check_matching(self, model, matching, where):
        for match in matching.values():
            field = self.field(model, match["chain"])
            self.assertEqual(field["type"], match["type"], f"{where}: the period filter's field type")

    def test_odoo_validation(self):
        """What Odoo itself checks when it loads a spreadsheet."""
        for model, chains in fields_in_spreadsheet(self.data).items():
            self.assertIn(model, self.env)
            for chain in chains:
                self.field(model, chain)

    def test_pivots(self):
        pivots = self.data["pivots"]
        self.assertTrue(pivots)
        for pid, pivot in pivots.items():
            model, where = pivot["model"], f"pivot {pid} ({pivot['name']})"
            self.assertIn(model, self.env, where)
            self.check_domain(model, pivot["domain"], where)
            for dimension in pivot["rows"] + pivot["columns"]:
                spec = dimension["fieldName"] + (f":{dimension['granularity']}" if "granularity" in dimension else "")
                self.check_group_by(model, spec, where)
            for measure in pivot["measures"]:
                if measure["fieldName"] != "__count":
                    field = self.field(model, measure["fieldName"])
                    self.assertTrue(field["aggregator"], f"{where}: {measure['fieldName']} is not a measure")
            self.check_matching(model, pivot["fieldMatching"], where)
            if pivot.get("actionXmlId"):
                self.assertEqual(self.env.ref(pivot["actionXmlId"]).res_model, model, where)

    def test_odoo_charts_and_lists(self):
        charts = [
            figure["data"]
            for sheet in self.data["sheets"]
            for figure in sheet["figures"]
            if figure["data"]["type"].startswith("odoo_")
        ]
        self.assertTrue(charts)
        for chart in charts:
            model, where = chart["metaData"]["resModel"], f"chart {chart['type']} of {chart['metaData']['resModel']}"
            self.check_domain(model, chart["searchParams"]["domain"], where)
            for spec in chart["metaData"]["groupBy"]:
                self.check_group_by(model, spec, where)
            if chart["metaData"]["measure"] != "__count":
                self.assertTrue(self.field(model, chart["metaData"]["measure"])["aggregator"], where)
            self.check_matching(model, chart["fieldMatching"], where)
        for lid, spec in self.data["lists"].items():
            model, where = spec["model"], f"list {lid}"
            self.check_domain(model, spec["domain"], where)
            for name in spec["columns"]:
                self.field(model, name)
            for order in spec["orderBy"]:
                self.assertTrue(self.field(model, order["name"])["sortable"], where)

    def test_formulas(self):
        """Every PIVOT and ODOO.LIST formula names a measure of its pivot, a dimension of it and, for a
        selection, one of its values; a list's field is one of the list's columns."""
        pivots, lists = self.data["pivots"], self.data["lists"]
        seen = set()
        for sheet, xc, function, args in formulas(self.data):
            where = f"{sheet}!{xc} {function}{tuple(args)}"
            source_id = str(args[0])
            if function.startswith("ODOO.LIST"):
                self.assertIn(source_id, lists, where)
                self.assertIn(args[-1], lists[source_id]["columns"], where)
                continue
            self.assertIn(source_id, pivots, where)
            pivot = pivots[source_id]
            measures = {m["id"] for m in pivot["measures"]}
            dimensions = {d["fieldName"] + (f":{d['granularity']}" if "granularity" in d else "")
                          for d in pivot["rows"] + pivot["columns"]}  # fmt: skip
            pairs = args[2:] if function == "PIVOT.VALUE" else args[1:]
            if function == "PIVOT.VALUE":
                self.assertIn(args[1], measures, where)
            self.assertEqual(len(pairs) % 2, 0, where)
            for spec, value in zip(pairs[::2], pairs[1::2], strict=True):
                if spec == "measure":
                    self.assertIn(value, measures, where)
                    continue
                positional = spec.startswith("#")
                spec = spec.lstrip("#")
                self.assertIn(spec, dimensions, where)
                field = self.field(pivot["model"], spec.partition(":")[0])
                if positional:
                    self.assertIsInstance(value, int, where)
                elif field["type"] == "selection":
                    self.assertIn(value, dict(field["selection"]), where)
                    seen.add((pivot["model"], spec, value))
        self.assertIn(("res.partner", "ladder_stage", "advocate"), seen)

    def test_labels_are_the_fields(self):
        """The Data sheet names each group of a chart by its field's label: the server's (PIVOT.HEADER, in the
        user's language) or, for an empty group, a source the user may not read and in the sample, the field's
        own words (so translated as the field is): a renamed selection value shows here."""
        counts = {
            xc[1:]: ast.literal_eval(f"[{match[1]}]")
            for xc, cell in data_cells(self.data).items()
            if xc.startswith("B") and (match := re.fullmatch(r"=INT\(PIVOT\.VALUE\(([^()]*)\)\)", cell["content"]))
        }
        self.assertGreater(len(counts), 30)
        sample, data = data_cells(self.sample), data_cells(self.data)
        for row, args in counts.items():
            label = LABEL.match(sample[f"A{row}"]["content"])
            self.assertTrue(label, f"sample Data!A{row}")
            pivot = self.data["pivots"][str(args[0])]
            field = self.field(pivot["model"], args[-2])
            self.assertEqual(label[1], dict(field["selection"])[args[-1]], f"Data!A{row}")
            pid, measure, name, key = args[0], pivot["measures"][0]["fieldName"], args[-2], args[-1]
            self.assertEqual(
                data[f"A{row}"]["content"],
                f'=IFERROR(IF(INT(PIVOT.VALUE({pid},"{measure}","{name}","{key}"))=0,_t("{label[1]}"),'
                f'PIVOT.HEADER({pid},"{name}","{key}")),_t("{label[1]}"))',
                f"Data!A{row}",
            )

    def test_sample_has_no_data_sources(self):
        """The sample (shown while the books are empty) reads nothing from the database, as Odoo's do."""
        self.assertEqual(list(formulas(self.sample)), [])
        self.assertFalse(self.sample["pivots"] or self.sample["lists"] or self.sample["globalFilters"])
        types = {figure["data"]["type"] for sheet in self.sample["sheets"] for figure in sheet["figures"]}
        self.assertFalse({t for t in types if t.startswith("odoo_")})
        self.assertEqual(
            len(self.sample["sheets"][0]["figures"]), len(self.data["sheets"][0]["figures"]), "the same layout"
        )

    def test_record(self):
        dashboard = self.env.ref(XMLID)
        self.assertEqual(
            dashboard.dashboard_group_id, self.env.ref("spreadsheet_dashboard.spreadsheet_dashboard_group_sales")
        )
        self.assertEqual(dashboard.group_ids, self.env.ref(GROUP_LIFECYCLE_MANAGER))
        self.assertTrue(dashboard.is_published)
        self.assertEqual(json.loads(dashboard.spreadsheet_data), self.data, "the record holds the file")
        menu = self.env.ref(MENU)
        self.assertEqual(menu.parent_id, self.env.ref("crm_lifecycle.crm_lifecycle_menu_reporting"))
        self.assertEqual(menu.action.tag, "action_spreadsheet_dashboard")
        self.assertEqual(menu.action.params, {"dashboard_id": dashboard.id})
        self.assertEqual(menu.groups_id, self.env.ref(GROUP_LIFECYCLE_MANAGER))

    def test_titles_are_exported_for_translation(self):
        """Odoo's export (what `make i18n` runs) puts the dashboard's titles into the addon's .pot as web
        client terms, and its name as the record's term."""
        reader = TranslationModuleReader(self.env.cr, modules=["crm_lifecycle"])
        terms = {}
        for module, ttype, _name, _res_id, source, _value, comments in reader:
            if module == "crm_lifecycle":
                terms.setdefault(source, set()).update((ttype, *comments))
        for title in ("Customers per rung", "Rung moves per month", "Lifecycle funnel", "SLA status",
                      "Care effect per rule", "Churn rate per month", "Customers per RFM segment", "Period",
                      "High churn risk", "prospects", "Paying customers", "Customer Lifecycle"):  # fmt: skip
            self.assertIn(title, terms, f"{title!r} is not exported")
        self.assertIn("odoo-javascript", terms["Customers per rung"], "the web client translates the JSON's terms")
        self.assertIn("model", terms["Customer Lifecycle"])


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestDashboardAccess(LifecycleCase):
    """Managers see the dashboard, from the menu and in the Dashboards app; salespeople see neither."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dashboard = cls.env.ref(XMLID)
        cls.lifecycle_manager = new_test_user(
            cls.env,
            login="dashboard_lifecycle_manager",
            groups=f"base.group_user,{GROUP_LIFECYCLE_MANAGER}",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def visible_dashboards(self, user):
        """What the Dashboards app lists for `user` (its loader reads the groups' published dashboards)."""
        groups = (
            self.env["spreadsheet.dashboard.group"].with_user(user).search([("published_dashboard_ids", "!=", False)])
        )
        return groups.published_dashboard_ids

    def menu_ids(self, user):
        return set(self.env["ir.ui.menu"].with_user(user).load_menus(debug=False))

    def test_manager_sees_the_dashboard(self):
        self.assertIn(self.dashboard, self.visible_dashboards(self.manager))
        self.assertIn(self.env.ref(MENU).id, self.menu_ids(self.manager))
        loaded = self.dashboard.with_user(self.manager).get_readonly_dashboard()
        self.assertNotIn("is_sample", loaded, "there are rung moves: the real dashboard, not the sample")
        self.assertEqual(loaded["snapshot"]["pivots"].keys(), load(DASHBOARD)["pivots"].keys())

    def test_salesperson_sees_neither(self):
        self.assertIn(self.env.ref(GROUP_SALESMAN), self.salesman.groups_id)
        self.assertNotIn(self.dashboard, self.visible_dashboards(self.salesman))
        self.assertFalse(
            self.env["spreadsheet.dashboard"].with_user(self.salesman).search([("id", "=", self.dashboard.id)])
        )
        with self.assertRaises(AccessError):
            self.dashboard.with_user(self.salesman).read(["name"])
        self.assertNotIn(self.env.ref(MENU).id, self.menu_ids(self.salesman))
        # the other dashboards of the Sales group are not this addon's to hide
        self.assertIn(self.env.ref("crm_lifecycle.crm_lifecycle_menu_reporting").id, self.menu_ids(self.salesman))

    def test_lifecycle_manager_reads_every_source(self):
        """A lifecycle manager who handles no complaint (and is no salesperson) reads what the dashboard
        shows, except the leads of the funnel, which are Odoo's salespeople's."""
        data = load(DASHBOARD)
        user = self.lifecycle_manager
        models = {pivot["model"] for pivot in data["pivots"].values()}
        models |= {spec["model"] for spec in data["lists"].values()}
        models |= {figure["data"]["metaData"]["resModel"] for sheet in data["sheets"] for figure in sheet["figures"]
                   if figure["data"]["type"].startswith("odoo_")}  # fmt: skip
        self.assertIn(self.dashboard, self.visible_dashboards(user))
        for model in sorted(models - {"crm.lead"}):
            self.env[model].with_user(user).read_group([], [], [])
        with self.assertRaises(AccessError):
            self.env["crm.lead"].with_user(user).read_group([], [], [])


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestDashboardTour(HttpCase, LifecycleCase):
    def test_dashboard_shows_the_figures(self):
        """The manager opens Customer Lifecycle > Reporting > Dashboard: the customers per rung and the
        open complaints include the test's own, as the ORM counts them for that manager."""
        data = load(DASHBOARD)
        pivot = data["pivots"]["1"]
        Partner = self.env["res.partner"].with_user(self.manager)

        def per_rung():
            groups = dict(Partner._read_group(pivot["domain"], ["ladder_stage"], ["__count"]))
            return {key: groups.get(key, 0) for key, _label in Partner._fields["ladder_stage"].selection}

        before = per_rung()
        two_orders = self.customer("Dashboard Client Ltd")
        self.order(two_orders, days_ago=40)
        self.order(two_orders, days_ago=4)
        for name in ("Dashboard Customer One Ltd", "Dashboard Customer Two Ltd"):
            self.order(self.customer(name), days_ago=10)
        self.customer("Dashboard Prospect Ltd")
        self.assertEqual(two_orders.ladder_stage, "client")
        after = per_rung()
        created = {key: after[key] - before[key] for key in after}
        self.assertEqual(created, {"prospect": 1, "customer": 2, "client": 1, "supporter": 0, "advocate": 0,
                                   "partner": 0})  # fmt: skip

        complaint = self.env["crm.complaint"].create(
            {"subject": "Dashboard: late delivery", "partner_id": two_orders.id, "category": "delivery"}
        )
        open_complaints = (
            self.env["crm.complaint.report"].with_user(self.manager).search_count([("is_closed", "=", False)])
        )
        self.assertEqual(open_complaints, 1, "the manager sees the test company's complaint only")
        self.assertEqual(complaint.company_id, self.company)

        customers = sum(after.values()) - after["prospect"]
        cells = {figure_cell(data, "ladder_stage", key): count for key, count in after.items()}
        # the rungs named as the server names them (PIVOT.HEADER) where they have customers
        for key, label in Partner._fields["ladder_stage"].selection:
            if after[key]:
                cells[figure_cell(data, "ladder_stage", key).replace("!B", "!A")] = label
        cells[kpi_cell(data, "Customers with a purchase")] = customers
        cells[kpi_cell(data, "Open complaints")] = open_complaints
        cells[figure_cell(data, "category", "delivery")] = 1  # complaints of the period per category
        # the chart of the rungs and the Customers scorecard
        rungs = [figure_cell(data, "ladder_stage", key) for key in ("prospect", "partner")]
        labels = f"Data!A{rungs[0].removeprefix('Data!B')}:A{rungs[1].removeprefix('Data!B')}"
        figures = data["sheets"][0]["figures"]
        rung_chart = next(f["id"] for f in figures if f["data"].get("labelRange") == labels)
        scorecard = next(f["id"] for f in figures if f["data"]["title"].get("text") == "Paying customers")
        charts = {rung_chart: [list(after.values())], scorecard: str(customers)}
        expected = {"cells": cells, "charts": charts}
        options = {"stepDelay": 0, "keepWatchBrowser": False, "debug": False, "startUrl": "/odoo"}
        self.start_tour(
            "/odoo",
            "crm_lifecycle_dashboard_tour",
            login=self.manager.login,
            code=f"window.crmLifecycleDashboardExpected = {json.dumps(expected)};"
            f" odoo.startTour('crm_lifecycle_dashboard_tour', {json.dumps(options)})",
        )
