"""The lifecycle funnel report on a hand-counted set: targets, potential, opportunities and signed, and
the conversion from stage to stage, per team, salesperson, source and period; leads and customers."""

from odoo.tests import tagged

from .common import AssignmentCase

MEASURES = ("target_count:sum", "potential_count:sum", "opportunity_count:sum", "signed_count:sum")
RATES = ("potential_rate:avg", "opportunity_rate:avg", "signed_rate:avg", "conversion_rate:avg")


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestLifecycleFunnel(AssignmentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fair = cls.env["utm.source"].create({"name": "Trade fair"})
        Lead = cls.env["crm.lead"]

        def leads(user, kind, count, **values):
            return Lead.create(
                [{"name": f"{user.name} {kind} {i}", "type": kind, "user_id": user.id, "team_id": cls.team.id,
                  **values} for i in range(count)]
            )  # fmt: skip

        # Alice: 2 targets (from the fair), 3 leads, 1 lead lost, 2 opportunities, 1 lost, 2 won
        leads(cls.alice, "lead", 2, lifecycle_targeted=True, source_id=cls.fair.id)
        leads(cls.alice, "lead", 3)
        leads(cls.alice, "lead", 1).action_set_lost()
        leads(cls.alice, "opportunity", 2, source_id=cls.fair.id)
        leads(cls.alice, "opportunity", 1).action_set_lost()
        leads(cls.alice, "opportunity", 2).action_set_won()
        # Bob: 1 lead and 1 won opportunity
        leads(cls.bob, "lead", 1)
        cls.bob_won = leads(cls.bob, "opportunity", 1)
        cls.bob_won.action_set_won()
        cls.env.flush_all()

    def funnel(self, domain, groupby=(), measures=MEASURES, user=None):
        Report = self.env["crm.lifecycle.funnel.report"]
        if user:
            Report = Report.with_user(user)
        return Report._read_group([("team_id", "=", self.team.id), *domain], list(groupby), list(measures))

    def test_counts_each_lead_at_every_stage_it_reached(self):
        [counts] = self.funnel([("kind", "=", "lead"), ("user_id", "=", self.alice.id)])
        self.assertEqual(counts, (11, 9, 5, 2))

    def test_conversion_rates_are_of_those_that_reached_the_stage_before(self):
        [rates] = self.funnel([("kind", "=", "lead"), ("user_id", "=", self.alice.id)], measures=RATES)
        # 9 of 11 got past target, 5 of those 9 became opportunities, 2 of those 5 signed: 2 of 11 in all
        self.assertEqual([round(rate, 2) for rate in rates], [81.82, 55.56, 40.0, 18.18])

    def test_per_salesperson_source_and_period(self):
        by_user = {user: counts for user, *counts in self.funnel([("kind", "=", "lead")], ["user_id"])}
        self.assertEqual(by_user, {self.alice: [11, 9, 5, 2], self.bob: [2, 2, 1, 1]})
        by_source = {source: counts for source, *counts in self.funnel([("kind", "=", "lead")], ["source_id"])}
        self.assertEqual(by_source[self.fair], [4, 2, 2, 0])
        # three of Alice's leads came in last year
        last_year = self.env["crm.lead"].search([("user_id", "=", self.alice.id), ("type", "=", "lead")], limit=3)
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = create_date - interval '1 year' WHERE id = ANY(%s)", [last_year.ids]
        )
        alices = [("kind", "=", "lead"), ("user_id", "=", self.alice.id)]
        by_year = self.funnel(alices, ["date:year"], ["target_count:sum"])
        self.assertEqual(sorted(count for _year, count in by_year), [3, 8])

    def test_customers_counted_by_their_own_stage(self):
        targeted = self.customer("Cold list", user_id=self.alice.id, lifecycle_targeted=True)
        buyer = self.customer("Bought once", user_id=self.alice.id)
        self.env["crm.lead"].create(
            {"name": "Their first", "partner_id": buyer.id, "user_id": self.alice.id, "source_id": self.fair.id}
        )
        self.order(buyer, days_ago=3)
        self.recompute(targeted, buyer)
        self.env.flush_all()
        rows = self.funnel([("kind", "=", "partner")], ["partner_id", "source_id"])
        self.assertEqual(
            {partner: (source, counts) for partner, source, *counts in rows},
            {targeted: (self.env["utm.source"], [1, 0, 0, 0]), buyer: (self.fair, [1, 1, 1, 1])},
        )

    def test_a_salesperson_sees_their_own_funnel(self):
        self.assertEqual(self.funnel([("kind", "=", "lead")], ["user_id"], ["target_count:sum"], user=self.bob),
                         [(self.bob, 2)])  # fmt: skip
        manager_rows = self.funnel([("kind", "=", "lead")], ["user_id"], ["target_count:sum"], user=self.manager)
        self.assertEqual(dict(manager_rows), {self.alice: 11, self.bob: 2})

    def test_menus(self):
        for xmlid in ("crm_lifecycle_funnel_report_menu", "crm_lifecycle_funnel_report_menu_crm"):
            menu = self.env.ref(f"crm_lifecycle.{xmlid}")
            self.assertEqual(menu.action, self.env.ref("crm_lifecycle.crm_lifecycle_funnel_report_action"))
        self.assertIn(
            self.env.ref("sales_team.group_sale_salesman"),
            self.env.ref("crm_lifecycle.crm_lifecycle_funnel_report_menu").groups_id,
        )
        self.assertTrue(
            self.env["ir.ui.menu"].with_user(self.bob)._visible_menu_ids()
            & {self.env.ref("crm_lifecycle.crm_lifecycle_funnel_report_menu_crm").id}
        )
