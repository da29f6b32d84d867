"""Browser tours: the web client as a user sees it (Chromium headless)."""

from odoo.tests import HttpCase, tagged

from .common import LifecycleCase


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestMenuTour(HttpCase):
    def test_customer_lifecycle_menu(self):
        company = self.env["res.partner"].create({"name": "Tour Ladder Customer Ltd", "is_company": True})
        self.env["res.partner"].create({"name": "Tour Contact Person", "parent_id": company.id})
        self.start_tour("/odoo", "crm_lifecycle_menu_tour", login="admin")


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestLadderTour(HttpCase, LifecycleCase):
    def test_ladder_kanban_and_form(self):
        partner = self.customer("Tour Ladder Client Ltd")
        self.order(partner, days_ago=30)
        self.order(partner, days_ago=3)
        self.assertEqual(partner.ladder_stage, "client")
        self.start_tour("/odoo", "crm_lifecycle_ladder_tour", login=self.salesman.login)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestLifecycleRulesTour(HttpCase, LifecycleCase):
    def test_a_lifecycle_manager_changes_the_rules_in_the_form(self):
        self.assertFalse(self.manager.has_group("base.group_erp_manager"), "a sales manager, not an administrator")
        self.start_tour(
            "/odoo/action-crm_lifecycle.res_company_action_server_lifecycle_rules",
            "crm_lifecycle_rules_tour",
            login=self.manager.login,
        )
        self.assertEqual(self.company.lifecycle_client_min_orders, 3)
        self.assertEqual(
            (self.company.lifecycle_churn_weight_recency, self.company.lifecycle_churn_weight_no_contact), (40, 10)
        )
        self.assertEqual(self.company.lifecycle_churn_weight_total, 100)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestMyCustomersTour(HttpCase, LifecycleCase):
    def test_a_salesperson_filters_their_own_customers(self):
        self.customer("Tour Mine Ltd", user_id=self.salesman.id)
        self.customer("Tour Not Mine Ltd", user_id=self.manager.id)
        self.start_tour(
            "/odoo/action-crm_lifecycle.res_partner_action_customers?view_type=list",
            "crm_lifecycle_my_customers_tour",
            login=self.salesman.login,
        )
