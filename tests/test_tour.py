"""Browser tours: the web client as a user sees it (Chromium headless)."""

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestMenuTour(HttpCase):
    def test_customer_lifecycle_menu(self):
        company = self.env["res.partner"].create({"name": "Tour Ladder Customer Ltd", "is_company": True})
        self.env["res.partner"].create({"name": "Tour Contact Person", "parent_id": company.id})
        self.start_tour("/odoo", "crm_lifecycle_menu_tour", login="admin")
