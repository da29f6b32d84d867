"""Portfolio handover: when a salesperson leaves (their user archived) or through the wizard, their
open leads and opportunities, customers, open complaints and open activities go to one person or
across their team; nothing stays with an archived user; each team's chatter says what went where."""

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import GROUP_SALESMAN, AssignmentCase


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestPortfolioHandover(AssignmentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.assignment_strategy = "round_robin"
        cls.admin = new_test_user(
            cls.env,
            login="leads_admin",
            name="Ada Admin",
            groups=f"base.group_user,base.group_erp_manager,{GROUP_SALESMAN}",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def portfolio_of(self, user):
        """Two customers of `user` with a contact each, a lead and an opportunity on the first, a lead
        without customer, a won deal, an open and a closed complaint, and open activities."""
        Lead = self.env["crm.lead"]
        first = self.customer("First Account", user_id=user.id)
        second = self.customer("Second Account", user_id=user.id)
        contact = self.env["res.partner"].create({"name": "First's buyer", "parent_id": first.id, "user_id": user.id})
        leads = Lead.create(
            [
                {"name": "Upsell", "type": "lead", "partner_id": contact.id, "user_id": user.id,
                 "team_id": self.team.id},
                {"name": "Renewal", "type": "opportunity", "partner_id": first.id, "user_id": user.id,
                 "team_id": self.team.id},
                {"name": "Cold card", "type": "lead", "user_id": user.id, "team_id": self.team.id},
            ]
        )  # fmt: skip
        won = Lead.create({"name": "Signed last year", "partner_id": second.id, "user_id": user.id})
        won.action_set_won()
        open_complaint = self.env["crm.complaint"].create(
            {"subject": "Late delivery", "partner_id": second.id, "user_id": user.id, "company_id": self.company.id}
        )
        call = leads[1].activity_schedule("mail.mail_activity_data_call", user_id=user.id)
        visit = second.activity_schedule("mail.mail_activity_data_todo", user_id=user.id)
        self.flush_tracking()
        return {"customers": first | second | contact, "leads": leads, "won": won, "complaint": open_complaint,
                "activities": call | visit}  # fmt: skip

    def summary(self, team=None):
        message = (team or self.team).message_ids.filtered(lambda m: "portfolio" in (m.body or ""))[:1]
        return message.body or ""

    def test_archiving_a_salesperson_spreads_their_portfolio_across_their_team(self):
        held = self.portfolio_of(self.alice)
        self.alice.with_user(self.admin).action_archive()
        self.flush_tracking()
        for kind in ("leads", "customers", "complaint", "activities"):
            self.assertNotIn(self.alice, held[kind].user_id, f"no {kind} stay with Alice")
        # a customer goes with their contacts, leads, complaints and activities to one person
        first, second, contact = held["customers"]
        self.assertEqual((contact.user_id, held["leads"][0].user_id, held["leads"][1].user_id), (first.user_id,) * 3)
        self.assertEqual(held["complaint"].user_id, second.user_id)
        self.assertEqual(held["activities"][0].user_id, first.user_id)
        self.assertEqual(held["activities"][1].user_id, second.user_id)
        # by the team's round robin: Bob, then Carol, then Bob again for the lead without customer
        self.assertEqual((first.user_id, second.user_id, held["leads"][2].user_id), (self.bob, self.carol, self.bob))
        self.assertEqual(held["won"].user_id, self.alice, "a won deal keeps its salesperson (history)")
        self.assertFalse(self.member_of[self.alice].active, "and she gets no new lead")
        body = self.summary()
        self.assertIn("Alice was archived: their portfolio went across team Europe by Round robin.", body)
        self.assertIn("Bob", body)
        self.assertIn("Carol", body)

    def test_the_wizard_previews_then_hands_everything_to_one_person(self):
        held = self.portfolio_of(self.alice)
        action = self.alice.with_user(self.manager).action_open_portfolio_handover()
        wizard = Form(self.env[action["res_model"]].with_user(self.manager).with_context(**action["context"]))
        wizard.mode = "user"
        self.assertIn("Choose the person who takes the portfolio over.", wizard.preview, "not: nothing to hand over")
        self.assertFalse(wizard.item_count)
        wizard.target_user_id = self.carol
        # the preview counts before anything moves
        preview = wizard.preview
        for cell in ("<td>Carol</td>", "<td class='text-end'>2</td>", "<td class='text-end'>3</td>"):
            self.assertIn(cell, preview)
        self.assertEqual(wizard.item_count, 2 + 1 + 3 + 1 + 2)  # leads, opportunity, customers, complaint, activities
        self.assertEqual(held["leads"].user_id, self.alice, "nothing moved yet")
        wizard.save().action_hand_over()
        self.flush_tracking()
        for kind in ("leads", "customers", "complaint", "activities"):
            self.assertEqual(held[kind].user_id, self.carol, kind)
        self.assertIn("Mia Manager handed over the portfolio of Alice to Carol.", self.summary())
        self.assertTrue(self.alice.active, "handing over does not archive")

    def test_the_wizard_spreads_across_a_team_from_the_team_member(self):
        held = self.portfolio_of(self.carol)
        action = self.member_of[self.carol].with_user(self.manager).action_open_portfolio_handover()
        self.assertEqual(action["context"]["default_team_id"], self.team.id)
        wizard = self.env["crm.portfolio.handover"].with_user(self.manager).with_context(**action["context"]).create({})
        self.assertEqual((wizard.mode, wizard.team_id), ("team", self.team))
        wizard.action_hand_over()
        self.assertEqual(held["customers"].user_id, self.alice | self.bob)
        self.assertNotIn(self.carol, held["leads"].user_id)

    def test_someone_of_another_company_is_refused_before_anything_moves(self):
        held = self.portfolio_of(self.alice)
        elsewhere = self.env["res.company"].create({"name": "Elsewhere Ltd"})
        stranger = new_test_user(
            self.env, login="leads_stranger", name="Stan Stranger", groups=f"base.group_user,{GROUP_SALESMAN}",
            company_id=elsewhere.id, company_ids=[Command.set(elsewhere.ids)],
        )  # fmt: skip
        wizard = (
            self.env["crm.portfolio.handover"]
            .with_user(self.manager)
            .create({"user_id": self.alice.id, "mode": "user", "target_user_id": stranger.id})
        )
        self.assertIn("Stan Stranger cannot receive", wizard.preview)
        with self.assertRaises(UserError):
            wizard.action_hand_over()
        self.assertEqual(held["leads"].user_id, self.alice)

    def test_only_sales_managers_hand_over(self):
        with self.assertRaises(AccessError):
            self.bob.with_user(self.alice).action_open_portfolio_handover()
        with self.assertRaises(AccessError):
            self.env["crm.portfolio.handover"].with_user(self.alice).create({"user_id": self.bob.id})

    def test_a_salesperson_without_team_leaves_their_leads_to_the_assignment(self):
        loner = self.salesperson("loner", "Lone Seller")
        lead = self.env["crm.lead"].create({"name": "Orphan", "user_id": loner.id, "team_id": self.team.id})
        loner.with_user(self.admin).action_archive()
        self.assertFalse(lead.user_id, "unassigned: Odoo's assignment gives it to the team again")
        self.assertEqual(lead.team_id, self.team)
