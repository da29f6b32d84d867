"""The demo database and the reports, as a manager opening them sees them."""

from datetime import timedelta
from itertools import pairwise

from freezegun import freeze_time

from odoo import fields
from odoo.tests import TransactionCase, tagged

from odoo.addons.crm_lifecycle.models.lifecycle_engine import ENGINE_GUARD

from .common import LifecycleCase

DEMO = "crm_lifecycle.res_partner_{}_demo"


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestDemoData(TransactionCase):
    """The test database is built with demo data, as `make run` builds the demo database."""

    def test_every_rung_and_tier_comes_from_the_books(self):
        expected = {
            "harbor_bakery": "prospect",
            "lotus_tea": "prospect",
            "blue_ridge": "customer",
            "northwind": "client",
            "evergreen": "client",  # held back by an overdue invoice
            "maple_leaf": "supporter",
            "sunrise_dental": "advocate",
            "golden_gate": "partner",  # top revenue
            "crescent": "partner",  # strategic flag
            "pinecrest": "prospect",  # refunded
        }
        for name, stage in expected.items():
            partner = self.env.ref(DEMO.format(name))
            self.assertEqual(partner.ladder_stage, stage, name)
            self.assertFalse(partner.ladder_locked, "placed by the computation, not by hand")
        demo = self.env["res.partner"].browse([self.env.ref(DEMO.format(name)).id for name in expected])
        self.assertEqual(set(demo.mapped("value_tier")), {"lead", "iron", "gold", "platinum"})
        self.assertEqual(self.env.ref(DEMO.format("golden_gate")).value_tier, "platinum")
        self.assertEqual(self.env.ref(DEMO.format("silverline")).value_tier, "lead", "sold below cost")
        self.assertEqual(self.env.ref(DEMO.format("lotus_tea")).lifecycle_stage, "target")
        self.assertEqual(self.env.ref(DEMO.format("harbor_bakery")).lifecycle_stage, "potential")
        self.assertEqual(self.env.ref(DEMO.format("maple_leaf")).relationship_type, "relationship")
        pinecrest = self.env.ref(DEMO.format("pinecrest"))
        self.assertEqual(pinecrest.ladder_history_ids.mapped("direction"), ["down", "initial"])
        evergreen = self.env.ref(DEMO.format("evergreen"))
        self.assertIn("overdue more than 30 days", evergreen.ladder_reason)

    def test_demo_history_is_dated_when_the_books_say(self):
        maple = self.env.ref(DEMO.format("maple_leaf"))  # first order 18 months ago, a supporter since
        moves = maple.ladder_history_ids.sorted("date")
        # the month the oldest order left the last 12 months, it was a client again for a while
        self.assertEqual(moves.mapped("to_stage"), ["customer", "client", "supporter", "client", "supporter"])
        today = fields.Date.today()
        self.assertLess(moves[0].date.date(), today - timedelta(days=500), "first placed with its first order")
        self.assertLess(maple.ladder_since.date(), today - timedelta(days=30), "a supporter for months, not today")
        history = self.env["crm.ladder.history"].search(
            [("partner_id", "in", [self.env.ref(DEMO.format(n)).id for n in ("maple_leaf", "golden_gate")])]
        )
        self.assertGreater(len(set(history.mapped(lambda m: m.date.strftime("%Y-%m")))), 3, "moves over many months")
        # no partner went up and back down at once while the demo loaded
        for partner in history.partner_id:
            stages = partner.ladder_history_ids.sorted(lambda m: (m.date, m.id))
            pairs = list(pairwise(stages))
            self.assertFalse(
                [(a.to_stage, b.to_stage) for a, b in pairs if a.date == b.date and a.from_stage == b.to_stage],
                partner.name,
            )

    def test_demo_complaints_show_every_state_of_the_desk(self):
        complaints = self.env["crm.complaint"].search([("partner_id.name", "in", [
            "Silverline Retail", "Evergreen Schools", "Northwind Clinics", "Golden Gate Manufacturing"])])  # fmt: skip
        by_customer = {c.partner_id.name: c for c in complaints}
        self.assertEqual(by_customer["Silverline Retail"].sla_status, "breached")
        self.assertTrue(by_customer["Silverline Retail"].sla_escalated)
        self.assertEqual(by_customer["Evergreen Schools"].sla_status, "at_risk")
        self.assertEqual(by_customer["Northwind Clinics"].review_state, "to_review")
        self.assertEqual(by_customer["Golden Gate Manufacturing"].sla_status, "met")
        self.assertEqual(by_customer["Golden Gate Manufacturing"].rating_last_value, 5)
        self.assertEqual(self.env.ref("sales_team.team_sales_department").complaint_alias_name, "complaints")


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestReports(LifecycleCase):
    def test_customers_per_rung_and_tier(self):
        action = self.env.ref("crm_lifecycle.res_partner_action_lifecycle_report")
        views = self.env["res.partner"].get_views([(v.view_id.id, v.view_mode) for v in action.view_ids])
        self.assertIn('name="ladder_stage" type="row"', views["views"]["pivot"]["arch"])
        self.order(self.customer("Reported Customer"), days_ago=9)
        groups = self.env["res.partner"]._read_group(
            [("company_id", "=", self.company.id), ("ladder_stage", "=", "customer")],
            ["ladder_stage", "value_tier"],
            ["__count"],
        )
        # the twenty market customers (best 1 platinum, next 3 gold) and the new one, with a small margin
        self.assertEqual(
            {(stage, tier): count for stage, tier, count in groups},
            {("customer", "platinum"): 1, ("customer", "gold"): 3, ("customer", "iron"): 17},
        )

    def test_rungs_and_tiers_come_in_their_own_order(self):
        """Pivot and graph group by rung up the ladder and by tier up the pyramid, not alphabetically."""
        for index, name in enumerate(("Ordered One", "Ordered Two")):
            partner = self.customer(name)
            for days in range(index + 1):
                self.order(partner, days_ago=20 + days)
        groups = self.env["res.partner"].read_group(
            [("company_id", "=", self.company.id)], ["ladder_stage"], ["ladder_stage", "value_tier"], lazy=False
        )
        rungs = list(dict.fromkeys(g["ladder_stage"] for g in groups))
        self.assertEqual(rungs, ["customer", "client"])
        tiers = [g["value_tier"] for g in groups if g["ladder_stage"] == "customer"]
        self.assertEqual(tiers, sorted(tiers, key=["lead", "iron", "gold", "platinum"].index))
        moves = self.env["crm.ladder.history"].read_group(
            [("partner_id.company_id", "=", self.company.id)], ["to_stage"], ["to_stage"], lazy=False
        )
        self.assertEqual([g["to_stage"] for g in moves], ["customer", "client"])
        # the report counts customers (its measure is the count, not the revenue)
        action = self.env.ref("crm_lifecycle.res_partner_action_lifecycle_report")
        arch = self.env["res.partner"].get_views([(v.view_id.id, v.view_mode) for v in action.view_ids])
        self.assertNotIn('type="measure"', arch["views"]["pivot"]["arch"])

    def test_churn_risk_and_segments_come_in_their_own_order_and_are_counted(self):
        """Churn Risk and RFM Segments: high after medium after low, segments from champions to lost,
        reasons as listed (alphabetically "high" would come first and "at_risk" before "champions")."""
        values = [
            ("high", "lost", "service"),
            ("low", "champions", "other"),
            ("medium", "at_risk", "price"),
            ("low", "champions", "product"),
        ]
        partners = self.env["res.partner"].create(
            [{"name": f"Segment {i}", "is_company": True, "company_id": self.company.id} for i in range(len(values))]
        )
        for partner, (_level, _segment, reason) in zip(partners, values, strict=True):
            partner.with_user(self.manager).churn_reason = reason  # a person's choice, kept by the engine
        self.flush_tracking()
        with ENGINE_GUARD.allow():  # as the engine would have placed them
            for partner, (level, segment, _reason) in zip(partners, values, strict=True):
                partner.write({"churn_risk_level": level, "rfm_segment": segment})
        domain = [("id", "in", partners.ids)]
        Partner = self.env["res.partner"]
        levels = [g["churn_risk_level"] for g in Partner.read_group(domain, ["churn_risk_level"], ["churn_risk_level"])]
        self.assertEqual(levels, ["low", "medium", "high"])
        segments = [g["rfm_segment"] for g in Partner.read_group(domain, ["rfm_segment"], ["rfm_segment"])]
        self.assertEqual(segments, ["champions", "at_risk", "lost"])
        reasons = [g["churn_reason"] for g in Partner.read_group(domain, ["churn_reason"], ["churn_reason"])]
        self.assertEqual(reasons, ["service", "price", "product", "other"])
        # "Customers by churn risk and RFM segment" counts the customers (no other measure by default)
        action = self.env.ref("crm_lifecycle.res_partner_action_retention_report")
        arch = Partner.get_views([(v.view_id.id, v.view_mode) for v in action.view_ids])["views"]["pivot"]["arch"]
        self.assertNotIn('type="measure"', arch)

    def test_moves_between_rungs_per_month(self):
        partner = self.customer("Monthly Mover")
        _order, invoice = self.order(partner, days_ago=9)
        self.refund(invoice)
        this_month = fields.Date.today().replace(day=1)
        groups = self.env["crm.ladder.history"]._read_group(
            [("partner_id", "=", partner.id)], ["date:month", "direction"], ["__count"]
        )
        self.assertEqual(
            sorted((month.date(), direction, count) for month, direction, count in groups),
            [(this_month, "down", 1), (this_month, "initial", 1)],
        )
        action = self.env.ref("crm_lifecycle.crm_ladder_history_action_report")
        self.assertEqual(action.view_mode, "graph,pivot,list")

    def test_time_in_the_current_rung(self):
        partner = self.customer("Steady Customer")
        self.order(partner, days_ago=3)
        self.assertEqual(partner.ladder_days_in_stage, 0)
        with freeze_time(fields.Datetime.now() + timedelta(days=10)):
            partner.invalidate_recordset(["ladder_days_in_stage"])
            self.assertEqual(partner.ladder_days_in_stage, 10)
