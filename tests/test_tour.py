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
