"""The ground: Apps-list metadata, access rights on every model, install and uninstall."""

import ast
from pathlib import Path

import pytest

from odoo.tests import TransactionCase, tagged

from .scratch import odoo_run as _odoo
from .scratch import query as _query
from .scratch import scratch_database

ROOT = Path(__file__).resolve().parents[1]
ADDON_DIR = ROOT / "crm_lifecycle"
MANIFEST = ast.literal_eval((ADDON_DIR / "__manifest__.py").read_text())

# Who may do what on each model the addon defines: group xml id -> "rwcu" letters.
# A model added without a decision here fails test_every_model_has_access_rules.
USER = "crm_lifecycle.crm_lifecycle_group_user"
MANAGER = "crm_lifecycle.crm_lifecycle_group_manager"
COMPLAINT_USER = "crm_lifecycle.crm_lifecycle_group_complaint_user"
COMPLAINT_MANAGER = "crm_lifecycle.crm_lifecycle_group_complaint_manager"
PORTAL = "base.group_portal"
SALESMAN = "sales_team.group_sale_salesman"
SALES_MANAGER = "sales_team.group_sale_manager"
INTERNAL = "base.group_user"
EXPECTED_ACCESS = {
    # an audit trail: read by lifecycle users, written only by the computation and the override wizard
    "crm.ladder.history": {USER: "r", MANAGER: "r"},
    "crm.ladder.override": {MANAGER: "rwcu"},
    # where the nightly run stands: written by the run itself (as superuser), read by managers
    "crm.lifecycle.run": {MANAGER: "r"},
    # complaints: agents handle theirs (no deleting), managers everything; customers read theirs on the portal;
    # salespeople handle theirs and their customers' (record rule crm_complaint_rule_salesman)
    "crm.complaint": {COMPLAINT_USER: "rwc", COMPLAINT_MANAGER: "rwcu", PORTAL: "r", SALESMAN: "rwc"},
    "crm.complaint.stage": {COMPLAINT_USER: "r", COMPLAINT_MANAGER: "rwcu", PORTAL: "r", SALESMAN: "r"},
    "crm.complaint.sla": {COMPLAINT_USER: "r", COMPLAINT_MANAGER: "rwcu", SALESMAN: "r"},
    "crm.complaint.review": {COMPLAINT_MANAGER: "rwcu"},
    # the analysis: read, within the complaints' own record rules; lifecycle managers read all of it (the
    # complaint figures of their dashboard)
    "crm.complaint.report": {COMPLAINT_USER: "r", MANAGER: "r"},
    # care: managers configure the rules; salespeople read them, read their customers' log (record rules)
    # and send one-to-one care; the log is written by the run, the holidays by the install
    "crm.care.rule": {USER: "r", MANAGER: "rwcu"},
    "crm.care.occasion": {USER: "r", MANAGER: "rwcu"},
    "crm.care.holiday": {USER: "r"},
    "crm.care.log": {USER: "r", MANAGER: "r"},
    "crm.care.preview": {MANAGER: "rwcu"},
    "crm.care.preview.line": {MANAGER: "rwcu"},
    "crm.care.send": {USER: "rwcu"},
    # the company's retention figures: for managers
    "crm.lifecycle.retention.report": {MANAGER: "r"},
    "crm.lifecycle.cohort.report": {MANAGER: "r"},
    # leads: the regions members' assignment rules read (every internal user reads them, sales managers set
    # them); the portfolio handover is the sales managers'; the funnel is read within the leads' own rules
    "crm.region": {INTERNAL: "r", SALES_MANAGER: "rwcu"},
    "crm.portfolio.handover": {SALES_MANAGER: "rwcu"},
    "crm.lifecycle.funnel.report": {SALESMAN: "r"},
}


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestAppsMetadata(TransactionCase):
    def test_apps_list_shows_the_addon(self):
        module = self.env["ir.module.module"].search([("name", "=", "crm_lifecycle")])
        self.assertEqual(module.state, "installed")
        self.assertEqual(module.shortdesc, "Customer Lifecycle")
        self.assertTrue(module.application, "it must be listed as an app")
        self.assertEqual(module.category_id, self.env.ref("base.module_category_sales_crm"))
        self.assertEqual(module.license, "LGPL-3")
        self.assertEqual(module.latest_version, MANIFEST["version"])
        self.assertTrue(module.summary)
        self.assertEqual(module.icon, "/crm_lifecycle/static/description/icon.png")
        self.assertIn("relationship ladder", module.description_html)

    def test_manifest(self):
        for key in ("summary", "description", "website", "author", "maintainers"):
            self.assertTrue(MANIFEST.get(key), f"manifest key {key} is empty")
        needed = {"crm", "sale_management", "account", "mail", "sms", "portal", "rating"}
        self.assertLessEqual(needed, set(MANIFEST["depends"]))
        icon = (ADDON_DIR / "static/description/icon.png").read_bytes()
        self.assertEqual(icon[:8], b"\x89PNG\r\n\x1a\n", "the icon must be a PNG")
        for path in MANIFEST["data"] + MANIFEST.get("demo", []):
            self.assertTrue((ADDON_DIR / path).is_file(), f"{path} is listed in the manifest but missing")

    def test_menu_is_reachable(self):
        root = self.env.ref("crm_lifecycle.crm_lifecycle_menu_root")
        self.assertEqual(root.web_icon, "crm_lifecycle,static/description/icon.png")
        self.assertIn(self.env.ref("crm_lifecycle.crm_lifecycle_group_user"), root.groups_id)
        customers = self.env.ref("crm_lifecycle.res_partner_menu_customers")
        self.assertEqual(customers.parent_id, root)
        self.assertEqual(customers.action, self.env.ref("crm_lifecycle.res_partner_action_customers"))


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestAccessRights(TransactionCase):
    def _addon_models(self):
        data = self.env["ir.model.data"].search([("module", "=", "crm_lifecycle"), ("model", "=", "ir.model")])
        models = self.env["ir.model"].browse(data.mapped("res_id"))
        return {
            m.model
            for m in models
            if self.env[m.model]._original_module == "crm_lifecycle" and not self.env[m.model]._abstract
        }

    def test_every_model_has_access_rules(self):
        models = self._addon_models()
        self.assertEqual(
            models, set(EXPECTED_ACCESS), "every model of the addon needs an access decision in EXPECTED_ACCESS"
        )
        for model, expected in EXPECTED_ACCESS.items():
            accesses = self.env["ir.model.access"].search([("model_id.model", "=", model)])
            self.assertFalse(accesses.filtered(lambda a: not a.group_id), f"{model}: access granted to everyone")
            actual = {}
            for access in accesses:
                xmlid = access.group_id.get_external_id()[access.group_id.id]
                perms = "".join(
                    letter
                    for letter, field in zip(
                        "rwcu", ("perm_read", "perm_write", "perm_create", "perm_unlink"), strict=True
                    )
                    if access[field]
                )
                actual[xmlid] = "".join(sorted(set(actual.get(xmlid, "") + perms)))
            self.assertEqual(actual, {g: "".join(sorted(p)) for g, p in expected.items()}, model)

    def test_groups_chain(self):
        user_group = self.env.ref("crm_lifecycle.crm_lifecycle_group_user")
        manager_group = self.env.ref("crm_lifecycle.crm_lifecycle_group_manager")
        self.assertIn(user_group, manager_group.implied_ids)
        self.assertIn(user_group, self.env.ref("sales_team.group_sale_salesman").implied_ids)
        self.assertIn(manager_group, self.env.ref("sales_team.group_sale_manager").implied_ids)
        self.assertIn(manager_group, self.env.ref("base.user_admin").groups_id)


# --- install / uninstall, on a copy of the template database, in separate Odoo processes ---------

scratch_db = pytest.fixture(scratch_database)

OWN_INDEXES = ("account_move_crm_lifecycle_partner_index_v2", "sale_order_crm_lifecycle_partner_index")
CUSTOMER_MOVES = "state = 'posted' AND move_type IN ('out_invoice', 'out_refund')"
REPORT_VIEWS = (
    "SELECT c.relname, c.relkind, c.relispopulated,"
    " EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique)"
    " FROM pg_class c WHERE c.relname IN ('crm_lifecycle_retention_report', 'crm_lifecycle_cohort_report')"
    " ORDER BY c.relname"
)
DASHBOARD_COUNT = "SELECT count(*) FROM spreadsheet_dashboard WHERE name->>'en_US' = 'Customer Lifecycle'"


def test_install_uninstall_reinstall(scratch_db, tmp_path):
    db = scratch_db
    posted_before = _query(db, f"SELECT id FROM account_move WHERE {CUSTOMER_MOVES}")
    from_orders_before = _query(
        db,
        "SELECT DISTINCT l.move_id FROM account_move_line l JOIN sale_order_line_invoice_rel r"
        " ON r.invoice_line_id = l.id JOIN account_move m ON m.id = l.move_id"
        " WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')",
    )
    _odoo(["-d", db, "-i", "crm_lifecycle", "--stop-after-init"], tmp_path / "install.log")
    assert _query(db, "SELECT state FROM ir_module_module WHERE name='crm_lifecycle'") == [("installed",)]
    # the invoices already in the books get their cost and origin at install, as posting gives them
    assert posted_before, "the template has posted customer invoices"
    ids = [r[0] for r in posted_before]
    assert _query(db, "SELECT count(*) FROM account_move WHERE id = ANY(%s) AND lifecycle_cost IS NULL", (ids,)) == [
        (0,)
    ]
    assert _query(db, "SELECT count(*) FROM account_move WHERE id = ANY(%s) AND lifecycle_cost > 0", (ids,))[0][0] > 0
    assert sorted(
        _query(db, "SELECT id FROM account_move WHERE id = ANY(%s) AND lifecycle_from_order", (ids,))
    ) == sorted(from_orders_before)
    assert _query(db, "SELECT count(*) FROM pg_class WHERE relname = ANY(%s)", (list(OWN_INDEXES),)) == [(2,)]
    demo_partners = _query(db, "SELECT count(*) FROM res_partner WHERE name = 'Golden Gate Manufacturing'")
    assert demo_partners == [(1,)], "the demo customers are installed"
    assert _query(db, DASHBOARD_COUNT) == [(1,)], "the Customer Lifecycle dashboard is in the Dashboards app"
    # the retention and cohort reports are stored, with the unique index a concurrent refresh needs
    assert _query(db, REPORT_VIEWS) == [
        ("crm_lifecycle_cohort_report", "m", True, True),
        ("crm_lifecycle_retention_report", "m", True, True),
    ]

    own_models = [
        r[0]
        for r in _query(
            db,
            # models of this addon alone (not those it extends, which other modules own too)
            "SELECT m.model FROM ir_model m JOIN ir_model_data d ON d.model='ir.model' AND d.res_id=m.id "
            "GROUP BY m.model HAVING bool_and(d.module = 'crm_lifecycle')",
        )
    ]
    own_columns = _query(
        db,
        "SELECT m.model, f.name FROM ir_model_fields f JOIN ir_model m ON m.id=f.model_id "
        "JOIN ir_model_data d ON d.model='ir.model.fields' AND d.res_id=f.id "
        "WHERE f.store AND f.ttype NOT IN ('one2many', 'many2many') "
        "GROUP BY m.model, f.name HAVING bool_and(d.module = 'crm_lifecycle')",
    )
    assert (
        _query(
            db,
            "SELECT count(*) FROM ir_ui_menu m JOIN ir_model_data d ON d.model='ir.ui.menu' "
            "AND d.res_id=m.id WHERE d.module='crm_lifecycle'",
        )[0][0]
        > 0
    )

    uninstall = (
        "env['ir.module.module'].search([('name', '=', 'crm_lifecycle')]).button_immediate_uninstall()\n"
        "env.cr.commit()\n"
    )
    _odoo(["-d", db, "--no-http"], tmp_path / "uninstall.log", stdin=uninstall, command=["shell"])
    assert _query(db, "SELECT state FROM ir_module_module WHERE name='crm_lifecycle'") == [("uninstalled",)]
    assert _query(db, "SELECT count(*) FROM ir_model_data WHERE module='crm_lifecycle'") == [(0,)]
    assert _query(db, "SELECT count(*) FROM res_partner WHERE name = 'Golden Gate Manufacturing'") == [(0,)]
    assert _query(db, DASHBOARD_COUNT) == [(0,)], "the dashboard goes with the addon"
    assert _query(
        db,
        "SELECT count(*) FROM ir_attachment WHERE res_model = 'spreadsheet.dashboard' AND res_id NOT IN"
        " (SELECT id FROM spreadsheet_dashboard)",
    ) == [(0,)], "its spreadsheet file goes too"
    assert own_models and own_columns
    assert _query(db, "SELECT count(*) FROM ir_ui_view WHERE arch_fs LIKE 'crm_lifecycle/%%'") == [(0,)]
    assert _query(db, "SELECT count(*) FROM pg_class WHERE relname = ANY(%s)", (list(OWN_INDEXES),)) == [(0,)]
    assert _query(db, REPORT_VIEWS) == [], "the reports' materialized views go too"
    for model in own_models:
        table = model.replace(".", "_")
        assert _query(db, "SELECT to_regclass(%s)", (table,)) == [(None,)], f"table {table} left behind"
    for model, column in own_columns:
        table = model.replace(".", "_")
        left = _query(
            db,
            "SELECT count(*) FROM information_schema.columns WHERE table_name=%s AND column_name=%s",
            (table, column),
        )
        assert left == [(0,)], f"column {table}.{column} left behind"

    _odoo(["-d", db, "-i", "crm_lifecycle", "--stop-after-init"], tmp_path / "reinstall.log")
    assert _query(db, "SELECT state FROM ir_module_module WHERE name='crm_lifecycle'") == [("installed",)]
