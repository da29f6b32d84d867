"""Stale leads: an open lead nobody followed up in the team's stale days goes to the next member, at
most stale_max_reassign times; the scheduled action is batched and a rerun the same day moves nothing."""

from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import AssignmentCase


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestStaleLeads(AssignmentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.write({"assignment_strategy": "round_robin", "stale_days": 14, "stale_max_reassign": 2})

    def lead_of(self, user, days_ago=20, **values):
        """An opportunity of `user`, created and assigned `days_ago` days ago, nothing done since."""
        lead = self.env["crm.lead"].create(
            {"name": f"Quiet deal of {user.name}", "type": "opportunity", "team_id": self.team.id, "user_id": user.id,
             **values}
        )  # fmt: skip
        self.flush_tracking()
        # (the dates Odoo stamps from the transaction's clock: the books as they stand after those days)
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = now() AT TIME ZONE 'UTC' - make_interval(days => %s),"
            " date_open = now() AT TIME ZONE 'UTC' - make_interval(days => %s),"
            " date_last_stage_update = now() AT TIME ZONE 'UTC' - make_interval(days => %s) WHERE id = %s",
            (days_ago, days_ago, days_ago, lead.id),
        )
        lead.invalidate_recordset()
        return lead

    def run_cron(self, batch_size=500):
        remaining = self.env["crm.lead"]._cron_reassign_stale_leads(batch_size=batch_size)
        self.flush_tracking()
        return remaining

    def notified(self, lead):
        """The partners told about the lead's reassignments."""
        notices = self.env["mail.message"].search(
            [("model", "=", "crm.lead"), ("res_id", "=", lead.id), ("message_type", "=", "user_notification")]
        )
        return notices.partner_ids

    def test_a_stale_lead_goes_to_the_next_member_and_both_are_told(self):
        lead = self.lead_of(self.alice)
        self.run_cron()
        self.assertEqual(lead.user_id, self.bob, "the next member by round robin, never the owner")
        self.assertEqual(lead.stale_reassign_count, 1)
        self.assertEqual(lead.stale_user_ids, self.alice)
        self.assertEqual(self.notified(lead), self.alice.partner_id | self.bob.partner_id)
        body = self.assignment_note(lead)
        self.assertIn("No follow-up for 14 days: reassigned from Alice to Bob by Round robin in team Europe", body)
        self.assertIn("(reassignment 1 of 2)", body)

    def test_a_rerun_the_same_day_moves_nothing(self):
        lead = self.lead_of(self.alice)
        self.run_cron()
        self.assertEqual(self.run_cron(), 0)
        self.assertEqual((lead.user_id, lead.stale_reassign_count), (self.bob, 1))

    def test_at_most_the_teams_reassignments_then_the_leader_is_told(self):
        lead = self.lead_of(self.alice)
        self.run_cron()
        later = fields.Datetime.now() + timedelta(days=15)
        with freeze_time(later):
            self.run_cron()
            self.assertEqual((lead.user_id, lead.stale_reassign_count), (self.carol, 2), "not back to Alice")
            self.assertIn("It will not be reassigned again; the team leader is told.", self.assignment_note(lead))
            self.assertIn(self.manager.partner_id, self.notified(lead))
            self.run_cron()
            self.assertEqual(lead.user_id, self.carol, "a rerun the same (frozen) day moves nothing")
        with freeze_time(later + timedelta(days=30)):
            self.run_cron()
        self.assertEqual((lead.user_id, lead.stale_reassign_count), (self.carol, 2), "the limit holds")

    def test_any_follow_up_keeps_a_lead_with_its_owner(self):
        messaged, done, moved = self.lead_of(self.alice), self.lead_of(self.alice), self.lead_of(self.alice)
        with freeze_time(fields.Datetime.now() - timedelta(days=3)):
            messaged.message_post(
                body="Called them: budget in May", message_type="comment", subtype_xmlid="mail.mt_note"
            )
            done.activity_schedule("mail.mail_activity_data_call", user_id=self.alice.id).action_feedback("Reached")
        moved.stage_id = self.env["crm.stage"].search([("is_won", "=", False)], order="sequence desc", limit=1)
        # an automatic note is nobody's follow-up
        quiet = self.lead_of(self.alice)
        quiet._message_log(body="Lead scored")
        self.run_cron()
        self.assertEqual((messaged | done | moved).user_id, self.alice)
        self.assertEqual(quiet.user_id, self.bob)

    def test_nurtured_won_and_lost_leads_are_left_alone(self):
        nurtured, won, lost = self.lead_of(self.alice), self.lead_of(self.alice), self.lead_of(self.alice)
        nurtured.action_nurture()
        won.action_set_won()
        lost.action_set_lost()
        recent = self.lead_of(self.alice, days_ago=13)
        self.run_cron()
        self.assertEqual((nurtured | won | recent).user_id, self.alice)
        self.assertEqual(lost.with_context(active_test=False).user_id, self.alice)
        self.team.stale_days = 0
        self.run_cron()
        self.assertEqual(recent.user_id, self.alice)

    def test_the_strategy_rules_and_working_time_choose_the_next_member(self):
        self.team.assignment_strategy = "least_loaded"
        self.env["crm.lead"].create({"name": "Bob's other deal", "user_id": self.bob.id, "team_id": self.team.id})
        lead = self.lead_of(self.alice)
        self.run_cron()
        self.assertEqual(lead.user_id, self.carol, "Carol holds fewer open leads than Bob")
        # Bob's domain does not take it, Alice takes no automatic assignment: it stays with Carol for now
        other = self.lead_of(self.carol)
        self.member_of[self.bob].assignment_domain = "[('company_size', '=', '1000_plus')]"
        self.member_of[self.alice].assignment_optout = True
        self.run_cron()
        self.assertEqual(other.user_id, self.carol, "nobody may take it: it stays")

    def test_the_scheduled_action_goes_batch_by_batch(self):
        leads = self.lead_of(self.alice) | self.lead_of(self.alice) | self.lead_of(self.alice)
        self.assertEqual(self.run_cron(batch_size=2), 1)
        self.assertEqual(len(leads.filtered(lambda lead: lead.user_id != self.alice)), 2)
        self.assertEqual(self.run_cron(batch_size=2), 0)
        self.assertFalse(leads.filtered(lambda lead: lead.user_id == self.alice))
        self.assertEqual(self.run_cron(batch_size=2), 0)

    def test_salespeople_cannot_reset_the_count(self):
        lead = self.lead_of(self.alice)
        self.run_cron()
        with self.assertRaises(AccessError):
            lead.with_user(self.bob).stale_reassign_count = 0
        lead.with_user(self.manager).stale_reassign_count = 0
        self.assertEqual(lead.stale_reassign_count, 0)
