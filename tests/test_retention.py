"""Retention and churn, through real orders, invoices, complaints and activities: the risk and its
explanation per factor, churned then won back, the churn reason, RFM scores, lifetime value, the
early warning."""

from datetime import timedelta

import numpy as np
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import fields, sql_db
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.crm_lifecycle.lib import bgnbd, rfm
from odoo.addons.crm_lifecycle.report import materialized

from .common import LifecycleCase


class RetentionCase(LifecycleCase):
    def regular(self, name, every=30, count=4, last=0, **values):
        """A customer who ordered `count` times, every `every` days, the last one `last` days ago."""
        partner = self.customer(name, **values)
        for index in range(count):
            self.order(partner, days_ago=last + every * (count - 1 - index))
        return partner

    def refit(self):
        """What the nightly run does first: rank and fit the company's models again, then recompute."""
        self.company._lifecycle_refresh_cutpoints()
        self.env["crm.lifecycle.retention"]._fit(self.company)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestChurnRisk(RetentionCase):
    def test_a_steady_customer_has_a_low_risk(self):
        partner = self.regular("Steady Buyer", every=30, last=5, user_id=self.salesman.id)
        partner.with_user(self.salesman).message_post(body="Visited them", message_type="comment")
        partner._lifecycle_recompute()
        self.assertEqual(partner.churn_risk_level, "low")
        self.assertLess(partner.churn_risk, 35)
        self.assertFalse(partner.churn_date)

    def test_each_factor_is_explained_with_its_points(self):
        partner = self.regular("Drifting Away", every=30, last=100, user_id=self.salesman.id)
        self.order(partner, days_ago=120, paid=False, due_days=10)  # unpaid for 110 days
        complaint = self.env["crm.complaint"].create(
            {"subject": "Still waiting", "partner_id": partner.id, "severity": "high", "company_id": self.company.id}
        )
        self.flush_tracking()
        partner._lifecycle_recompute()
        data = partner.churn_risk_data["factors"]
        codes = [code for code, _params in data]
        self.assertEqual(codes, ["recency", "overdue", "complaints", "no_contact"])
        self.assertEqual(partner.churn_risk, sum(params["points"] for _code, params in data), "the points add up")
        self.assertEqual(partner.churn_risk_level, "high")
        recency = dict(data)["recency"]
        usual = round(partner.lifecycle_order_interval)  # 30 days apart, and the unpaid one between
        self.assertEqual((recency["days"], recency["usual"]), (100, usual))
        reason = partner.churn_risk_reason
        self.assertIn(f"No order for 100 days, usually every {usual}", reason)
        self.assertIn("$\xa0100.00 overdue", reason)
        self.assertIn("1 open complaint, 1 serious complaint in 12 months", reason)
        self.assertIn("no contact from us yet", reason)
        self.assertTrue(complaint)

    def test_a_falling_revenue_counts(self):
        partner = self.customer("Buying Less")
        for months in (11, 10, 9, 8):
            self.order(partner, months_ago=months, qty=10)  # 1,000 a month, 6 to 12 months ago
        self.order(partner, months_ago=1, qty=1)  # then 100 in the last 6 months
        partner._lifecycle_recompute()
        trend = dict(partner.churn_risk_data["factors"])["trend"]
        self.assertEqual(trend["drop"], 98)
        self.assertIn("Revenue down 98% on the 6 months before (15 points)", partner.churn_risk_reason)

    def test_a_low_satisfaction_counts(self):
        partner = self.regular("Unhappy With Us", every=20, last=3)
        complaint = self.env["crm.complaint"].create(
            {"subject": "Rude answer", "partner_id": partner.id, "company_id": self.company.id,
             "resolution": "<p>Apologised</p>"}
        )  # fmt: skip
        complaint.write({"stage_id": self.env.ref("crm_lifecycle.crm_complaint_stage_resolved").id})
        complaint.rating_apply(1, token=complaint._rating_get_access_token())
        self.flush_tracking()
        partner._lifecycle_recompute()
        rating = dict(partner.churn_risk_data["factors"])["rating"]
        self.assertEqual((rating["rating"], rating["points"]), (1.0, 10))
        self.assertIn("Satisfaction 1.0 of 5 (10 points)", partner.churn_risk_reason)

    def test_the_weights_are_the_companys_and_are_checked(self):
        partner = self.regular("Weighed", every=30, last=100)
        partner._lifecycle_recompute()
        before = partner.churn_risk
        # 35 more points for a long silence, taken from the falling revenue and from nobody in touch
        self.company.with_user(self.manager).write(
            {"lifecycle_churn_weight_recency": 70.0, "lifecycle_churn_weight_trend": 0.0,
             "lifecycle_churn_weight_no_contact": 0.0, "lifecycle_churn_weight_complaints": 10.0}
        )  # fmt: skip
        partner._lifecycle_recompute()
        self.assertGreater(partner.churn_risk, before)
        factors = dict(partner.churn_risk_data["factors"])
        self.assertEqual(factors["recency"]["points"], 70)
        self.assertEqual(sum(f["points"] for f in factors.values()), partner.churn_risk, "the points add up")
        for values, message in (
            ({"lifecycle_churn_weight_recency": float("nan")}, "must be a number"),
            ({"lifecycle_churn_medium_from": 80}, "levels must rise"),
            ({"lifecycle_churn_period_days": 10}, "30 days"),
            ({f"lifecycle_churn_weight_{f}": 0.0 for f in ("recency", "trend", "overdue", "complaints", "rating",
                                                           "no_contact")}, r"add up to 100.*\(now 0"),
            ({"lifecycle_churn_weight_recency": 99.0}, r"add up to 100.*\(now 129"),
            ({"lifecycle_churn_weight_recency": -5.0, "lifecycle_churn_weight_trend": 55.0}, "cannot be negative"),
        ):  # fmt: skip
            with self.subTest(values=values), self.assertRaisesRegex(ValidationError, message), self.env.cr.savepoint():
                self.company.with_user(self.manager).write(values)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestChurnAndWinBack(RetentionCase):
    def test_churned_after_the_period_then_won_back(self):
        partner = self.regular("Gone For A Year", every=60, count=3, last=400)
        partner._lifecycle_recompute()
        # orders 520, 460 and 400 days ago: a usual interval of 60 days, so a year without orders
        self.assertEqual(partner.churn_date, self.ago(days=35))
        self.assertFalse(partner.won_back_date)
        self.assertTrue(partner.churned)
        self.order(partner, days_ago=1)
        self.assertEqual(partner.won_back_date, self.ago(days=1))
        self.assertEqual(partner.churn_date, self.ago(days=35), "the churn stays recorded for the reports")
        self.assertFalse(partner.churned)
        note = partner.message_ids.filtered(lambda m: "Won back" in (m.body or ""))
        self.assertEqual(len(note), 1)

    def test_churn_by_reason_counts_the_customers_lost_now_not_those_won_back(self):
        gone = self.regular("Still Gone", every=60, count=3, last=400)
        back = self.regular("Came Back", every=60, count=3, last=400)
        (gone | back)._lifecycle_recompute()
        self.order(back, days_ago=1)
        self.assertTrue(back.churn_date and not back.churn_reason, "won back: the churn is kept, its reason cleared")
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_lifecycle.res_partner_action_churn_reason_report")
        domain = [*safe_eval(action["domain"]), ("id", "in", (gone | back).ids)]
        groups = self.env["res.partner"].with_user(self.manager).read_group(domain, ["churn_reason"], ["churn_reason"])
        self.assertEqual([(g["churn_reason"], g["churn_reason_count"]) for g in groups], [(gone.churn_reason, 1)])
        self.assertTrue(gone.churn_reason, "a reason is proposed for the lost customer")

    def test_a_yearly_buyer_is_not_churned_after_a_year(self):
        partner = self.regular("Buys Every Year", every=300, count=3, last=370)
        partner._lifecycle_recompute()
        self.assertFalse(partner.churn_date, "three of their intervals (900 days) have not passed")

    def test_the_reason_is_proposed_from_complaints_and_a_persons_choice_is_kept(self):
        partner = self.regular("Left Over Price", every=60, count=3, last=380)
        for subject in ("Too dear", "Price went up"):
            self.env["crm.complaint"].create(
                {"subject": subject, "partner_id": partner.id, "category": "price", "company_id": self.company.id,
                 "request_date": fields.Datetime.now() - timedelta(days=200)}
            )  # fmt: skip
        self.flush_tracking()
        partner._lifecycle_recompute()
        self.assertTrue(partner.churn_date)
        self.assertEqual(partner.churn_reason, "price")
        partner.with_user(self.salesman).write({"churn_reason": "service"})
        self.flush_tracking()
        partner._lifecycle_recompute()
        self.assertEqual((partner.churn_reason, partner.churn_reason_manual), ("service", True))
        partner.with_user(self.salesman).write({"churn_reason": False})
        self.flush_tracking()
        self.assertEqual(partner.churn_reason, "price", "cleared: the proposal again")

    def test_a_lost_opportunity_proposes_the_reason(self):
        partner = self.regular("Lost To Stock", every=60, count=3, last=380)
        lead = self.env["crm.lead"].create({"name": "Reorder", "type": "opportunity", "partner_id": partner.id})
        lead.action_set_lost(lost_reason_id=self.env.ref("crm.lost_reason_3").id)
        partner._lifecycle_recompute()
        self.assertEqual(partner.churn_reason, "product", "Not enough stock")


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestEarlyWarning(RetentionCase):
    def test_one_activity_when_the_risk_turns_high(self):
        partner = self.regular("Worrying", every=20, last=90, user_id=self.salesman.id)
        self.order(partner, days_ago=95, paid=False, due_days=5)
        self.env["crm.complaint"].create({"subject": "Broken", "partner_id": partner.id, "company_id": self.company.id})
        self.flush_tracking()
        partner._lifecycle_recompute()
        self.assertEqual(partner.churn_risk_level, "high")
        warnings = partner.activity_ids.filtered(lambda a: "Churn risk high" in (a.summary or ""))
        self.assertEqual((len(warnings), warnings.user_id), (1, self.salesman))
        self.assertIn("No order for 90 days", warnings.note)
        partner._lifecycle_recompute()
        self.env["crm.lifecycle.engine"]._recompute_now(partner)
        self.assertEqual(len(partner.activity_ids.filtered(lambda a: "Churn risk high" in (a.summary or ""))), 1)
        # it leaves high (a new order), then turns high again (another quiet spell): warned again
        self.order(partner, days_ago=0)
        self.assertNotEqual(partner.churn_risk_level, "high")
        self.assertFalse(partner.churn_warned)
        with freeze_time(fields.Datetime.now() + timedelta(days=100)):
            partner._lifecycle_recompute()
        self.assertEqual(partner.churn_risk_level, "high")
        self.assertEqual(len(partner.activity_ids.filtered(lambda a: "Churn risk high" in (a.summary or ""))), 2)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestValue(RetentionCase):
    def test_rfm_scores_are_the_companys_quintiles(self):
        customers = [self.regular(f"RFM {i}", every=20, count=1 + i % 4, last=5 * i) for i in range(10)]
        self.refit()
        everyone = self.env["res.partner"].search(
            [("company_id", "=", self.company.id), ("lifecycle_purchase_days", ">", 0)]
        )
        everyone._lifecycle_recompute()
        recency = [(self.today - p.lifecycle_last_order_date).days for p in everyone]
        frequency = [p.lifecycle_order_count - p.lifecycle_refund_count for p in everyone]
        monetary = [p.lifecycle_revenue for p in everyone]
        expected = rfm.rfm_scores(np.array(recency), np.array(frequency), np.array(monetary))
        stored = [everyone.mapped(f) for f in ("rfm_recency_score", "rfm_frequency_score", "rfm_monetary_score")]
        self.assertEqual([list(map(int, e)) for e in expected], stored, "each as it ranks among all of them")
        best = max(everyone, key=lambda p: p.lifecycle_revenue)
        self.assertEqual(best.rfm_monetary_score, 5)
        champion = customers[3]  # 4 orders, the last 15 days ago
        self.assertEqual(champion.rfm_frequency_score, 5)
        self.assertTrue(champion.rfm_segment)

    def test_lifetime_value_from_the_fitted_models(self):
        # some buy still, some stopped months ago: the model can tell how customers drop out
        customers = [
            self.regular(f"Model {i}", every=15 + 5 * (i % 5), count=2 + i % 4, last=i * 29) for i in range(14)
        ]
        self.refit()
        models = self.company.lifecycle_models
        self.assertEqual(models["customers"], 14 + 20, "the market and the test's customers")
        self.assertTrue(models["bgnbd"], "fitted")
        partner = customers[5]
        partner._lifecycle_recompute()
        model = bgnbd.BgNbd(*models["bgnbd"])
        x = partner.lifecycle_purchase_days - 1
        t_x = (partner.lifecycle_last_order_date - partner.lifecycle_first_order_date).days
        age = (self.today - partner.lifecycle_first_order_date).days
        self.assertAlmostEqual(partner.probability_alive, float(model.probability_alive(x, t_x, age)), places=4)
        self.assertAlmostEqual(partner.expected_orders_12m, float(model.expected_purchases(365, x, t_x, age)), places=2)
        self.assertAlmostEqual(
            partner.lifetime_value, partner.lifecycle_margin + partner.projected_margin_12m, places=2
        )
        self.assertGreater(partner.projected_margin_12m, 0)
        quiet = customers[13]  # the last order 377 days ago
        self.assertLess(quiet.probability_alive, partner.probability_alive)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestRetentionReports(RetentionCase):
    def month(self, months_ago):
        return (self.today - relativedelta(months=months_ago)).replace(day=1)

    def nightly_run(self):
        """The nightly run, from its first batch to its end, as the cron runner calls it."""
        engine = self.env["crm.lifecycle.engine"]
        self.env["crm.lifecycle.run"]._for_job("ladder")._restart()
        while engine._cron_recompute():
            pass

    def test_a_cohort_shows_every_month_including_those_nobody_bought_in(self):
        """Two customers first buy five months ago; one buys again two months later, then neither."""
        start = self.month(5)
        again = self.customer("Cohort Buys Again")
        once = self.customer("Cohort Buys Once")
        self.order(again, on=start + timedelta(days=2))
        self.order(again, on=self.month(3) + timedelta(days=2))
        self.order(once, on=start + timedelta(days=2))
        self.env["crm.lifecycle.retention.report"]._refresh_reports()  # as the nightly run does
        rows = self.env["crm.lifecycle.cohort.report"].search(
            [("company_id", "=", self.company.id), ("cohort", "=", start)], order="months_after"
        )
        self.assertEqual(rows.mapped("months_after"), [0, 1, 2, 3, 4, 5], "up to this month")
        self.assertEqual(rows.mapped("retention"), [100, 0, 50, 0, 0, 0])
        self.assertEqual(set(rows.mapped("cohort_size")), {2})
        # the pivot's figure for the cohort over its months: the average of the months, the empty ones in
        total = self.env["crm.lifecycle.cohort.report"].read_group(
            [("company_id", "=", self.company.id), ("cohort", "=", start)], ["retention"], []
        )
        self.assertAlmostEqual(total[0]["retention"], 150 / 6)

    def test_customers_at_the_start_of_several_months_are_averaged_not_added(self):
        early = self.customer("Retention Early")
        self.order(early, on=self.month(5) + timedelta(days=2))
        self.order(early, on=self.month(4) + timedelta(days=2))
        self.env["crm.lifecycle.retention.report"]._refresh_reports()  # as the nightly run does
        domain = [("company_id", "=", self.company.id), ("month", ">=", self.month(4)), ("month", "<=", self.month(3))]
        Report = self.env["crm.lifecycle.retention.report"]
        months = Report.search(domain)
        self.assertEqual(months.mapped("active_start"), [1, 1], "the same customer at the start of both months")
        total = Report.read_group(domain, ["active_start", "retained_count", "new_count"], [])[0]
        self.assertEqual((total["active_start"], total["retained_count"]), (1, 1), "one customer, not two")

    def test_the_reports_show_the_books_as_of_the_end_of_the_last_nightly_run(self):
        start = self.month(7)
        partner = self.customer("Cohort Nightly")
        self.order(partner, on=start + timedelta(days=2))
        self.order(partner, on=self.month(6) + timedelta(days=2))
        Cohorts, Retention = self.env["crm.lifecycle.cohort.report"], self.env["crm.lifecycle.retention.report"]
        cohort = [("company_id", "=", self.company.id), ("cohort", "=", start)]
        months = [("company_id", "=", self.company.id), ("month", "=", start)]
        self.assertFalse(Cohorts.search(cohort), "stored: not before the nightly run")
        engine = self.env["crm.lifecycle.engine"]
        self.env["crm.lifecycle.run"]._for_job("ladder")._restart()
        self.assertTrue(engine._cron_recompute(batch_size=1), "the run has more batches")
        self.assertFalse(Cohorts.search(cohort), "nor after a batch that is not the last")
        while engine._cron_recompute():
            pass
        rows = Cohorts.search(cohort, order="months_after")
        self.assertEqual(rows.mapped("active_count"), [1, 1, 0, 0, 0, 0, 0, 0])
        self.assertEqual(Retention.search(months).new_count, 1)

    def test_a_refresh_while_another_runs_is_skipped_and_the_nightly_run_ends(self):
        partner = self.customer("Retention Meanwhile")
        self.order(partner, on=self.month(6) + timedelta(days=2))
        Retention = self.env["crm.lifecycle.retention.report"]
        months = [("company_id", "=", self.company.id), ("month", "=", self.month(6))]
        tables = [self.env[name]._table for name in materialized.REPORT_MODELS]
        self.env.cr.execute("SET LOCAL lock_timeout = '20s'")  # a reader blocked by the other refresh fails
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute("SET LOCAL statement_timeout = '60s'")
            self.assertTrue(materialized.refresh(other, tables), "another transaction refreshes them, still open")
            self.assertIs(Retention._refresh_reports(), False, "skipped")
            self.nightly_run()
            self.assertFalse(self.env["crm.lifecycle.run"]._for_job("ladder").cursor, "the run ended")
            self.assertFalse(Retention.search(months), "read meanwhile: the figures of the refresh before")
        finally:
            other.rollback()
            other.close()
        self.assertIs(Retention._refresh_reports(), True)
        self.assertEqual(Retention.search(months).new_count, 1)
