"""Complaints: the desk's daily work, SLAs across weekends, escalation, review, e-mail, rating."""

import ast
import importlib.util
import re
from datetime import datetime
from pathlib import Path

from freezegun import freeze_time
from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common import LifecycleCase
from .test_i18n import _load_zh_cn

COMPLAINT_USER = "crm_lifecycle.crm_lifecycle_group_complaint_user"
COMPLAINT_MANAGER = "crm_lifecycle.crm_lifecycle_group_complaint_manager"
# Friday 20 November 2026, 15:00 UTC (a working calendar in UTC, 8-12 and 13-17 Monday to Friday)
FRIDAY_3PM = datetime(2026, 11, 20, 15, 0)


class ComplaintCase(LifecycleCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        users = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        cls.agent = new_test_user(
            cls.env, login="cmp_agent", name="Ada Agent", groups=f"base.group_user,{COMPLAINT_USER}", **users
        )
        cls.other_agent = new_test_user(
            cls.env, login="cmp_other", name="Otto Other", groups=f"base.group_user,{COMPLAINT_USER}", **users
        )
        cls.leader = new_test_user(
            cls.env, login="cmp_leader", name="Lea Leader", groups=f"base.group_user,{COMPLAINT_MANAGER}", **users
        )
        cls.calendar = cls.env["resource.calendar"].create({"name": "Desk hours (UTC)", "tz": "UTC"})
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Complaint Desk",
                "use_complaints": True,
                "user_id": cls.leader.id,
                "company_id": cls.company.id,
                "crm_team_member_ids": [Command.create({"user_id": cls.agent.id})],
            }
        )
        cls.other_team = cls.env["crm.team"].create(
            {
                "name": "Other Desk",
                "use_complaints": True,
                "company_id": cls.company.id,
                "crm_team_member_ids": [Command.create({"user_id": cls.other_agent.id})],
            }
        )
        cls.sla = cls.env["crm.complaint.sla"].create(
            {
                "name": "Desk SLA",
                "sequence": 0,
                "team_id": cls.team.id,
                "calendar_id": cls.calendar.id,
                "response_hours": 4.0,
                "resolution_hours": 16.0,
                "at_risk_percent": 50.0,
                "company_id": cls.company.id,
            }
        )
        cls.stage_new = cls.env.ref("crm_lifecycle.crm_complaint_stage_new")
        cls.stage_in_progress = cls.env.ref("crm_lifecycle.crm_complaint_stage_in_progress")
        cls.stage_waiting = cls.env.ref("crm_lifecycle.crm_complaint_stage_waiting")
        cls.stage_resolved = cls.env.ref("crm_lifecycle.crm_complaint_stage_resolved")
        cls.customer_a = cls.customer("Unhappy Customer Ltd", email="service@unhappy.example.com")

    def complaint(self, **values):
        return self.env["crm.complaint"].create(
            {
                "subject": "Parcel arrived damaged",
                "partner_id": self.customer_a.id,
                "team_id": self.team.id,
                "user_id": self.agent.id,
                "request_date": FRIDAY_3PM,
                **values,
            }
        )

    def close(self, complaint, resolution="Replaced the parcel and refunded the shipping"):
        complaint.write({"resolution": resolution, "stage_id": self.stage_resolved.id})

    def flush_tracking(self):
        """Run what the transaction's commit runs: mail tracking is a pre-commit hook (mail/tests/common.py)."""
        self.env.flush_all()
        self.env.cr.flush()

    def notes(self, complaint, text):
        return complaint.message_ids.filtered(lambda m: text in (m.body or ""))


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestComplaintBasics(ComplaintCase):
    def test_reference_customer_and_contact(self):
        contact = self.env["res.partner"].create(
            {
                "name": "Nora Buyer",
                "parent_id": self.customer_a.id,
                "email": "nora@unhappy.example.com",
                "phone": "+1 555",
            }
        )
        complaint = self.complaint(partner_id=contact.id)
        self.assertRegex(complaint.name, r"^CMP/\d{4}/\d{5}$")
        self.assertEqual(complaint.commercial_partner_id, self.customer_a)
        self.assertEqual((complaint.email_from, complaint.partner_phone), ("nora@unhappy.example.com", "+1 555"))
        self.assertEqual(complaint.stage_id, self.stage_new)
        self.assertIn(contact, complaint.message_partner_ids, "the customer follows the answers")
        self.assertEqual(complaint.access_url, f"/my/complaints/{complaint.id}")

    def test_only_the_customers_own_documents_can_be_linked(self):
        order_a, invoice_a = self.order(self.customer_a, days_ago=5)
        other = self.customer("Someone Else")
        order_b, invoice_b = self.order(other, days_ago=5)
        complaint = self.complaint(sale_order_id=order_a.id, invoice_id=invoice_a.id)
        self.assertEqual(complaint.sale_order_id, order_a)
        with self.assertRaisesRegex(ValidationError, "is not Unhappy Customer Ltd's"), self.env.cr.savepoint():
            self.complaint(subject="Wrong link", invoice_id=invoice_b.id)
        with self.assertRaisesRegex(ValidationError, "is not Unhappy Customer Ltd's"), self.env.cr.savepoint():
            complaint.write({"sale_order_id": order_b.id})
        self.assertEqual(complaint.sale_order_id, order_a)
        self.assertFalse(self.env["crm.complaint"].search([("subject", "=", "Wrong link")]))
        # smart buttons count them, quick creation fills the defaults
        self.assertEqual(order_a.with_user(self.agent).complaint_count, 1)
        self.assertEqual(invoice_a.with_user(self.agent).complaint_count, 1)
        self.assertEqual(self.customer_a.with_user(self.agent).complaint_count, 1)
        # from the order, by a salesperson who also handles complaints
        self.salesman.groups_id |= self.env.ref(COMPLAINT_USER)
        order_a.user_id = self.salesman
        action = order_a.with_user(self.salesman).action_new_complaint()
        self.assertEqual(action["context"]["default_sale_order_id"], order_a.id)
        with Form(self.env["crm.complaint"].with_user(self.salesman).with_context(**action["context"])) as form:
            form.subject = "Quick from the order"
        self.assertEqual(form.record.sale_order_id, order_a)
        self.assertEqual(form.record.partner_id, self.customer_a)

    def test_quick_creation_from_a_customer_and_an_invoice(self):
        _order, invoice = self.order(self.customer_a, days_ago=5)
        for record, field in ((self.customer_a, "partner_id"), (invoice, "invoice_id")):
            action = record.with_user(self.agent).action_new_complaint()
            self.assertEqual((action["res_model"], action["context"][f"default_{field}"]), ("crm.complaint", record.id))
        action = invoice.action_new_complaint()
        complaint = self.env["crm.complaint"].with_context(**action["context"]).create({"subject": "Wrong VAT"})
        self.assertEqual((complaint.partner_id, complaint.invoice_id), (self.customer_a, invoice))
        self.assertEqual(complaint.channel, "phone")
        self.assertEqual(self.customer_a.with_user(self.agent).action_view_complaints()["domain"],
                         [("commercial_partner_id", "=", self.customer_a.id)])  # fmt: skip

    def test_closing_needs_a_resolution(self):
        complaint = self.complaint()
        with self.assertRaisesRegex(ValidationError, "Write the resolution"), self.env.cr.savepoint():
            complaint.write({"stage_id": self.stage_resolved.id})
        self.assertEqual(complaint.stage_id, self.stage_new)
        self.close(complaint)
        self.assertTrue(complaint.is_closed)
        self.assertTrue(complaint.resolved_date)

    def test_serious_complaints_are_reviewed_before_closing(self):
        complaint = self.complaint(severity="critical", resolution="Technician sent, machine replaced")
        with self.assertRaisesRegex(ValidationError, "must approve its resolution"), self.env.cr.savepoint():
            complaint.write({"stage_id": self.stage_resolved.id})
        complaint.with_user(self.agent).action_request_review()
        self.assertEqual(complaint.review_state, "to_review")
        self.assertEqual(complaint.activity_ids.user_id, self.leader, "the team leader reviews")
        # an agent cannot review
        with self.assertRaises(AccessError):
            complaint.with_user(self.agent).action_open_review()
        review = self.env["crm.complaint.review"].with_user(self.leader)
        with self.assertRaisesRegex(UserError, "Say what more needs doing"), self.env.cr.savepoint():
            review.create({"complaint_id": complaint.id, "decision": "send_back"}).action_confirm()
        review.create(
            {"complaint_id": complaint.id, "decision": "send_back", "note": "Call the customer"}
        ).action_confirm()
        self.assertEqual(complaint.review_state, "sent_back")
        self.assertEqual(complaint.activity_ids.user_id, self.agent)
        complaint.with_user(self.agent).action_request_review()
        review.create({"complaint_id": complaint.id, "decision": "approve"}).action_confirm()
        self.assertEqual((complaint.review_state, complaint.reviewer_id), ("approved", self.leader))
        complaint.with_user(self.agent).write({"stage_id": self.stage_resolved.id})
        self.assertTrue(complaint.is_closed)

    def test_follow_up_and_satisfaction(self):
        complaint = self.complaint()
        self.close(complaint)
        self.assertEqual((complaint.follow_up_date - complaint.resolved_date.date()).days, 7)
        survey = complaint.message_ids.filtered(lambda m: "How did we handle" in (m.subject or ""))
        self.assertEqual(len(survey), 1, "the customer is asked to rate the handling")
        token = complaint._rating_get_access_token()
        rating = self.env["rating.rating"].search([("access_token", "=", token)])
        rating.write({"rating": 5, "consumed": True})
        complaint.invalidate_recordset(["rating_last_value"])
        self.assertEqual(complaint.rating_last_value, 5)
        self.assertEqual(self.team.complaint_rating_avg, 5.0)
        self.assertEqual(self.customer_a.with_user(self.agent).complaint_rating_avg, 5.0)

    def test_open_complaints_hold_a_supporter_back(self):
        for months in (14, 8, 4, 1):
            self.order(self.customer_a, months_ago=months)
        self.recompute(self.customer_a)
        self.assertEqual(self.customer_a.ladder_stage, "supporter")
        complaint = self.complaint()
        self.flush_tracking()  # the customer is recomputed when the request commits
        self.assertEqual(self.customer_a.ladder_stage, "client")
        self.assertEqual(self.customer_a.lifecycle_open_complaint_count, 1)
        self.assertIn("1 open complaint", self.customer_a.ladder_reason)
        self.close(complaint)
        self.flush_tracking()
        self.assertEqual(self.customer_a.ladder_stage, "supporter")

    def test_sla_policies_refuse_empty_targets(self):
        for values in ({"response_hours": 0}, {"resolution_hours": -2}, {"response_hours": 30, "resolution_hours": 20}):
            with self.subTest(values=values), self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.sla.write(values)
        self.assertEqual((self.sla.response_hours, self.sla.resolution_hours), (4.0, 16.0))


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestComplaintSla(ComplaintCase):
    def test_deadlines_skip_the_weekend_and_holidays(self):
        complaint = self.complaint()
        # 2 working hours left on Friday (15:00-17:00), 2 more on Monday from 8:00
        self.assertEqual(complaint.response_deadline, datetime(2026, 11, 23, 10, 0))
        self.assertEqual(complaint.response_at_risk_date, datetime(2026, 11, 20, 17, 0))
        # 16 hours: 2 on Friday, 8 on Monday, 6 on Tuesday (8-12, 13-15)
        self.assertEqual(complaint.resolution_deadline, datetime(2026, 11, 24, 15, 0))
        # a public holiday on Monday pushes everything a day later
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Public holiday",
                "calendar_id": self.calendar.id,
                "date_from": datetime(2026, 11, 23, 0, 0),
                "date_to": datetime(2026, 11, 23, 23, 59),
            }
        )
        later = self.complaint(subject="After the holiday")
        self.assertEqual(later.response_deadline, datetime(2026, 11, 24, 10, 0))

    def test_first_response_is_the_first_message_to_the_customer(self):
        with freeze_time(FRIDAY_3PM):
            complaint = self.complaint()
        with freeze_time(datetime(2026, 11, 23, 9, 0)):  # Monday, 3 working hours later
            complaint.with_user(self.agent).message_post(
                body="Note to self", subtype_xmlid="mail.mt_note", message_type="comment"
            )
            self.assertFalse(complaint.first_response_date, "an internal note is not an answer")
            complaint.with_user(self.agent).message_post(
                body="We are on it", subtype_xmlid="mail.mt_comment", message_type="comment"
            )
            self.assertEqual(complaint.first_response_date, datetime(2026, 11, 23, 9, 0))
            self.assertEqual(complaint.response_hours, 3.0)

    def test_warning_then_escalation_once_each(self):
        with freeze_time(FRIDAY_3PM):
            complaint = self.complaint()
            self.assertEqual(complaint.sla_status, "on_track")
        todo = self.env.ref("mail.mail_activity_data_todo")
        complaint.activity_ids.unlink()
        cron = self.env["crm.complaint"]
        # Friday 17:00, half of the response time gone: the owner is warned, once
        for _run in range(2):
            with freeze_time(datetime(2026, 11, 20, 17, 30)):
                cron._cron_check_sla()
        self.assertEqual(complaint.sla_status, "at_risk")
        warnings = complaint.activity_ids.filtered(lambda a: a.activity_type_id == todo)
        self.assertEqual((len(warnings), warnings.user_id), (1, self.agent))
        # Monday 10:30, no answer yet: breached, escalated once to the team leader
        for _run in range(2):
            with freeze_time(datetime(2026, 11, 23, 10, 30)):
                cron._cron_check_sla()
        self.assertEqual(complaint.sla_status, "breached")
        self.assertTrue(complaint.sla_escalated)
        escalations = complaint.activity_ids.filtered(lambda a: a.user_id == self.leader)
        self.assertEqual(len(escalations), 1)
        self.assertEqual(len(complaint.message_ids.filtered(lambda m: "is breached" in (m.body or ""))), 1)
        self.assertEqual(complaint.user_id, self.agent, "no reassignment unless the team asks for it")

    def test_notices_read_in_the_language_of_who_receives_them(self):
        _load_zh_cn(self.env)
        self.leader.lang = "zh_CN"
        with freeze_time(FRIDAY_3PM):
            complaint = self.complaint()
        with freeze_time(datetime(2026, 11, 20, 17, 30)):
            self.env["crm.complaint"]._cron_check_sla()
        warning = complaint.activity_ids.filtered(lambda a: a.user_id == self.agent and "SLA" in a.summary)
        self.assertEqual(warning.summary, f"SLA at risk: {complaint.name}", "the agent works in English")
        with freeze_time(datetime(2026, 11, 23, 10, 30)):
            self.env["crm.complaint"]._cron_check_sla()
        escalation = complaint.activity_ids.filtered(lambda a: a.user_id == self.leader)
        self.assertEqual(escalation.summary, f"服务级别协议已超时：{complaint.name}")
        self.assertTrue(complaint.message_ids.filtered(lambda m: "已升级至 Lea Leader" in (m.body or "")))

    def test_a_complaint_recorded_late_is_still_escalated(self):
        with freeze_time(datetime(2026, 11, 25, 9, 0)):  # recorded on Wednesday, received last Friday
            complaint = self.complaint()
            self.assertEqual((complaint.sla_status, complaint.sla_next_check), ("breached", False))
            self.env["crm.complaint"]._cron_check_sla()
        self.assertTrue(complaint.sla_escalated)
        self.assertEqual(len(complaint.activity_ids.filtered(lambda a: a.user_id == self.leader)), 1)

    def test_escalation_can_reassign_to_the_leader(self):
        self.team.complaint_escalation_reassign = True
        with freeze_time(FRIDAY_3PM):
            complaint = self.complaint()
        with freeze_time(datetime(2026, 11, 25, 9, 0)):
            self.env["crm.complaint"]._cron_check_sla()
        self.assertEqual(complaint.user_id, self.leader)

    def test_the_cron_reads_only_what_may_have_changed(self):
        with freeze_time(FRIDAY_3PM):
            complaints = self.env["crm.complaint"].union(*(self.complaint(subject=f"Batch {i}") for i in range(5)))
        cron = self.env.ref("crm_lifecycle.ir_cron_complaint_sla")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id, "done": 0, "remaining": 0})
        with freeze_time(datetime(2026, 11, 20, 17, 30)):
            model = self.env["crm.complaint"].with_context(ir_cron_progress_id=progress.id)
            remaining = model._cron_check_sla(batch_size=2)
            self.assertEqual((progress.done, remaining), (2, progress.remaining))
            while model._cron_check_sla(batch_size=2):
                pass
        self.assertEqual(set(complaints.mapped("sla_status")), {"at_risk"})
        with freeze_time(datetime(2026, 11, 20, 17, 45)):
            self.assertEqual(model.search_count([("sla_next_check", "<=", datetime(2026, 11, 20, 17, 45))]), 0)

    def test_closed_within_the_sla_is_met(self):
        with freeze_time(FRIDAY_3PM):
            on_time, late = self.complaint(subject="On time"), self.complaint(subject="Late")
        with freeze_time(datetime(2026, 11, 23, 9, 0)):
            on_time.with_user(self.agent).message_post(
                body="Answer", subtype_xmlid="mail.mt_comment", message_type="comment"
            )
            self.close(on_time)
        with freeze_time(datetime(2026, 11, 26, 9, 0)):
            self.close(late)
        self.assertEqual((on_time.sla_status, on_time.sla_success), ("met", 100.0))
        self.assertEqual((late.sla_status, late.sla_success), ("breached", 0.0))
        self.assertEqual(on_time.resolution_hours, 3.0)
        groups = self.env["crm.complaint"]._read_group(
            [("id", "in", (on_time | late).ids)], ["team_id"], ["sla_success:avg", "resolution_hours:avg"]
        )
        self.assertEqual(groups[0][1:], (50.0, (3.0 + late.resolution_hours) / 2))


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestComplaintMail(ComplaintCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alias_domain = cls.env["mail.alias.domain"].create({"name": "desk.example.com"})
        cls.company.alias_domain_id = cls.alias_domain
        cls.team.complaint_alias_name = "desk-complaints"

    def _mail(self, sender, body, subject="Broken again", message_id="<first@customer.example.com>", extra=""):
        return (
            f"From: {sender}\r\nTo: desk-complaints@desk.example.com\r\nSubject: {subject}\r\n"
            f"Message-ID: {message_id}\r\n{extra}MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            f"{body}\r\n"
        )

    def test_an_email_opens_a_complaint_and_replies_thread_onto_it(self):
        self.assertEqual(self.team.complaint_alias_email, "desk-complaints@desk.example.com")
        thread_id = self.env["mail.thread"].message_process(
            None, self._mail("Unhappy <service@unhappy.example.com>", "<p>The machine stopped again.</p>")
        )
        complaint = self.env["crm.complaint"].browse(thread_id)
        self.assertEqual(complaint.partner_id, self.customer_a, "found by the sender's address")
        self.assertEqual(
            (complaint.team_id, complaint.channel, complaint.subject), (self.team, "email", "Broken again")
        )
        self.assertIn("The machine stopped again.", complaint.description)
        self.assertEqual(complaint.user_id, self.leader, "no default owner, no salesperson: the team leader")
        reply = self._mail(
            "Unhappy <service@unhappy.example.com>",
            "<p>Any news?</p>",
            subject="Re: Broken again",
            message_id="<second@customer.example.com>",
            extra="In-Reply-To: <first@customer.example.com>\r\n",
        )
        self.assertEqual(self.env["mail.thread"].message_process(None, reply), complaint.id)
        self.assertTrue(complaint.message_ids.filtered(lambda m: "Any news?" in (m.body or "")))
        self.assertEqual(self.env["crm.complaint"].search_count([("team_id", "=", self.team.id)]), 1)

    def test_unknown_sender_and_hostile_content(self):
        body = "<p>Hello</p><script>alert('x')</script>" + "<p>" + "a" * 300_000 + "</p>"
        thread_id = self.env["mail.thread"].message_process(
            None, self._mail("stranger@nowhere.example.com", body, message_id="<hostile@nowhere.example.com>")
        )
        complaint = self.env["crm.complaint"].browse(thread_id)
        self.assertFalse(complaint.partner_id)
        self.assertEqual(complaint.email_from, "stranger@nowhere.example.com")
        self.assertNotIn("<script", complaint.description)
        self.assertNotIn("alert(", complaint.description)
        self.assertLessEqual(len(complaint.description), 100_100)

    def test_an_email_goes_to_the_teams_default_owner_else_the_salesperson(self):
        self.customer_a.user_id = self.salesman
        first = self.env["mail.thread"].message_process(
            None, self._mail("Unhappy <service@unhappy.example.com>", "<p>Late again</p>", message_id="<a@x.example>")
        )
        self.assertEqual(self.env["crm.complaint"].browse(first).user_id, self.salesman)
        self.assertRegex(self.env["crm.complaint"].browse(first).name, r"^CMP/\d{4}/\d{5}$", "not the subject")
        self.team.complaint_default_user_id = self.other_agent
        second = self.env["mail.thread"].message_process(
            None, self._mail("stranger@nowhere.example.com", "<p>Broken</p>", message_id="<b@x.example>")
        )
        self.assertEqual(self.env["crm.complaint"].browse(second).user_id, self.other_agent)

    def test_an_email_from_a_contact_of_another_company_still_opens_a_complaint(self):
        other_company = self.env["res.company"].create({"name": "Elsewhere Co"})
        self.customer_a.company_id = other_company
        thread_id = self.env["mail.thread"].message_process(
            None, self._mail("Unhappy <service@unhappy.example.com>", "<p>Hello?</p>", message_id="<c@x.example>")
        )
        complaint = self.env["crm.complaint"].browse(thread_id)
        self.assertEqual((complaint.company_id, complaint.partner_id), (self.company, self.env["res.partner"]))
        self.assertIn("service@unhappy.example.com", complaint.email_from)

    def test_nul_bytes_are_stripped_from_emails(self):
        raw = self._mail(
            "Unhappy <service@unhappy.example.com>",
            "<p>The machine\x00 stopped.</p>",
            subject="Broken\x00 again",
            message_id="<nul@customer.example.com>",
        )
        complaint = self.env["crm.complaint"].browse(self.env["mail.thread"].message_process(None, raw))
        self.env.flush_all()
        self.assertEqual(complaint.subject, "Broken again")
        self.assertNotIn("\x00", complaint.description)
        self.assertIn("stopped.", complaint.description)
        self.assertTrue(complaint.message_ids.filtered(lambda m: "stopped." in (m.body or "")))
        reply = self._mail(
            "Unhappy <service@unhappy.example.com>",
            "<p>Any\x00 news?</p>",
            subject="Re: Broken\x00 again",
            message_id="<nul-reply@customer.example.com>",
            extra="In-Reply-To: <nul@customer.example.com>\r\n",
        )
        self.assertEqual(self.env["mail.thread"].message_process(None, reply), complaint.id)
        self.env.flush_all()
        self.assertTrue(complaint.message_ids.filtered(lambda m: "news?" in (m.body or "") and "\x00" not in m.body))


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestComplaintAccess(ComplaintCase):
    def test_users_see_their_own_and_their_teams_complaints(self):
        mine = self.complaint(subject="Mine")
        teams = self.complaint(subject="Team's, unassigned", user_id=False)
        others = self.complaint(subject="Other desk's", team_id=self.other_team.id, user_id=self.other_agent.id)
        seen = self.env["crm.complaint"].with_user(self.agent).search([("id", "in", (mine | teams | others).ids)])
        self.assertEqual(seen, mine | teams)
        with self.assertRaises(AccessError):
            others.with_user(self.agent).read(["subject"])
        self.assertEqual(
            self.env["crm.complaint"].with_user(self.leader).search_count([("id", "in", (mine | teams | others).ids)]),
            3,
        )
        with self.assertRaises(AccessError):
            mine.with_user(self.agent).unlink()
        with self.assertRaises(AccessError):
            self.sla.with_user(self.agent).write({"response_hours": 100})
        with self.assertRaises(AccessError):
            self.stage_new.with_user(self.agent).write({"is_closed": True})

    def test_joining_or_leaving_a_team_shows_or_hides_its_complaints_at_once(self):
        complaint = self.complaint(subject="Other desk's", team_id=self.other_team.id, user_id=self.other_agent.id)
        Complaint = self.env["crm.complaint"].with_user(self.agent)
        self.assertFalse(Complaint.search([("id", "=", complaint.id)]), "not in that team yet")
        # a manager adds the agent to the other desk, later takes them off it
        self.other_team.member_ids = [Command.link(self.agent.id)]
        self.assertEqual(Complaint.search([("id", "=", complaint.id)]), complaint, "seen at once, no restart")
        self.other_team.crm_team_member_ids.filtered(lambda member: member.user_id == self.agent).unlink()
        self.assertFalse(Complaint.search([("id", "=", complaint.id)]), "hidden again once they left")

    def test_agents_without_sales_rights_work_without_the_order_link(self):
        order, _invoice = self.order(self.customer_a, days_ago=3)
        complaint = self.complaint(sale_order_id=order.id)
        with Form(complaint.with_user(self.agent)) as form:
            form.category = "delivery"
        self.assertEqual(complaint.category, "delivery")
        arch = self.env["crm.complaint"].with_user(self.agent).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn('name="sale_order_id"', arch)

    def test_salespeople_see_their_own_and_their_customers_complaints(self):
        self.customer_a.user_id = self.salesman
        elsewhere = self.customer("Not Sam's Customer")
        customers = self.complaint(subject="Sam's customer's, owned by the agent")
        owned = self.complaint(
            subject="Owned by Sam", partner_id=elsewhere.id, user_id=self.salesman.id, team_id=self.other_team.id
        )
        hidden = self.complaint(subject="Neither", partner_id=elsewhere.id)
        Complaint = self.env["crm.complaint"].with_user(self.salesman)
        self.assertEqual(Complaint.search([("id", "in", (customers | owned | hidden).ids)]), customers | owned)
        with self.assertRaises(AccessError):
            hidden.with_user(self.salesman).read(["subject"])
        # the menu shows, every view opens, the form reads and saves
        menus = self.env["ir.ui.menu"].with_user(self.salesman)._visible_menu_ids()
        self.assertIn(self.env.ref("crm_lifecycle.crm_complaint_menu").id, menus)
        Complaint.get_views([(False, "kanban"), (False, "list"), (False, "form"), (False, "search")])
        with Form(customers.with_user(self.salesman)) as form:
            form.category = "delivery"
            form.severity = "high"
        self.assertEqual((customers.category, customers.severity), ("delivery", "high"))
        with Form(Complaint) as form:
            form.subject = "Called in by Sam's customer"
            form.partner_id = self.customer_a
        self.assertEqual(form.record.user_id, self.salesman, "their own: they own what they record")
        with self.assertRaises(AccessError):
            form.record.with_user(self.salesman).unlink()
        # the salespeople's rule gives complaint agents nothing more
        self.assertFalse(
            self.env["crm.complaint"].with_user(self.agent).search([("id", "=", owned.id)]),
            "agents keep their own and their teams'",
        )

    def test_other_companies_complaints_are_hidden(self):
        complaint = self.complaint()
        other_company = self.env["res.company"].create({"name": "Elsewhere Co"})
        stranger = new_test_user(
            self.env,
            login="cmp_elsewhere",
            groups=f"base.group_user,{COMPLAINT_MANAGER}",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        as_stranger = self.env["crm.complaint"].with_user(stranger).with_context(allowed_company_ids=other_company.ids)
        self.assertFalse(as_stranger.search([("id", "=", complaint.id)]))


# ---------------------------------------------------------------------------------------------------------
# What testers found as new users of every role, with hostile input (issue "Trust")
# ---------------------------------------------------------------------------------------------------------


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestComplaintFinishing(ComplaintCase):
    """A complaint can be worked to its end: resolution, severity, first response."""

    def test_the_resolution_is_saved_after_the_first_save(self):
        complaint = self.complaint()
        self.flush_tracking()
        as_agent = complaint.with_user(self.agent)
        as_agent.write({"resolution": "<p>Replaced the parcel</p>"})
        self.flush_tracking()  # where a tracked Html field fails ("Unsupported tracking on field")
        self.assertEqual(len(self.notes(complaint, "Resolution updated: Replaced the parcel")), 1)
        as_agent.write({"resolution": "<p>Replaced the parcel</p>"})  # the same text: no second note
        as_agent.write({"resolution": "<p>Replaced the parcel and refunded the shipping</p>", "category": "delivery"})
        self.flush_tracking()
        self.assertEqual(len(self.notes(complaint, "Resolution updated")), 2)
        as_agent.write({"stage_id": self.stage_resolved.id})
        self.flush_tracking()
        self.assertTrue(complaint.is_closed)
        self.assertIn("refunded the shipping", complaint.resolution)

    def test_severity_is_edited_on_the_form_and_in_the_list(self):
        views = self.env["crm.complaint"].with_user(self.agent).get_views([(False, "form"), (False, "list")])
        form = etree.fromstring(views["views"]["form"]["arch"])
        listing = etree.fromstring(views["views"]["list"]["arch"])
        severity = form.xpath("//field[@name='severity']")[0]
        self.assertEqual(severity.get("widget"), "selection_badge")
        self.assertFalse(severity.get("readonly"))
        column = listing.xpath("//field[@name='severity']")[0]
        self.assertNotEqual(column.get("widget"), "badge", "a badge cannot be edited in a list")
        self.assertEqual(listing.get("multi_edit"), "1")
        self.assertEqual(column.get("decoration-danger"), "severity == 'critical'")
        # what choosing Critical does
        complaint = self.complaint()
        with Form(complaint.with_user(self.agent)) as edit:
            edit.severity = "critical"
            self.assertTrue(edit.review_required)
        self.flush_tracking()
        self.assertEqual(complaint.severity, "critical")

    def test_in_progress_is_no_answer_and_closing_unanswered_breaches_the_sla(self):
        with freeze_time(FRIDAY_3PM):
            complaint = self.complaint()
        with freeze_time(datetime(2026, 11, 23, 9, 0)):  # Monday, within both targets
            complaint.with_user(self.agent).write({"stage_id": self.stage_in_progress.id})
            self.flush_tracking()
            self.assertFalse(complaint.first_response_date, "working on it is not answering the customer")
            self.close(complaint)
            self.flush_tracking()
        self.assertEqual((complaint.sla_status, complaint.sla_success), ("breached", 0.0))
        self.assertEqual(len(self.notes(complaint, "closed without any recorded first response")), 1)
        help_text = self.env["crm.complaint"].fields_get(["sla_status"])["sla_status"]["help"]
        self.assertIn("closed without any recorded first response", help_text)

    def test_a_stage_that_counts_as_a_response_records_it(self):
        self.assertTrue(self.stage_waiting.is_response, "the shipped Waiting for customer stage")
        self.assertFalse(self.stage_in_progress.is_response)
        with freeze_time(FRIDAY_3PM):
            complaint = self.complaint()
        with freeze_time(datetime(2026, 11, 23, 9, 0)):  # 3 working hours later
            complaint.with_user(self.agent).write({"stage_id": self.stage_waiting.id})
            self.flush_tracking()
            self.assertEqual(complaint.first_response_date, datetime(2026, 11, 23, 9, 0))
            self.assertEqual(complaint.response_hours, 3.0)
        with freeze_time(datetime(2026, 11, 23, 11, 0)):  # back and forth: the first response stays
            complaint.write({"stage_id": self.stage_in_progress.id})
            complaint.write({"stage_id": self.stage_waiting.id})
            self.close(complaint)
            self.flush_tracking()
        self.assertEqual(complaint.first_response_date, datetime(2026, 11, 23, 9, 0))
        self.assertEqual(complaint.sla_status, "met")
        self.assertFalse(self.notes(complaint, "without any recorded first response"))
        arch = self.env["crm.complaint.stage"].get_views([(False, "list")])["views"]["list"]["arch"]
        self.assertIn('name="is_response"', arch)

    def test_answered_by_phone_is_a_response(self):
        with freeze_time(FRIDAY_3PM):
            complaint = self.complaint()
        with freeze_time(datetime(2026, 11, 23, 8, 30)):
            complaint.with_user(self.agent).action_mark_responded()
            self.close(complaint)
            self.flush_tracking()
        self.assertEqual(complaint.first_response_date, datetime(2026, 11, 23, 8, 30))
        self.assertEqual((complaint.sla_status, complaint.sla_success), ("met", 100.0))

    def test_a_database_installed_before_gets_the_response_stage(self):
        self.stage_waiting.is_response = False
        path = Path(__file__).resolve().parents[1] / "crm_lifecycle/migrations/18.0.1.1.0/post-migrate.py"
        spec = importlib.util.spec_from_file_location("crm_lifecycle_migration_18_0_1_1_0", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "18.0.1.0.0")
        self.stage_waiting.invalidate_recordset(["is_response"])
        self.assertTrue(self.stage_waiting.is_response)

    def test_review_required_is_written_once(self):
        Complaint = self.env["crm.complaint"]
        complaints = Complaint.union(
            *(self.complaint(severity=level) for level in ("low", "normal", "high", "critical"))
        )
        self.assertEqual(complaints.filtered("review_required").mapped("severity"), ["high", "critical"])
        self.assertEqual(Complaint.search([("id", "in", complaints.ids), ("review_required", "=", True)]).mapped(
            "severity"), ["critical", "high"])  # fmt: skip
        self.assertEqual(Complaint.search_count([("id", "in", complaints.ids), ("review_required", "!=", True)]), 2)
        form = Complaint.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("'high', 'critical'", form)
        self.assertIn("not review_required", form)

    def test_stored_fields_have_proper_labels(self):
        fields_info = self.env["crm.complaint"].fields_get(attributes=["string", "store"])
        self.assertEqual(fields_info["sla_next_check"]["string"], "Next SLA check")
        self.assertEqual(fields_info["sla_warned"]["string"], "SLA warning sent")
        self.assertEqual(fields_info["response_at_risk_date"]["string"], "Response at risk from")
        self.assertEqual(fields_info["resolution_at_risk_date"]["string"], "Resolution at risk from")
        generated = [
            name
            for name, info in fields_info.items()
            if info.get("store") and ("Sla" in info["string"].split() or info["string"].endswith(" Id"))
        ]
        self.assertEqual(generated, [])


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestComplaintTours(HttpCase, ComplaintCase):
    def test_an_agent_resolves_a_complaint_from_its_form(self):
        complaint = self.complaint(subject="Tour Broken Coffee Machine")
        self.start_tour(
            f"/odoo/action-crm_lifecycle.crm_complaint_action/{complaint.id}",
            "crm_complaint_resolution_tour",
            login=self.agent.login,
        )
        self.assertTrue(complaint.is_closed)
        self.assertIn("Replaced the machine and refunded the delivery", complaint.resolution)
        self.assertTrue(self.notes(complaint, "Resolution updated: Replaced the machine"))

    def test_an_agent_sets_severities_in_the_list_and_on_the_form(self):
        one = self.complaint(subject="Tour Severity One")
        two = self.complaint(subject="Tour Severity Two")
        self.start_tour(
            "/odoo/action-crm_lifecycle.crm_complaint_action?view_type=list",
            "crm_complaint_severity_tour",
            login=self.agent.login,
        )
        self.assertEqual((one.severity, two.severity), ("critical", "high"))


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestComplaintRouting(ComplaintCase):
    """Complaints that arrive by themselves (portal, e-mail) get an owner; the alias exists from the install."""

    def test_the_owner_chosen_for_a_complaint_that_arrives_by_itself(self):
        Complaint = self.env["crm.complaint"]
        self.customer_a.user_id = self.salesman
        contact = self.env["res.partner"].create({"name": "Nora Buyer", "parent_id": self.customer_a.id})
        self.assertEqual(Complaint._choose_owner(self.team, contact), self.salesman, "the company's salesperson")
        self.team.complaint_default_user_id = self.other_agent
        self.assertEqual(Complaint._choose_owner(self.team, contact), self.other_agent, "the team's rule first")
        self.team.complaint_default_user_id = False
        self.salesman.active = False
        self.assertEqual(Complaint._choose_owner(self.team, contact), self.leader, "else the team leader")
        self.assertFalse(Complaint._choose_owner(self.other_team, contact), "else nobody")
        self.salesman.active = True
        other_company = self.env["res.company"].create({"name": "Elsewhere Co"})
        self.assertFalse(
            Complaint._choose_owner(self.other_team, contact, other_company), "only users of the complaint's company"
        )
        # an agent recording one keeps it
        with Form(Complaint.with_user(self.agent)) as form:
            form.subject = "Called in"
            form.partner_id = self.customer_a
        self.assertEqual(form.record.user_id, self.agent)
        arch = self.env["crm.team"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="complaint_default_user_id"', arch)

    def test_the_default_sales_team_has_an_alias_from_the_install(self):
        team = self.env.ref("sales_team.team_sales_department")
        alias = team.complaint_alias_id
        self.assertEqual(alias.alias_name, "complaints")
        self.assertEqual(alias.alias_model_id.model, "crm.complaint")
        self.assertEqual(ast.literal_eval(alias.alias_defaults)["team_id"], team.id)
        self.assertEqual((alias.alias_parent_model_id.model, alias.alias_parent_thread_id), ("crm.team", team.id))
        self.assertEqual(team.complaint_alias_name, "complaints")

    def test_the_install_takes_the_next_free_alias_name(self):
        taken = self.env.ref("sales_team.team_sales_department").complaint_alias_id
        teams = self.env["crm.team"].create([{"name": f"Desk {i}", "use_complaints": True} for i in (1, 2)])
        teams._complaint_alias_setup()
        self.assertEqual(teams.complaint_alias_id.mapped("alias_name"), ["complaints-1", "complaints-2"])
        self.assertEqual(teams.complaint_alias_id.alias_domain_id, taken.alias_domain_id)
        teams[0]._complaint_alias_setup()  # again: a team keeps the alias it has
        self.assertEqual(teams[0].complaint_alias_name, "complaints-1")
        # the first alias domain takes in the aliases without one; its catchall name is not free either
        domain = self.env["mail.alias.domain"].create({"name": "help.example.com"})
        self.assertEqual(taken.alias_domain_id, domain)
        domain.catchall_alias = "complaints-3"
        self.company.alias_domain_id = domain
        self.team._complaint_alias_setup()
        self.assertEqual(self.team.complaint_alias_email, "complaints-4@help.example.com")
        self.assertEqual(self.team.complaint_alias_domain_id, domain)
        arch = self.env["crm.team"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="complaint_alias_domain_id"', arch)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestComplaintAnalysis(ComplaintCase):
    def test_averages_count_what_happened_only(self):
        with freeze_time(FRIDAY_3PM):
            rated, unrated, still_open = (self.complaint(subject=s) for s in ("Rated", "Unrated", "Open"))
        with freeze_time(datetime(2026, 11, 23, 9, 0)):
            for complaint in (rated, unrated):
                complaint.action_mark_responded()
                self.close(complaint)
        rated.rating_apply(4, token=rated._rating_get_access_token())
        self.flush_tracking()
        Report = self.env["crm.complaint.report"].with_user(self.agent)
        ids = (rated | unrated | still_open).ids
        [(count, csat, sla_met, response, resolution)] = Report._read_group(
            [("complaint_id", "in", ids)],
            [],
            ["complaint_count:sum", "rating:avg", "sla_success:avg", "response_hours:avg", "resolution_hours:avg"],
        )
        self.assertEqual(count, 3)
        self.assertEqual(csat, 4.0, "the unrated complaint is no 0 in the satisfaction")
        self.assertEqual(sla_met, 100.0, "the open complaint, on track, is not a missed SLA")
        # Friday 15:00 to Monday 9:00: 3 working hours, of the answered and resolved ones only
        self.assertEqual((response, resolution), (3.0, 3.0))
        # the Reporting menu opens it, in pivot and graph
        menu = self.env.ref("crm_lifecycle.crm_complaint_menu_report")
        self.assertEqual(menu.action.res_model, "crm.complaint.report")
        views = Report.get_views([(False, "pivot"), (False, "graph")])["views"]
        self.assertIn('name="rating" type="measure"', views["pivot"]["arch"])

    def test_the_analysis_shows_what_the_reader_may_see(self):
        mine = self.complaint(subject="Mine")
        others = self.complaint(subject="Other desk's", team_id=self.other_team.id, user_id=self.other_agent.id)
        ids = (mine | others).ids
        Report = self.env["crm.complaint.report"]
        self.assertEqual(Report.with_user(self.agent).search([("complaint_id", "in", ids)]).complaint_id, mine)
        self.assertEqual(
            Report.with_user(self.leader).search([("complaint_id", "in", ids)]).complaint_id, mine | others
        )
        other_company = self.env["res.company"].create({"name": "Elsewhere Co"})
        stranger = new_test_user(
            self.env,
            login="cmp_report_elsewhere",
            groups=f"base.group_user,{COMPLAINT_MANAGER}",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        as_stranger = Report.with_user(stranger).with_context(allowed_company_ids=other_company.ids)
        self.assertFalse(as_stranger.search([("complaint_id", "in", ids)]))
        with self.assertRaises(AccessError):
            Report.with_user(self.salesman).search([])

    def test_no_satisfaction_shows_until_a_complaint_is_rated(self):
        complaint = self.complaint()
        self.close(complaint)
        self.assertEqual(self.team.complaint_rating_avg, 0.0)
        # 0 is no rating (ratings go from 1 to 5): the forms hide it, as they do an empty field
        for model in ("crm.team", "res.partner"):
            arch = etree.fromstring(self.env[model].get_views([(False, "form")])["views"]["form"]["arch"])
            shown = arch.xpath("//field[@name='complaint_rating_avg']")
            self.assertTrue(shown, model)
            hidden = [node for node in shown for node in (node, *node.iterancestors()) if node.get("invisible")]
            self.assertIn("not complaint_rating_avg", [node.get("invisible") for node in hidden], model)
        complaint.rating_apply(5, token=complaint._rating_get_access_token())
        self.env.invalidate_all()
        self.assertEqual(self.team.complaint_rating_avg, 5.0)
        self.assertEqual(self.customer_a.with_user(self.agent).complaint_rating_avg, 5.0)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestComplaintTrust(ComplaintCase):
    """What each role may do, and what hostile input cannot do."""

    def test_only_the_managers_review_approves_a_resolution(self):
        complaint = self.complaint(severity="high", resolution="<p>Sent a technician</p>")
        as_agent = complaint.with_user(self.agent)
        forged = [
            {"review_state": "approved"},
            {"review_state": "approved", "stage_id": self.stage_resolved.id},
            {"stage_id": self.stage_resolved.id, "review_state": "approved"},
            {"stage_id": self.stage_resolved.id, "reviewer_id": self.leader.id, "review_state": "approved"},
            {"reviewer_id": self.agent.id},
            {"review_state": "sent_back", "review_note": "fine"},
        ]
        for vals in forged:
            with self.subTest(vals=vals), self.assertRaises(AccessError), self.env.cr.savepoint():
                as_agent.write(vals)
        # nor directly by a manager, nor at creation (values or context defaults)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            complaint.with_user(self.leader).write({"review_state": "approved"})
        Complaint = self.env["crm.complaint"].with_user(self.agent)
        values = {"subject": "Forged", "severity": "high", "resolution": "<p>x</p>", "stage_id": self.stage_resolved.id}
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            Complaint.create({**values, "review_state": "approved"})
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            Complaint.with_context(default_review_state="approved").create(values)
        self.assertEqual(
            (complaint.review_state, complaint.is_closed, complaint.reviewer_id.id), ("none", False, False)
        )
        self.assertFalse(self.env["crm.complaint"].search([("subject", "=", "Forged")]))
        # the way it is meant to go
        as_agent.action_request_review()
        review = self.env["crm.complaint.review"].with_user(self.leader).create({"complaint_id": complaint.id})
        review.action_confirm()
        as_agent.write({"stage_id": self.stage_resolved.id})
        self.flush_tracking()
        self.assertEqual(
            (complaint.review_state, complaint.reviewer_id, complaint.is_closed), ("approved", self.leader, True)
        )

    def test_records_of_another_company_are_refused(self):
        other_company = self.env["res.company"].create({"name": "Elsewhere Co"})
        self.env.user.company_ids |= other_company
        # works in both companies, in company 2 at the moment (both are active in the company switcher)
        stranger = new_test_user(
            self.env,
            login="cmp_company_two",
            groups=f"base.group_user,{COMPLAINT_MANAGER},sales_team.group_sale_salesman_all_leads",
            company_id=other_company.id,
            company_ids=[Command.set((other_company | self.company).ids)],
        )
        companies = [other_company.id, self.company.id]
        Complaint = self.env["crm.complaint"].with_user(stranger).with_context(allowed_company_ids=companies)
        shared_customer = self.env["res.partner"].create({"name": "Everyone's Customer", "is_company": True})
        order, invoice = self.order(shared_customer, days_ago=3)  # in this company
        for values in (
            {"partner_id": self.customer_a.id},
            {"partner_id": shared_customer.id, "team_id": self.team.id},
            {"partner_id": shared_customer.id, "sla_id": self.sla.id},
            {"partner_id": shared_customer.id, "user_id": self.agent.id},
            {"partner_id": shared_customer.id, "sale_order_id": order.id},
            {"partner_id": shared_customer.id, "invoice_id": invoice.id},
        ):
            with (
                self.subTest(values=values),
                self.assertRaisesRegex(UserError, "Incompatible companies"),
                self.env.cr.savepoint(),
            ):
                Complaint.create({"subject": "Across companies", **values})
        self.assertFalse(self.env["crm.complaint"].search([("subject", "=", "Across companies")]))
        # a customer of no company is anyone's
        ok = Complaint.create({"subject": "Within its company", "partner_id": shared_customer.id})
        self.assertEqual(ok.company_id, other_company)
        with self.assertRaisesRegex(UserError, "Incompatible companies"), self.env.cr.savepoint():
            self.env["crm.complaint.sla"].create(
                {"name": "Across", "company_id": other_company.id, "team_id": self.team.id}
            )

    def test_complaint_managers_edit_the_complaint_settings_of_teams_only(self):
        self.assertFalse(self.leader.has_group("sales_team.group_sale_manager"))
        action = self.env.ref("crm_lifecycle.crm_team_action_complaints")
        listing = self.env["crm.team"].with_user(self.leader).get_views([(action.view_ids[0].view_id.id, "list")])
        fnames = etree.fromstring(listing["views"]["list"]["arch"]).xpath("//field/@name")
        rows = self.env["crm.team"].with_user(self.leader).search_read([("use_complaints", "=", True)], fnames)
        self.assertIn(self.team.id, [row["id"] for row in rows])
        form_view = "crm_lifecycle.crm_team_view_form_complaints"  # Configuration > Complaint Teams
        with Form(self.team.with_user(self.leader), view=form_view) as form:
            form.complaint_follow_up_days = 3
            form.complaint_escalation_reassign = True
            form.complaint_default_user_id = self.agent
            form.complaint_alias_name = "desk"
        self.assertEqual((self.team.complaint_follow_up_days, self.team.complaint_default_user_id), (3, self.agent))
        self.assertEqual(self.team.complaint_alias_name, "desk")
        for vals in (
            {"name": "Renamed"},
            {"complaint_follow_up_days": 5, "name": "Renamed"},
            {"user_id": self.leader.id},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError), self.env.cr.savepoint():
                self.team.with_user(self.leader).write(vals)
        self.assertEqual((self.team.name, self.team.complaint_follow_up_days), ("Complaint Desk", 3))
        with self.assertRaises(AccessError):
            self.team.with_user(self.leader).copy()
        # a team of another company is not theirs
        other_company = self.env["res.company"].create({"name": "Elsewhere Co"})
        foreign = self.env["crm.team"].create({"name": "Foreign Desk", "company_id": other_company.id})
        with self.assertRaises(AccessError):
            foreign.with_user(self.leader).write({"complaint_follow_up_days": 1})
        # agents change nothing; sales managers change the rest
        with self.assertRaises(AccessError):
            self.team.with_user(self.agent).write({"complaint_follow_up_days": 1})
        self.team.with_user(self.manager).write({"name": "Renamed by the sales manager"})
        self.assertEqual(self.team.name, "Renamed by the sales manager")

    def test_sla_targets_must_be_numbers(self):
        labels = {
            "response_hours": "First response within (hours)",
            "resolution_hours": "Resolution within (hours)",
            "at_risk_percent": "At risk after (%)",
        }
        for fname, label in labels.items():
            for value in (float("nan"), float("inf"), float("-inf")):
                with (
                    self.subTest(field=fname, value=value),
                    self.assertRaisesRegex(ValidationError, re.escape(f"“{label}” must be a number")),
                    self.env.cr.savepoint(),
                ):
                    self.sla.write({fname: value})
        self.sla.invalidate_recordset()
        self.assertEqual(
            (self.sla.response_hours, self.sla.resolution_hours, self.sla.at_risk_percent), (4.0, 16.0, 50.0)
        )
        with self.assertRaisesRegex(ValidationError, "must be a number"), self.env.cr.savepoint():
            self.env["crm.complaint.sla"].create({"name": "NaN", "response_hours": float("nan")})
