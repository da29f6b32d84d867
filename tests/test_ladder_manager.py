"""What managers and salespeople may do with the ladder: override, lock, settings, access."""

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import LifecycleCase


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestOverride(LifecycleCase):
    def _override(self, partner, stage, reason, user=None):
        wizard_model = self.env["crm.ladder.override"].with_user(user or self.manager)
        action = partner.with_user(user or self.manager).action_open_ladder_override()
        with Form(wizard_model.with_context(**action["context"])) as form:
            form.ladder_stage = stage
            form.reason = reason
        result = form.record.action_apply()
        self.flush_tracking()
        return result

    def test_manual_reason_keeps_its_tabs_newlines_and_other_scripts(self):
        partner = self.customer("Multi-line Reason")
        self.order(partner, days_ago=30)
        words = '框架合同已签署\n\tsee \\\\share\\contracts "2026"'
        self._override(partner, "supporter", words)
        # the books move on: the locked partner is written again, its manual reason with it
        self.order(partner, days_ago=3)
        self.assertEqual(partner.lifecycle_order_count, 2)
        self.assertEqual(partner.ladder_stage, "supporter")
        self.assertEqual(partner.ladder_reason_data["manual"]["reason"], words)
        self.assertIn(words, partner.ladder_reason)

    def test_manager_sets_a_rung_and_it_stays(self):
        partner = self.customer("Long Negotiation")
        self.order(partner, days_ago=30)
        self.assertEqual(partner.ladder_stage, "customer")
        self._override(partner, "partner", "Three-year framework contract signed")
        self.assertEqual(partner.ladder_stage, "partner")
        self.assertTrue(partner.ladder_locked)
        move = partner.ladder_history_ids.sorted("id")[-1]
        self.assertEqual((move.from_stage, move.to_stage, move.source), ("customer", "partner", "manual"))
        self.assertEqual(move.user_id, self.manager)
        self.assertIn("Three-year framework contract signed", move.reason)
        self.assertTrue(partner.ladder_reason.startswith("Set by Mia Manager on "))
        self.assertIn("The books alone say: Customer.", partner.ladder_reason)
        # the books move on; the locked rung does not, but the figures do
        self.order(partner, days_ago=2)
        self.assertEqual(partner.ladder_stage, "partner")
        self.assertEqual(partner.lifecycle_order_count, 2)
        self.assertIn("The books alone say: Client.", partner.ladder_reason)

    def test_unlock_gives_the_rung_back_to_the_books(self):
        partner = self.customer("Back To Normal")
        self.order(partner, days_ago=30)
        self._override(partner, "supporter", "Key account")
        partner.with_user(self.manager).action_ladder_unlock()
        self.assertFalse(partner.ladder_locked)
        self.assertEqual(partner.ladder_stage, "customer")
        self.assertNotIn("Set by", partner.ladder_reason)
        self.assertEqual(partner.ladder_history_ids.sorted("id")[-1].direction, "down")

    def test_unlocking_posts_the_change_once(self):
        partner = self.customer("Unlocked Once")
        self.order(partner, days_ago=30)
        self._override(partner, "partner", "Key account")
        before = partner.message_ids
        partner.with_user(self.manager).action_ladder_unlock()
        self.flush_tracking()
        rung_changes = (partner.message_ids - before).tracking_value_ids.filtered(
            lambda t: t.field_id.name == "ladder_stage"
        )
        self.assertEqual([(t.old_value_char, t.new_value_char) for t in rung_changes], [("Partner", "Customer")])

    def test_reason_is_required(self):
        partner = self.customer("No Reason Given")
        wizard = (
            self.env["crm.ladder.override"]
            .with_user(self.manager)
            .create({"partner_ids": partner.ids, "ladder_stage": "client", "reason": "   "})
        )
        with self.assertRaisesRegex(UserError, "Say why you set this rung by hand"):
            wizard.action_apply()
        self.assertEqual(partner.ladder_stage, "prospect")
        self.assertFalse(partner.ladder_locked)

    def test_salesperson_cannot_set_a_rung(self):
        partner = self.customer("Eager Seller")
        salesman_partner = partner.with_user(self.salesman)
        with self.assertRaises(AccessError):
            salesman_partner.write({"ladder_stage": "partner"})
        with self.assertRaises(AccessError):
            salesman_partner.write({"ladder_strategic": True})
        with self.assertRaises(AccessError):
            self.env["crm.ladder.override"].with_user(self.salesman).create(
                {"partner_ids": partner.ids, "ladder_stage": "partner", "reason": "I like them"}
            )
        with self.assertRaises(AccessError):
            salesman_partner.action_lifecycle_recompute()
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.salesman).create(
                {"name": "Self-Promoted", "is_company": True, "ladder_stage": "partner"}
            )
        self.assertEqual(partner.ladder_stage, "prospect")
        self.assertFalse(partner.ladder_strategic)

    def test_salesperson_sees_the_ladder_and_moves_it_through_sales(self):
        partner = self.customer("Salesperson's Account")
        self.order(partner, days_ago=30)
        as_salesman = partner.with_user(self.salesman)
        self.assertEqual(as_salesman.ladder_stage, "customer")
        self.assertTrue(as_salesman.ladder_reason)
        self.assertEqual(as_salesman.ladder_history_ids.to_stage, "customer")
        # a salesperson confirming an order moves the customer, with the salesperson's rights
        order = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create({"partner_id": partner.id, "order_line": [(0, 0, {"product_id": self.product.id})]})
        )
        order.action_confirm()
        self.flush_tracking()
        self.assertEqual(partner.ladder_stage, "client")
        # and may edit the partner's other fields, contacts included (their rung syncs from the company)
        as_salesman.write({"phone": "+1 555 0100"})
        contact = self.env["res.partner"].with_user(self.salesman).create({"name": "Desk", "parent_id": partner.id})
        self.assertEqual(contact.ladder_stage, "client")

    def test_manager_button_recomputes_a_selection(self):
        partners = self.customer("Selected One") | self.customer("Selected Two")
        for partner in partners:
            self.order(partner, days_ago=3, defer=True)
        self.assertEqual(set(partners.mapped("ladder_stage")), {"prospect"})
        action = partners.with_user(self.manager).action_lifecycle_recompute()
        self.assertEqual(set(partners.mapped("ladder_stage")), {"customer"})
        self.assertEqual(action["params"]["message"], "Lifecycle recomputed for 2 customers, 2 changed.")


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestAccess(LifecycleCase):
    def test_history_is_read_only(self):
        partner = self.customer("Audited")
        self.order(partner, days_ago=3)
        move = partner.ladder_history_ids
        for user in (self.salesman, self.manager):
            self.assertEqual(move.with_user(user).to_stage, "customer")
            with self.assertRaises(AccessError):
                move.with_user(user).write({"to_stage": "partner"})
            with self.assertRaises(AccessError):
                move.with_user(user).unlink()

    def test_users_without_sales_rights_do_not_see_the_ladder(self):
        employee = self.env["res.users"].create(
            {
                "name": "Warehouse Worker",
                "login": "ladder_employee",
                "groups_id": [(6, 0, [self.env.ref("base.group_user").id])],
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
            }
        )
        partner = self.customer("Private Figures")
        self.order(partner, days_ago=3)
        with self.assertRaises(AccessError):
            partner.ladder_history_ids.with_user(employee).read(["to_stage"])
        arch = self.env["res.partner"].with_user(employee).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn('name="crm_lifecycle"', arch, "the Lifecycle tab is for lifecycle users")
        arch = self.env["res.partner"].with_user(self.salesman).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="crm_lifecycle"', arch)
        menu = self.env.ref("crm_lifecycle.crm_lifecycle_menu_root")
        visible = self.env["ir.ui.menu"].with_user(employee)._visible_menu_ids()
        self.assertNotIn(menu.id, visible)
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(self.salesman)._visible_menu_ids())
        config = self.env.ref("crm_lifecycle.crm_lifecycle_menu_config")
        self.assertNotIn(config.id, self.env["ir.ui.menu"].with_user(self.salesman)._visible_menu_ids())
        settings = self.env.ref("crm_lifecycle.res_config_settings_menu_lifecycle")
        admin = self.env.ref("base.user_admin")
        self.assertIn(settings.id, self.env["ir.ui.menu"].with_user(admin)._visible_menu_ids())

    def test_history_of_another_company_is_hidden(self):
        partner = self.customer("Our Company's Customer")
        self.order(partner, days_ago=3)
        other_company = self.env["res.company"].create({"name": "Other Ladder Co"})
        outsider = self.env["res.users"].create(
            {
                "name": "Other Company Seller",
                "login": "ladder_outsider",
                "groups_id": [(6, 0, self.env.ref("sales_team.group_sale_salesman").ids)],
                "company_id": other_company.id,
                "company_ids": [(6, 0, other_company.ids)],
            }
        )
        as_outsider = (
            self.env["crm.ladder.history"].with_user(outsider).with_context(allowed_company_ids=other_company.ids)
        )
        history = as_outsider.search([("partner_id", "=", partner.id)])
        self.assertFalse(history)
        self.assertEqual(self.env["crm.ladder.history"].with_user(self.salesman).search_count(
            [("partner_id", "=", partner.id)]), 1)  # fmt: skip

    def test_moves_of_a_shared_partner_belong_to_the_books_that_made_them(self):
        """A partner shared between companies is placed by the main company's books: its moves are that
        company's, hidden from another company's users."""
        main = self.env.ref("base.main_company")
        env = self.env(context=dict(self.env.context, allowed_company_ids=main.ids))
        shared = env["res.partner"].create({"name": "Shared Across Companies", "is_company": True})
        self.assertFalse(shared.company_id)
        order = env["sale.order"].create(
            {"partner_id": shared.id, "order_line": [Command.create({"product_id": self.product.id})]}
        )
        order.action_confirm()
        self.flush_tracking()
        moves = shared.ladder_history_ids
        self.assertEqual((moves.to_stage, moves.company_id), ("customer", main))
        History = self.env["crm.ladder.history"]
        self.assertFalse(
            History.with_user(self.salesman)
            .with_context(allowed_company_ids=self.company.ids)
            .search([("partner_id", "=", shared.id)]),
            "a user of another company does not read the main company's moves",
        )
        admin = self.env.ref("base.user_admin")
        self.assertEqual(History.with_user(admin).with_context(allowed_company_ids=main.ids).search(
            [("partner_id", "=", shared.id)]), moves)  # fmt: skip


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestRules(LifecycleCase):
    """The lifecycle rules of a company, set by lifecycle managers (sales managers) in their own form."""

    def _rules_form(self, user=None):
        action = self.company.with_user(user or self.manager).action_open_lifecycle_rules()
        view = self.env["ir.ui.view"].browse(action["views"][0][0])
        return Form(self.company.with_user(user or self.manager), view=view)

    def test_thresholds_are_configurable_by_a_lifecycle_manager(self):
        partner = self.customer("Two Orders")
        self.order(partner, days_ago=20)
        self.order(partner, days_ago=10)
        self.assertEqual(partner.ladder_stage, "client")
        self.assertFalse(self.manager.has_group("base.group_erp_manager"), "not an administrator")
        with self._rules_form() as form:
            form.lifecycle_client_min_orders = 3
            form.lifecycle_supporter_min_orders_12m = 3
        self.assertEqual(self.company.lifecycle_client_min_orders, 3)
        partner._lifecycle_recompute()
        self.assertEqual(partner.ladder_stage, "customer")
        self.assertIn("Next rung, Client: 3 orders on different days (now 2).", partner.ladder_reason)

    def test_the_rules_menu_opens_the_current_company(self):
        menu = self.env.ref("crm_lifecycle.res_company_menu_lifecycle_rules")
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids())
        self.assertNotIn(menu.id, self.env["ir.ui.menu"].with_user(self.salesman)._visible_menu_ids())
        action = menu.action.with_user(self.manager).with_context(allowed_company_ids=self.company.ids).run()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.company", self.company.id))

    def test_only_the_rules_and_only_by_lifecycle_managers(self):
        with self.assertRaises(AccessError):
            self.company.with_user(self.salesman).write({"lifecycle_client_min_orders": 4})
        with self.assertRaises(AccessError):
            # the rest of the company stays an administrator's
            self.company.with_user(self.manager).write({"lifecycle_client_min_orders": 4, "name": "Renamed"})
        other = self.env["res.company"].create({"name": "Not Mine Co"})
        with self.assertRaisesRegex(AccessError, "your own companies"):
            other.with_user(self.manager).write({"lifecycle_client_min_orders": 4})
        self.assertEqual((self.company.lifecycle_client_min_orders, other.lifecycle_client_min_orders), (2, 2))

    def test_bad_thresholds_are_refused_and_nothing_is_saved(self):
        cases = [
            ({"lifecycle_overdue_grace_days": -1}, "cannot be negative"),
            ({"lifecycle_client_min_orders": 1}, "at least 2 orders"),
            ({"lifecycle_supporter_min_orders_12m": 1}, "at least as many orders in 12 months"),
            ({"lifecycle_advocate_min_referrals": 0}, "at least 1 customer"),
            ({"lifecycle_partner_top_percent": 0}, "between 0 and 100%"),
            ({"lifecycle_partner_top_percent": 120}, "between 0 and 100%"),
            ({"lifecycle_tier_platinum_percent": 0}, "platinum tier needs a share above 0%"),
            ({"lifecycle_tier_platinum_percent": 60, "lifecycle_tier_gold_percent": 50}, "cannot exceed 100% of"),
            ({"lifecycle_relationship_min_contacts": 0}, "at least 1 contact"),
            ({"lifecycle_tier_platinum_percent": float("nan")}, "“Platinum: top margin \\(%\\)” must be a number"),
            ({"lifecycle_partner_top_percent": float("inf")}, "“Partner: top revenue \\(%\\)” must be a number"),
            ({"lifecycle_relationship_min_orders_per_year": float("-inf")}, "must be a number"),
        ]
        for values, message in cases:
            with (
                self.subTest(values=values),
                self.assertRaisesRegex(ValidationError, message),
                self.env.cr.savepoint(),
            ):
                self.company.with_user(self.manager).write(values)
            self.company.invalidate_recordset()
            self.assertEqual(self.company.lifecycle_client_min_orders, 2)
            self.assertEqual(self.company.lifecycle_overdue_grace_days, 30)
            self.assertEqual(self.company.lifecycle_tier_platinum_percent, 5.0)
            self.assertEqual(self.company.lifecycle_partner_top_percent, 5.0)

    def test_settings_page_links_the_rules_and_offers_a_recompute(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.action_open_lifecycle_rules()["res_model"], "res.company")
        action = settings.action_lifecycle_recompute_all()
        self.assertEqual(action["tag"], "display_notification")
        cron = self.env.ref("crm_lifecycle.ir_cron_lifecycle_recompute")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        with self.assertRaises(AccessError):
            self.env["crm.lifecycle.engine"].with_user(self.salesman).action_recompute_all()
