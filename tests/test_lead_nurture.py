"""The nurture pool: long-term leads followed up on an activity plan instead of being lost; due ones
bring their plan's activities to their owner; an e-mail in, an activity done or a stage change brings
them back."""

from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import AssignmentCase

INBOUND = """Return-Path: <buyer@ningbo-tools.example.com>
To: sales@example.com
From: Ning Buyer <buyer@ningbo-tools.example.com>
Subject: Re: {subject}
Message-ID: <nurture-reply-{ref}@ningbo-tools.example.com>
In-Reply-To: {parent}
Content-Type: text/plain; charset="utf-8"

We have the budget now, can we talk next week?
"""


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestNurturePool(AssignmentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.nurture_interval_days = 30
        cls.plan = cls.env.ref("crm_lifecycle.mail_activity_plan_nurture")

    def nurtured(self, **values):
        lead = self.env["crm.lead"].create(
            {"name": "Next year's budget", "type": "opportunity", "team_id": self.team.id, "user_id": self.alice.id,
             **values}
        )  # fmt: skip
        lead.with_user(self.alice).action_nurture()
        self.flush_tracking()
        return lead

    def left_pool(self, lead):
        return [m.body for m in lead.message_ids if "Out of the nurture pool" in (m.body or "")]

    def test_a_salesperson_puts_a_lead_in_the_pool_instead_of_losing_it(self):
        lead = self.nurtured()
        self.assertTrue(lead.nurture and lead.active)
        self.assertEqual(lead.nurture_next_date, self.today + timedelta(days=30))
        self.assertEqual(lead.nurture_plan_id, self.plan, "the team's plan")
        self.assertEqual(lead.lifecycle_stage, "opportunity", "still in the funnel, not lost")
        pool = self.env["crm.lead"].with_user(self.alice).search([("nurture", "=", True)])
        self.assertEqual(pool, lead)
        won = self.env["crm.lead"].create({"name": "Done deal", "user_id": self.alice.id})
        won.action_set_won()
        with self.assertRaises(UserError):
            won.action_nurture()

    def test_due_leads_bring_the_plan_to_their_owner(self):
        lead = self.nurtured()
        self.env["crm.lead"]._cron_nurture()
        self.assertFalse(lead.activity_ids, "not due yet")
        with freeze_time(fields.Datetime.now() + timedelta(days=30)):
            due = fields.Date.today()
            self.env["crm.lead"]._cron_nurture()
            self.flush_tracking()
            activities = lead.activity_ids.sorted("date_deadline")
            self.assertEqual(activities.user_id, self.alice)
            self.assertEqual(
                activities.mapped("activity_type_id"),
                self.env.ref("mail.mail_activity_data_call") | self.env.ref("mail.mail_activity_data_email"),
            )
            self.assertEqual(activities.mapped("date_deadline"), [due, due + timedelta(days=7)])
            self.assertEqual(lead.nurture_next_date, due + timedelta(days=30))
            self.assertTrue(lead.nurture, "still in the pool")
            # the owner does the plan's call: that is the pool's own follow-up, the lead stays
            activities[0].action_feedback("Still no budget")
            self.assertTrue(lead.nurture)
            # and a rerun the same day brings nothing more
            self.env["crm.lead"]._cron_nurture()
            self.assertEqual(len(lead.activity_ids), 1)

    def test_a_lead_without_owner_surfaces_to_the_team_leader(self):
        lead = self.nurtured()
        lead.user_id = False
        with freeze_time(fields.Datetime.now() + timedelta(days=31)):
            self.env["crm.lead"]._cron_nurture()
        self.assertEqual(lead.activity_ids.user_id, self.manager)

    def test_an_email_in_brings_the_lead_back(self):
        lead = self.nurtured(partner_id=self.customer("Ningbo Tools", email="buyer@ningbo-tools.example.com").id)
        sent = lead.with_user(self.alice).message_post(
            body="Any news?", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.flush_tracking()
        self.assertTrue(lead.nurture, "a message of ours is no re-engagement")
        self.env["mail.thread"].message_process(
            "crm.lead", INBOUND.format(subject=lead.name, ref=lead.id, parent=sent.message_id)
        )
        self.assertFalse(lead.nurture)
        self.assertFalse(lead.nurture_next_date)
        self.assertTrue(self.left_pool(lead)[0].endswith("an e-mail came in.</p>"))

    def test_an_activity_someone_planned_and_did_brings_it_back(self):
        lead = self.nurtured()
        activity = self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
                "res_id": lead.id,
                "activity_type_id": self.env.ref("mail.mail_activity_data_meeting").id,
                "user_id": self.alice.id,
                "summary": "Demo at their office",
            }
        )
        activity.with_user(self.alice).action_feedback("They want a quote")
        self.assertFalse(lead.nurture)
        self.assertIn("an activity was done", self.left_pool(lead)[0])

    def test_a_stage_change_brings_it_back_and_so_does_a_person(self):
        lead = self.nurtured()
        stages = self.env["crm.stage"].search([("is_won", "=", False)])
        lead.with_user(self.alice).stage_id = (stages - lead.stage_id)[:1]
        self.assertFalse(lead.nurture)
        self.assertIn("its stage changed", self.left_pool(lead)[0])
        other = self.nurtured()
        other.with_user(self.alice).action_nurture_stop()
        self.assertFalse(other.nurture)
        self.assertIn("taken back into the pipeline", self.left_pool(other)[0])

    def test_salespeople_nurture_only_what_the_crm_lets_them(self):
        lead = self.env["crm.lead"].create({"name": "Bob's", "user_id": self.bob.id, "team_id": self.team.id})
        with self.assertRaises(AccessError):  # Odoo's record rule: Alice does not see Bob's leads
            lead.with_user(self.alice).action_nurture()
