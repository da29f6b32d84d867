"""Care rules: birthdays, holidays, anniversaries, win-back, rung-up and after-complaint care, sent
by the daily run through the care log, with the limits, the control group and the measured effect."""

from contextlib import suppress
from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import LifecycleCase
from .test_i18n import _load_zh_cn


class Crash(Exception):
    """Stands for a worker that dies in the middle of a batch."""


class CareCase(LifecycleCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.lifecycle_care_cap_days = 0
        cls.env["crm.care.rule"].search([]).active = False  # the demo's rules: each test has its own
        cls.china = cls.env.ref("base.cn")
        cls.usa = cls.env.ref("base.us")
        cls.birthday_mail = cls.env.ref("crm_lifecycle.mail_template_care_birthday")
        cls.greetings = cls.env.ref("crm_lifecycle.mail_template_care_greetings")
        cls.birthday_sms = cls.env.ref("crm_lifecycle.sms_template_care_birthday")
        cls.Holiday = cls.env["crm.care.holiday"]

    def rule(self, **values):
        """A rule for the test's own partners (the demo database has contacts with birthdays too)."""
        audience = f"[('company_id', '=', {self.company.id})]"
        return self.env["crm.care.rule"].create(
            {"name": "Test care", "company_id": self.company.id, "audience_domain": audience, **values}
        )

    def person(self, name, **values):
        values.setdefault("email", f"{name.lower().replace(' ', '.')}@care.example.com")
        return self.env["res.partner"].create({"name": name, "company_id": self.company.id, **values})

    def run_days(self, first, last, batch_size=500):
        """The daily run, every day from `first` to `last`: {day: logs created that day}."""
        Rule = self.env["crm.care.rule"]
        created = {}
        day = first
        while day <= last:
            before = self.env["crm.care.log"].search([]).ids
            with freeze_time(datetime.combine(day, datetime.min.time()) + timedelta(hours=6)):
                while Rule._cron_run_care(batch_size=batch_size):
                    pass
            new = self.env["crm.care.log"].search([("id", "not in", before)])
            if new:
                created[day] = new
            day += timedelta(days=1)
        return created

    def logs(self, rule, partner=None):
        domain = [("rule_id", "=", rule.id)] + ([("partner_id", "=", partner.id)] if partner else [])
        return self.env["crm.care.log"].search(domain)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestCareTriggers(CareCase):
    def test_birthday_on_29_february_is_celebrated_on_the_28th_in_other_years(self):
        leap = self.person("Leap Day Baby", birthdate_date=date(1992, 2, 29))
        rule = self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id)
        created = self.run_days(date(2027, 2, 26), date(2027, 3, 2))
        self.assertEqual(list(created), [date(2027, 2, 28)], "2027 has no 29 February")
        created = self.run_days(date(2028, 2, 27), date(2028, 3, 1))
        self.assertEqual(list(created), [date(2028, 2, 29)])
        log = self.logs(rule, leap)
        self.assertEqual(log.mapped("occurrence"), [date(2028, 2, 29), date(2027, 2, 28)])
        self.assertEqual(set(log.mapped("state")), {"sent"})
        mail = log[0].mail_id
        self.assertEqual(mail.subject, "Happy birthday, Leap Day Baby!")
        self.assertIn(leap, mail.recipient_ids)
        self.assertEqual(mail.state, "outgoing", "queued for Odoo's mail queue")

    def test_days_ahead(self):
        self.person("Early Wishes", birthdate_date=date(1980, 1, 2))
        self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id, days_ahead=3)
        created = self.run_days(date(2027, 12, 27), date(2028, 1, 3))
        self.assertEqual(list(created), [date(2027, 12, 30)], "3 days before, across the new year")
        self.assertEqual(created[date(2027, 12, 30)].occurrence, date(2028, 1, 2))

    def test_spring_festival_on_its_lunar_date_in_both_years(self):
        shanghai = self.person("Shanghai Customer", country_id=self.china.id, is_company=True)
        seattle = self.person("Seattle Customer", country_id=self.usa.id, is_company=True)
        festival = self.Holiday.search(
            [("country_id", "=", self.china.id), ("key", "=", "Chinese New Year (Spring Festival)")]
        )
        self.assertEqual(festival.with_context(lang="en_US").name, "Chinese New Year (Spring Festival)")
        rule = self.rule(
            trigger="holiday", holiday_country_id=self.china.id, holiday_id=festival.id,
            mail_template_id=self.greetings.id,
        )  # fmt: skip
        self.assertEqual(list(self.run_days(date(2027, 2, 1), date(2027, 2, 10))), [date(2027, 2, 6)])
        self.assertEqual(list(self.run_days(date(2028, 1, 20), date(2028, 1, 31))), [date(2028, 1, 26)])
        self.assertEqual(self.logs(rule).partner_id, shanghai)
        self.assertFalse(self.logs(rule, seattle))

    def test_a_state_holiday_for_the_customers_of_that_state(self):
        california = self.env.ref("base.state_us_5")
        new_york = self.env.ref("base.state_us_27")
        self.assertEqual((california.code, new_york.code), ("CA", "NY"))
        la = self.person("Los Angeles Customer", country_id=self.usa.id, state_id=california.id, is_company=True)
        self.person("New York Customer", country_id=self.usa.id, state_id=new_york.id, is_company=True)
        chavez = self.Holiday.search([("country_id", "=", self.usa.id), ("key", "=", "Cesar Chavez Day")])
        self.assertTrue(chavez.regional)
        rule = self.rule(
            trigger="holiday", holiday_country_id=self.usa.id, holiday_id=chavez.id, mail_template_id=self.greetings.id
        )
        created = self.run_days(date(2027, 3, 29), date(2027, 4, 2))
        self.assertEqual(list(created), [date(2027, 3, 31)])
        self.assertEqual(self.logs(rule).partner_id, la)

    def test_thanksgiving_and_a_dated_occasion(self):
        boston = self.person("Boston Customer", country_id=self.usa.id, is_company=True)
        shanghai = self.person("Shanghai Promotion", country_id=self.china.id, is_company=True)
        thanksgiving = self.Holiday.search([("country_id", "=", self.usa.id), ("key", "=", "Thanksgiving Day")])
        rule = self.rule(
            trigger="holiday", holiday_country_id=self.usa.id, holiday_id=thanksgiving.id,
            mail_template_id=self.greetings.id,
            occasion_ids=[Command.create({"date": date(2027, 11, 20), "name": "Shanghai fair",
                                          "country_ids": [Command.set(self.china.ids)]})],
        )  # fmt: skip
        created = self.run_days(date(2027, 11, 18), date(2027, 11, 27))
        self.assertEqual(created[date(2027, 11, 20)].partner_id, shanghai)
        self.assertEqual(created[date(2027, 11, 25)].partner_id, boston, "the 4th Thursday of November 2027")
        self.assertEqual(len(self.logs(rule)), 2)

    def test_first_purchase_anniversary(self):
        customer = self.customer("Loyal Since March")
        with freeze_time("2027-03-15 10:00:00"):
            self.order(customer, on=date(2027, 3, 15))
        self.assertEqual(customer.lifecycle_first_order_date, date(2027, 3, 15))
        rule = self.rule(trigger="first_purchase_anniversary", mail_template_id=self.greetings.id)
        self.assertFalse(self.run_days(date(2027, 3, 14), date(2027, 3, 16)), "not on the day of the purchase")
        self.assertEqual(list(self.run_days(date(2028, 3, 14), date(2028, 3, 16))), [date(2028, 3, 15)])
        self.assertEqual(self.logs(rule).partner_id, customer)

    def test_win_back_once_per_quiet_spell(self):
        customer = self.customer("Gone Quiet", email="quiet@care.example.com", user_id=self.salesman.id)
        with freeze_time("2027-01-10 10:00:00"):
            self.order(customer, on=date(2027, 1, 10))
        call = self.env.ref("mail.mail_activity_data_call")
        rule = self.rule(trigger="inactivity", inactivity_days=90, activity_type_id=call.id, activity_summary="Call")
        created = self.run_days(date(2027, 4, 8), date(2027, 4, 20))
        self.assertEqual(list(created), [date(2027, 4, 10)], "90 days after the last order, once")
        activity = created[date(2027, 4, 10)].activity_id
        self.assertEqual((activity.user_id, activity.res_id, activity.summary), (self.salesman, customer.id, "Call"))
        # a new order starts a new episode
        with freeze_time("2027-05-01 10:00:00"):
            self.order(customer, on=date(2027, 5, 1))
        self.assertEqual(list(self.run_days(date(2027, 7, 28), date(2027, 8, 2))), [date(2027, 7, 30)])
        self.assertEqual(len(self.logs(rule)), 2)

    def test_win_back_by_the_customers_own_rhythm(self):
        customer = self.customer("Monthly Buyer", email="monthly@care.example.com")
        for day in (date(2027, 1, 5), date(2027, 2, 4), date(2027, 3, 6)):  # every 30 days
            with freeze_time(datetime.combine(day, datetime.min.time())):
                self.order(customer, on=day)
        self.assertEqual(customer.lifecycle_order_interval, 30.0)
        rule = self.rule(
            trigger="inactivity", inactivity_days=0, inactivity_factor=3.0, mail_template_id=self.greetings.id
        )
        self.assertEqual(list(self.run_days(date(2027, 6, 1), date(2027, 6, 8))), [date(2027, 6, 4)], "3 x 30 days")
        self.assertEqual(self.logs(rule).partner_id, customer)

    def test_after_a_complaint_was_closed(self):
        customer = self.person("Complained Once", is_company=True)
        call = self.env.ref("mail.mail_activity_data_call")
        self.rule(trigger="complaint_closed", delay_days=7, activity_type_id=call.id,
                  activity_user="user", activity_user_id=self.manager.id)  # fmt: skip
        with freeze_time("2027-06-01 10:00:00"):
            complaint = self.env["crm.complaint"].create({"subject": "Late", "partner_id": customer.id,
                                                         "company_id": self.company.id})  # fmt: skip
            complaint.write({"resolution": "<p>Sorted</p>", "stage_id": self.env.ref(
                "crm_lifecycle.crm_complaint_stage_resolved").id})  # fmt: skip
            self.flush_tracking()
        created = self.run_days(date(2027, 6, 5), date(2027, 6, 12))
        self.assertEqual(list(created), [date(2027, 6, 8)])
        self.assertEqual(created[date(2027, 6, 8)].activity_id.user_id, self.manager)

    def test_moved_up_the_ladder(self):
        customer = self.customer("Climbing", email="climbing@care.example.com")
        self.order(customer, days_ago=20)
        rule = self.rule(trigger="rung_up", rung="client", mail_template_id=self.greetings.id)
        self.order(customer, days_ago=1)
        self.assertEqual(customer.ladder_stage, "client")
        self.env["crm.care.rule"]._cron_run_care()
        self.assertEqual(self.logs(rule).mapped("state"), ["sent"])
        self.env["crm.care.rule"]._cron_run_care()
        self.assertEqual(len(self.logs(rule)), 1, "once")


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestCareLimits(CareCase):
    def test_opt_outs_blacklists_and_missing_addresses_are_skipped_with_the_reason(self):
        people = {
            "fine": self.person("Fine Person", birthdate_date=date(1990, 5, 10), mobile="+1 202 555 0111"),
            "opted_out": self.person("No Care Please", birthdate_date=date(1990, 5, 10), care_opt_out=True),
            "blacklisted": self.person("Unsubscribed", birthdate_date=date(1990, 5, 10), mobile="+1 202 555 0112"),
            "no_email": self.person("No Address", birthdate_date=date(1990, 5, 10), email=False),
        }
        self.env["mail.blacklist"].create({"email": people["blacklisted"].email})
        self.env["phone.blacklist"].create({"number": "+12025550112"})
        rule = self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id,
                         sms_template_id=self.birthday_sms.id)  # fmt: skip
        self.run_days(date(2027, 5, 10), date(2027, 5, 10))
        outcome = {(log.partner_id.name, log.channel): (log.state, log.reason or False) for log in self.logs(rule)}
        self.assertEqual(
            outcome,
            {
                ("Fine Person", "email"): ("sent", False),
                ("Fine Person", "sms"): ("sent", False),
                ("No Care Please", "email"): ("skipped", "opted_out"),
                ("No Care Please", "sms"): ("skipped", "opted_out"),
                ("Unsubscribed", "email"): ("skipped", "email_blacklisted"),
                ("Unsubscribed", "sms"): ("skipped", "phone_blacklisted"),
                ("No Address", "email"): ("skipped", "no_email"),
                ("No Address", "sms"): ("skipped", "no_mobile"),
            },
        )
        sms = self.logs(rule, people["fine"]).filtered(lambda log: log.channel == "sms").sms_id
        self.assertEqual(sms.body, "Happy birthday, Fine Person! Best wishes from Ladder Test Co.")
        self.assertEqual((sms.number, sms.state), ("+12025550111", "outgoing"))

    def test_at_most_one_care_message_per_period_across_rules(self):
        self.company.lifecycle_care_cap_days = 7
        person = self.person("Popular", birthdate_date=date(1985, 11, 25), country_id=self.usa.id)
        birthday = self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id, sequence=1)
        thanksgiving = self.rule(
            trigger="holiday", holiday_country_id=self.usa.id, sequence=2, mail_template_id=self.greetings.id,
            holiday_id=self.Holiday.search([("country_id", "=", self.usa.id), ("key", "=", "Thanksgiving Day")]).id,
        )  # fmt: skip
        self.run_days(date(2027, 11, 24), date(2027, 11, 25))  # birthday on the 25th, Thanksgiving too
        self.assertEqual(self.logs(birthday, person).state, "sent")
        self.assertEqual((self.logs(thanksgiving, person).state, self.logs(thanksgiving, person).reason),
                         ("skipped", "capped"))  # fmt: skip
        self.assertEqual(len(self.logs(birthday, person).mail_id | self.logs(thanksgiving, person).mail_id), 1)

    def test_a_rerun_sends_nothing_twice(self):
        people = [self.person(f"Twice {i}", birthdate_date=date(1990, 7, 1)) for i in range(3)]
        rule = self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id)
        self.run_days(date(2027, 7, 1), date(2027, 7, 1))
        mails = self.env["mail.mail"].search([("model", "=", "res.partner"), ("res_id", "in", [p.id for p in people])])
        self.assertEqual(len(mails), 3)
        self.assertFalse(self.run_days(date(2027, 7, 1), date(2027, 7, 1)), "the same day again: nothing")
        self.assertEqual(len(self.logs(rule)), 3)

    def test_a_crash_in_the_middle_of_a_batch_loses_and_doubles_nothing(self):
        people = [self.person(f"Crash {i}", birthdate_date=date(1990, 8, 1)) for i in range(5)]
        rule = self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id)
        with freeze_time("2027-08-01 06:00:00"):
            Rule = self.env["crm.care.rule"]
            self.assertEqual(Rule._cron_run_care(batch_size=2), 3)  # one batch, committed
            with suppress(Crash), self.env.cr.savepoint():
                Rule._cron_run_care(batch_size=2)
                raise Crash  # the next batch dies before it commits
            self.env.invalidate_all()
            self.assertEqual(len(self.logs(rule)), 2)
            while Rule._cron_run_care(batch_size=2):
                pass
        self.assertEqual(len(self.logs(rule)), 5)
        self.assertEqual(set(self.logs(rule).partner_id.ids), {p.id for p in people})
        mails = self.env["mail.mail"].search([("model", "=", "res.partner"), ("res_id", "in", [p.id for p in people])])
        self.assertEqual(len(mails), 5, "each once")

    def test_one_failing_customer_is_logged_and_the_run_goes_on(self):
        broken = self.env["mail.template"].create(
            {"name": "Needs a company", "model_id": self.env.ref("base.model_res_partner").id,
             "subject": "{{ object.parent_id.name.upper() }}", "partner_to": "{{ object.id }}",
             "body_html": "<p>Hello</p>"}
        )  # fmt: skip
        company = self.customer("Has Staff")
        staff = self.person("Staff Member", parent_id=company.id, birthdate_date=date(1990, 9, 1))
        alone = self.person("On Their Own", birthdate_date=date(1990, 9, 1))
        rule = self.rule(trigger="birthday", mail_template_id=broken.id)
        self.run_days(date(2027, 9, 1), date(2027, 9, 1))
        self.assertEqual(self.logs(rule, staff).state, "sent")
        self.assertEqual((self.logs(rule, alone).state, self.logs(rule, alone).reason), ("failed", "error"))
        self.assertTrue(self.logs(rule, alone).error)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestCareEffect(CareCase):
    def test_the_control_group_holds_out_its_share(self):
        people = self.env["res.partner"].create(
            [{"name": f"Control {i}", "email": f"c{i}@care.example.com", "birthdate_date": date(1990, 10, 1),
              "company_id": self.company.id} for i in range(300)]
        )  # fmt: skip
        rule = self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id, control_percent=25.0)
        self.run_days(date(2027, 10, 1), date(2027, 10, 1))
        held = self.logs(rule).filtered(lambda log: log.state == "held_out")
        self.assertTrue(60 <= len(held) <= 90, f"{len(held)} of 300 held out for 25%")
        self.assertEqual(len(self.logs(rule)), 300)
        self.assertFalse(held.mail_id, "the control group gets nothing")
        self.assertEqual(len(people), 300)

    def test_effect_is_the_share_who_ordered_sent_against_held_out(self):
        customers = self.env["res.partner"].browse(
            [self.customer(f"Effect {i}", email=f"e{i}@care.example.com", birthdate_date=date(1990, 3, 1)).id
             for i in range(12)]
        )  # fmt: skip
        rule = self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id, control_percent=50.0,
                         effect_days=30)  # fmt: skip
        self.run_days(date(2027, 3, 1), date(2027, 3, 1))
        logs = self.logs(rule)
        sent = logs.filtered(lambda log: log.state == "sent").partner_id
        held = logs.filtered(lambda log: log.state == "held_out").partner_id
        self.assertTrue(sent and held)
        # within the 30 days: 2 of the sent and 1 of the held out buy; one more sent buys too late
        buyers = [*sent[:2], *held[:1]]
        for partner in buyers:
            with freeze_time("2027-03-10 10:00:00"):
                self.order(partner, on=date(2027, 3, 10))
        with freeze_time("2027-04-15 10:00:00"):
            self.order(sent[2] if len(sent) > 2 else sent[0], on=date(2027, 4, 15))
        with freeze_time("2027-06-01"):
            rule.invalidate_recordset()
            self.assertEqual(
                (rule.effect_sent, rule.effect_sent_ordered, rule.effect_held_out, rule.effect_held_out_ordered),
                (len(sent), 2, len(held), 1),
            )
            self.assertAlmostEqual(rule.effect_sent_rate, 200 / len(sent), places=1)
            self.assertAlmostEqual(rule.effect_held_out_rate, 100 / len(held), places=1)
            self.assertEqual(rule.effect_verdict, "not_enough_data", "a dozen customers prove nothing")
        self.assertEqual(len(customers), 12)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestCareInTheWebClient(CareCase):
    def test_an_invalid_audience_is_refused_when_saved(self):
        with self.assertRaisesRegex(ValidationError, "not a valid filter"):
            self.rule(
                trigger="birthday", mail_template_id=self.birthday_mail.id, audience_domain="[('no_such', '=', 1)]"
            )
        with self.assertRaisesRegex(ValidationError, "not a valid filter"):
            self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id, audience_domain="[('name', '=')")

    def test_bad_numbers_are_refused(self):
        for values, message in (
            ({"control_percent": float("nan")}, "must be a number"),
            ({"control_percent": 100.0}, "control group"),
            ({"inactivity_factor": float("inf")}, "must be a number"),
            ({"days_ahead": -1}, "cannot be negative"),
        ):
            with self.subTest(values=values), self.assertRaisesRegex(ValidationError, message):
                self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id, **values)

    def test_the_audience_filters(self):
        young = self.person("Young One", birthdate_date=date(1990, 4, 1), is_company=True)
        climber = self.customer("Two Orders", birthdate_date=date(1990, 4, 1), email="two@care.example.com")
        self.order(climber, days_ago=20)
        self.order(climber, days_ago=2)
        rule = self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id, audience_min_rung="client")
        with Form(rule) as form:
            form.audience_domain = f"[('email', 'ilike', 'care.example.com'), ('company_id', '=', {self.company.id})]"
        self.run_days(date(2027, 4, 1), date(2027, 4, 1))
        self.assertEqual(self.logs(rule).partner_id, climber)
        self.assertFalse(self.logs(rule, young))

    def test_preview_shows_who_and_why_and_sends_nothing(self):
        today = fields.Date.context_today(self.env["res.partner"])
        soon = self.person("Birthday Soon", birthdate_date=(today + timedelta(days=3)).replace(year=1990))
        self.person("Opted Out Soon", birthdate_date=(today + timedelta(days=2)).replace(year=1990), care_opt_out=True)
        rule = self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id)
        action = rule.with_user(self.manager).action_preview()
        preview = self.env["crm.care.preview"].browse(action["res_id"])
        lines = {(line.partner_id.name, line.state, line.reason or False) for line in preview.line_ids}
        self.assertIn(("Birthday Soon", "sent", False), lines)
        self.assertIn(("Opted Out Soon", "skipped", "opted_out"), lines)
        self.assertFalse(self.logs(rule), "nothing sent, nothing logged")
        self.assertEqual(preview.line_ids.filtered(lambda line: line.partner_id == soon).day, today + timedelta(days=3))

    def test_one_to_one_care_from_the_customer_list(self):
        mine = self.customer("My Own Customer", user_id=self.salesman.id, email="mine@care.example.com")
        theirs = self.customer("Someone Else's", user_id=self.manager.id, email="theirs@care.example.com")
        wizard = (
            self.env["crm.care.send"]
            .with_user(self.salesman)
            .with_context(active_model="res.partner", active_ids=mine.ids)
            .create({"mail_template_id": self.greetings.id})
        )
        self.assertEqual(wizard.partner_ids, mine)
        action = wizard.action_send()
        self.assertEqual(action["params"]["message"], "1 sent.")
        log = self.env["crm.care.log"].search([("partner_id", "=", mine.id)])
        self.assertEqual((log.state, log.user_id, log.rule_id.trigger), ("sent", self.salesman, "manual"))
        self.assertEqual(log.with_user(self.salesman).partner_id, mine, "the salesperson sees their care")
        again = (
            self.env["crm.care.send"]
            .with_user(self.salesman)
            .create({"partner_ids": [Command.set(mine.ids)], "mail_template_id": self.greetings.id})
        )
        self.assertIn("already had this care today", again.action_send()["params"]["message"])
        with self.assertRaisesRegex(AccessError, "your own customers only. Not yours: Someone Else's.$"):
            self.env["crm.care.send"].with_user(self.salesman).create(
                {"partner_ids": [Command.set(theirs.ids)], "mail_template_id": self.greetings.id}
            ).action_send()

    def test_one_to_one_care_is_named_in_the_readers_language(self):
        """The company's one-to-one care rule is created once, in the first sender's language; the care log
        names it in the reader's (seen in Chinese: "One-to-one care" in the care log's rule column)."""
        _load_zh_cn(self.env)
        rule = self.env["crm.care.rule"].with_context(lang="en_US")._manual_rule(self.company)
        self.assertEqual(rule.with_context(lang="zh_CN").display_name, "一对一关怀")
        self.assertEqual(rule.with_context(lang="en_US").display_name, "One-to-one care")
        birthday = self.rule(name="Our birthday rule", trigger="birthday", mail_template_id=self.greetings.id)
        self.assertEqual(birthday.with_context(lang="zh_CN").display_name, "Our birthday rule", "a name typed in")

    def test_who_sees_and_configures_care(self):
        mine = self.customer("Salesperson's Customer", user_id=self.salesman.id, birthdate_date=date(1990, 12, 1),
                             email="sp@care.example.com")  # fmt: skip
        other = self.customer("Manager's Customer", user_id=self.manager.id, birthdate_date=date(1990, 12, 1),
                              email="mg@care.example.com")  # fmt: skip
        rule = self.rule(trigger="birthday", mail_template_id=self.birthday_mail.id)
        self.run_days(date(2027, 12, 1), date(2027, 12, 1))
        Log = self.env["crm.care.log"]
        self.assertEqual(Log.with_user(self.salesman).search([("rule_id", "=", rule.id)]).partner_id, mine)
        self.assertEqual(Log.with_user(self.manager).search([("rule_id", "=", rule.id)]).partner_id, mine | other)
        with self.assertRaises(AccessError):
            self.env["crm.care.rule"].with_user(self.salesman).create(
                {"name": "Mine", "trigger": "birthday", "mail_template_id": self.birthday_mail.id}
            )
        self.assertEqual(rule.with_user(self.salesman).name, "Test care", "salespeople read the rules")
        portal = new_test_user(self.env, login="care_portal", groups="base.group_portal")
        with self.assertRaises(AccessError):
            Log.with_user(portal).search([])
        with self.assertRaises(AccessError):
            self.env["crm.care.rule"].with_user(portal).search([])
        other_company = self.env["res.company"].create({"name": "Care Elsewhere"})
        outsider = new_test_user(
            self.env, login="care_elsewhere", groups="base.group_user,sales_team.group_sale_manager",
            company_id=other_company.id, company_ids=[Command.set(other_company.ids)],
        )  # fmt: skip
        self.assertFalse(
            self.env["crm.care.rule"]
            .with_user(outsider)
            .with_context(allowed_company_ids=other_company.ids)
            .search([("id", "=", rule.id)])
        )
