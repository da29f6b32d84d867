"""Lead assignment by the team's strategy, the members' working time and their rules by industry,
region and size, through Odoo's own Assign Leads and its scheduled action."""

import re
import threading
from contextlib import contextmanager
from datetime import datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import AssignmentCase

SATURDAY = datetime(2026, 3, 21, 10, 0)
MONDAY = datetime(2026, 3, 23, 10, 0)


@contextmanager
def queries():
    """The SQL run meanwhile (observed through the cursor's query hooks)."""
    seen = []
    thread = threading.current_thread()
    previous = getattr(thread, "query_hooks", ())
    thread.query_hooks = (*previous, lambda cr, query, params, start, delay: seen.append(str(query)))
    try:
        yield seen
    finally:
        thread.query_hooks = previous


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestStrategies(AssignmentCase):
    def test_round_robin_takes_turns_and_stays_fair_over_runs(self):
        self.team.assignment_strategy = "round_robin"
        first = self.new_leads(7)
        self.assign()
        self.assertEqual(self.held(first), {self.alice: 3, self.bob: 2, self.carol: 2})
        self.assertTrue(all(lead.type == "opportunity" for lead in first), "assigned leads are converted, as Odoo does")
        # the next run starts with those who waited longest: Bob and Carol
        second = self.new_leads(2)
        self.assign()
        self.assertEqual(self.held(second), {self.alice: 0, self.bob: 1, self.carol: 1})
        # and over many runs of odd sizes nobody ever holds more than one lead more than another
        everything = first | second
        for size in (1, 2, 1, 1, 2):
            everything |= self.new_leads(size)
            self.assign()
            counts = self.held(everything).values()
            self.assertLessEqual(max(counts) - min(counts), 1, self.held(everything))

    def test_round_robin_lead_says_which_rule(self):
        self.team.assignment_strategy = "round_robin"
        lead = self.new_leads(1)
        self.assign()
        self.assertEqual(lead.user_id, self.alice)
        self.assertIn("Round robin in team Europe: Alice's turn.", self.assignment_note(lead))

    def test_least_loaded_goes_to_the_fewest_open_leads(self):
        self.team.assignment_strategy = "least_loaded"
        self.env["crm.lead"].create(
            [{"name": f"Alice's {i}", "user_id": self.alice.id, "team_id": self.team.id} for i in range(3)]
            + [{"name": "Bob's", "user_id": self.bob.id, "team_id": self.team.id}]
        )
        # a won opportunity and a lead in the nurture pool are no load
        won = self.env["crm.lead"].create({"name": "Won", "user_id": self.carol.id, "team_id": self.team.id})
        won.action_set_won()
        later = self.env["crm.lead"].create({"name": "Later", "user_id": self.carol.id, "team_id": self.team.id})
        later.action_nurture()
        leads = self.new_leads(3)
        self.assign()
        self.assertEqual(self.held(leads), {self.alice: 0, self.bob: 1, self.carol: 2})
        first = leads.sorted("id")[0]
        self.assertEqual(first.user_id, self.carol)
        self.assertIn("Carol held the fewest open leads (0)", self.assignment_note(first))

    def test_weighted_is_odoos_assignment_and_says_so(self):
        leads = self.new_leads(6)
        self.assign()
        # Odoo's own round of the members with quota left: two each
        self.assertEqual(self.held(leads), {self.alice: 2, self.bob: 2, self.carol: 2})
        self.assertIn("Weighted assignment (Odoo) in team Europe", self.assignment_note(leads[0]))

    def test_weighted_reads_no_working_time_when_nobody_has_any(self):
        self.new_leads(3)
        self.assertFalse(self.team.assignment_working_time)
        with queries() as seen:
            self.assign()
        self.assertFalse([q for q in seen if re.search(r"(FROM|JOIN) \"resource_", q)], "no working time read")

    def test_capacity_is_odoos(self):
        self.team.assignment_strategy = "round_robin"
        self.member_of[self.carol].assignment_max = 0  # no capacity: nothing for her
        self.member_of[self.bob].assignment_optout = True  # skips automatic assignment
        leads = self.new_leads(5)
        self.assign()
        # Alice's daily quota is 3; the other two leads wait for tomorrow
        self.assertEqual(self.held(leads), {self.alice: 3, self.bob: 0, self.carol: 0})
        self.assertEqual(len(leads.filtered(lambda lead: not lead.user_id)), 2)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestWorkingTime(AssignmentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env["resource.calendar"].create(
            {"name": "Office week", "company_id": cls.company.id, "tz": "UTC"}
        )  # Monday to Friday, 8 to 17 (Odoo's default attendances)
        for user in (cls.bob, cls.carol):
            cls.member_of[user].resource_calendar_id = cls.calendar
        cls.carol_resource = cls.carol.resource_ids

    def time_off(self, resource, start, stop, name="Holiday"):
        return self.env["resource.calendar.leaves"].create(
            {
                "name": name,
                "resource_id": resource.id if resource else False,
                "calendar_id": self.calendar.id,
                "company_id": self.company.id,
                "date_from": start,
                "date_to": stop,
            }
        )

    def test_working_hours_create_the_members_resource(self):
        self.assertEqual(self.carol_resource.calendar_id, self.calendar)
        self.assertEqual(self.member_of[self.carol].resource_calendar_id, self.calendar)
        self.assertTrue(self.team.assignment_working_time)
        self.assertFalse(self.member_of[self.alice].resource_calendar_id)

    @freeze_time(SATURDAY)
    def test_nobody_gets_leads_on_a_day_off(self):
        members = self.members
        self.assertEqual(members.mapped("available_today"), [True, False, False])
        self.assertEqual(self.member_of[self.bob].off_reason, "not_working")
        for strategy in ("round_robin", "weighted"):
            self.team.assignment_strategy = strategy
            leads = self.new_leads(3)
            self.assign()
            self.assertEqual(self.held(leads), {self.alice: 3, self.bob: 0, self.carol: 0}, strategy)
            off = "Off today: Bob (not a working day), Carol (not a working day)."
            self.assertIn(off, self.assignment_note(leads[0]))

    @freeze_time(MONDAY)
    def test_time_off_and_public_holidays(self):
        self.team.assignment_strategy = "round_robin"
        self.time_off(self.carol_resource, datetime(2026, 3, 23, 0, 0), datetime(2026, 3, 24, 0, 0))
        self.members.invalidate_recordset(["available_today", "off_reason"])
        self.assertEqual(self.member_of[self.carol].off_reason, "time_off")
        self.assertTrue(self.member_of[self.bob].available_today)
        leads = self.new_leads(2)
        self.assign()
        self.assertEqual(self.held(leads), {self.alice: 1, self.bob: 1, self.carol: 0})
        self.assertIn("Off today: Carol (time off).", self.assignment_note(leads[0]))
        # a public holiday of their calendar (a time off for everyone)
        self.time_off(False, datetime(2026, 3, 23, 0, 0), datetime(2026, 3, 23, 23, 59, 59), name="Founders' day")
        self.members.invalidate_recordset(["available_today", "off_reason"])
        self.assertEqual(self.member_of[self.bob].off_reason, "holiday")
        self.assertEqual(self.member_of[self.carol].off_reason, "time_off")

    @freeze_time(MONDAY)
    def test_half_a_day_off_is_a_day_at_work(self):
        self.time_off(self.carol_resource, datetime(2026, 3, 23, 7, 0), datetime(2026, 3, 23, 12, 0))
        self.assertTrue(self.member_of[self.carol].available_today)

    @freeze_time(MONDAY)
    def test_time_off_of_a_member_without_working_hours(self):
        resource = self.env["resource.resource"].create(
            {"name": "Alice", "user_id": self.alice.id, "calendar_id": False, "company_id": self.company.id}
        )
        self.time_off(resource, datetime(2026, 3, 22, 0, 0), datetime(2026, 3, 25, 0, 0))
        self.assertEqual(self.member_of[self.alice].off_reason, "time_off")

    def test_a_salesperson_sees_who_is_at_work_but_sets_nobodys_hours(self):
        member = self.member_of[self.carol].with_user(self.alice)
        self.assertEqual(member.resource_calendar_id, self.calendar)
        self.assertIsInstance(member.available_today, bool, "reading is allowed")
        with self.assertRaises(AccessError):
            member.resource_calendar_id = False


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestRules(AssignmentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.software = cls.env["res.partner.industry"].create({"name": "Software"})
        china = cls.env.ref("base.cn")
        cls.shanghai = cls.env.ref("base.state_cn_SH")
        cls.east_china = cls.env["crm.region"].create(
            {"name": "East China", "state_ids": [Command.set((cls.shanghai | cls.env.ref("base.state_cn_JS")).ids)]}
        )
        cls.rest_of_china = cls.env["crm.region"].create({"name": "China", "country_ids": [Command.set(china.ids)]})
        cls.team.assignment_strategy = "round_robin"
        cls.member_of[cls.alice].assignment_domain = f"[('industry_id', '=', {cls.software.id})]"
        cls.member_of[cls.bob].assignment_domain = f"[('region_id', '=', {cls.east_china.id})]"
        cls.member_of[cls.carol].assignment_domain = "[('company_size', 'in', ['201_1000', '1000_plus'])]"

    def test_lead_takes_industry_and_size_from_its_customer_and_region_from_its_address(self):
        customer = self.customer("Hangzhou Soft", industry_id=self.software.id, company_size="51_200")
        lead = self.env["crm.lead"].create({"name": "Web form", "partner_id": customer.id})
        self.assertEqual((lead.industry_id, lead.company_size), (self.software, "51_200"))
        contact = self.env["res.partner"].create({"name": "Their buyer", "parent_id": customer.id})
        self.assertEqual(contact.company_size, "51_200", "a contact shows their company's size")
        lead.write({"country_id": self.env.ref("base.cn").id, "state_id": self.shanghai.id})
        self.assertEqual(lead.region_id, self.east_china, "the state's region before the country's")
        lead.state_id = self.env.ref("base.state_cn_BJ")
        self.assertEqual(lead.region_id, self.rest_of_china)
        # a region changed places the leads again
        self.east_china.state_ids |= self.env.ref("base.state_cn_BJ")
        self.assertEqual(lead.region_id, self.east_china)

    def test_each_member_gets_the_leads_their_domain_takes(self):
        software = self.new_leads(1, industry_id=self.software.id)
        shanghai = self.new_leads(1, country_id=self.env.ref("base.cn").id, state_id=self.shanghai.id)
        big = self.new_leads(1, company_size="1000_plus")
        unmatched = self.new_leads(1, company_size="1_10")
        self.assign()
        self.assertEqual(
            (software.user_id, shanghai.user_id, big.user_id, unmatched.user_id),
            (self.alice, self.bob, self.carol, self.env["res.users"]),
        )
        self.assertIn("The lead matches Bob's assignment domain.", self.assignment_note(shanghai))

    def test_converting_a_lead_gives_the_new_customer_its_industry_and_size(self):
        lead = self.env["crm.lead"].create(
            {"name": "Card", "partner_name": "Ningbo Tools", "industry_id": self.software.id, "company_size": "11_50"}
        )
        lead._handle_partner_assignment(create_missing=True)
        company = lead.partner_id.commercial_partner_id
        self.assertEqual((company.industry_id, company.company_size), (self.software, "11_50"))

    def test_regions_need_a_place(self):
        with self.assertRaises(Exception):  # noqa: B017 (ValidationError, raised by the constraint)
            self.env["crm.region"].create({"name": "Nowhere"})


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestModeAndRights(AssignmentCase):
    def test_manual_teams_are_skipped_by_the_scheduled_action(self):
        self.team.assignment_strategy = "round_robin"
        self.team.assignment_mode = "manual"
        self.assertTrue(self.team.assignment_optout, "the mode is Odoo's Skip auto assignment")
        leads = self.new_leads(2)
        self.env["crm.team"]._cron_assign_leads()
        self.assertFalse(leads.user_id)
        self.team.assignment_mode = "auto"
        self.env["crm.team"]._cron_assign_leads()
        self.assertEqual(len(leads.user_id), 2)

    def test_the_scheduled_action_is_odoos(self):
        cron = self.env.ref("crm.ir_cron_crm_lead_assign")
        self.assertEqual(cron.code, "model._cron_assign_leads()")

    def test_only_sales_managers_change_team_settings_or_assign(self):
        team = self.team.with_user(self.alice)
        self.assertEqual(team.assignment_strategy, "weighted")
        for values in ({"assignment_strategy": "round_robin"}, {"stale_days": 3}, {"assignment_mode": "manual"}):
            with self.assertRaises(AccessError):
                team.write(values)
        with self.assertRaises(UserError):
            team._action_assign_leads(force_quota=True)
        self.team.with_user(self.manager).write({"assignment_strategy": "least_loaded", "stale_days": 7})
        self.assertEqual(self.team.assignment_strategy, "least_loaded")
