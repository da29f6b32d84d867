"""Refunds, instalments, payments and rankings as the books have them: each case a customer's rung or
figure got wrong against an independent computation, and how it counts now."""

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import Form, tagged

from .common import LifecycleCase


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestRefunds(LifecycleCase):
    def _credit(self, invoice, quantity=None, price=None):
        """A credit note made from the invoice with Odoo's wizard, changed as a user would, posted."""
        wizard = Form(
            self.env["account.move.reversal"].with_context(active_model="account.move", active_ids=invoice.ids)
        ).save()
        credit = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        with Form(credit) as form, form.invoice_line_ids.edit(0) as line:
            if quantity is not None:
                line.quantity = quantity
            if price is not None:
                line.price_unit = price
        credit.action_post()
        self.flush_tracking()
        return credit

    def test_a_refund_removes_its_own_order(self):
        """Three orders on two days, one of the same-day pair credited: sales on two days remain."""
        partner = self.customer("Same Day Refund")
        _order, first = self.order(partner, days_ago=20)
        self.order(partner, days_ago=20)
        self.order(partner, days_ago=10)
        self.refund(first)
        self.assertEqual(partner.ladder_stage, "client")
        self.assertEqual((partner.lifecycle_order_count, partner.lifecycle_refund_count), (3, 1))
        self.assertIn("2 orders in 10 days, 1 refunded (not counted)", partner.ladder_reason)

    def test_a_recent_refund_of_an_old_order_keeps_the_recent_orders(self):
        partner = self.customer("Old Order Refunded")
        _order, old = self.order(partner, months_ago=16)
        for months in (14, 8, 4, 1):
            self.order(partner, months_ago=months)
        self.assertEqual(partner.ladder_stage, "supporter")
        self.refund(old, days_ago=2)  # dated now: the order it refunds is 16 months old
        self.assertEqual(partner.ladder_stage, "supporter")
        self.assertEqual(partner.lifecycle_order_count_12m, 3)
        self.assertIn("3 in the last 12 months", partner.ladder_reason)

    def test_a_confirmed_order_after_a_full_refund_is_a_sale(self):
        partner = self.customer("Second Chance")
        _order, invoice = self.order(partner, months_ago=2)
        self.refund(invoice)
        self.assertEqual(partner.ladder_stage, "prospect")
        self.order(partner, days_ago=1, invoice=False)  # confirmed, not invoiced yet
        self.assertEqual(partner.ladder_stage, "customer")
        self.assertEqual(partner.lifecycle_stage, "signed")

    def test_two_partial_credit_notes_refund_the_whole_invoice(self):
        partner = self.customer("Credited In Two Halves")
        _order, invoice = self.order(partner, days_ago=30, qty=4, paid=False)
        self.order(partner, days_ago=10)
        self._credit(invoice, quantity=2)
        self.assertEqual(partner.ladder_stage, "client", "half credited: still a purchase")
        self._credit(invoice, quantity=2)
        self.assertEqual(invoice.payment_state, "reversed", "Odoo shows the invoice reversed")
        self.assertEqual(partner.ladder_stage, "customer")
        self.assertEqual(partner.lifecycle_refund_count, 1)

    def test_reverse_and_create_invoice_keeps_the_sale(self):
        partner = self.customer("Corrected Invoice")
        _order, invoice = self.order(partner, days_ago=12)
        wizard = Form(
            self.env["account.move.reversal"].with_context(active_model="account.move", active_ids=invoice.ids)
        ).save()
        corrected = self.env["account.move"].browse(wizard.modify_moves()["res_id"])
        corrected.invoice_date = self.ago(days=12)
        corrected.action_post()
        self.flush_tracking()
        self.assertEqual(partner.ladder_stage, "customer")
        self.assertEqual((partner.lifecycle_order_count, partner.lifecycle_refund_count), (1, 0))
        self.assertEqual(partner.lifecycle_revenue, 100.0)

    def test_a_price_reduction_keeps_the_cost_a_return_gives_it_back(self):
        partner = self.customer("Price Reduction")
        _order, invoice = self.order(partner, days_ago=20, qty=10)  # 1,000, cost 600
        self.assertEqual(partner.lifecycle_margin, 400.0)
        reduction = self._credit(invoice, price=10.0)  # 10 x 10: the goods stay sold
        self.assertEqual(reduction.lifecycle_cost, 0.0)
        self.assertEqual((partner.lifecycle_revenue, partner.lifecycle_margin), (900.0, 300.0))
        returned = self._credit(invoice, quantity=2)  # two returned at their price: their cost comes back
        self.assertEqual(returned.lifecycle_cost, 120.0)
        self.assertEqual((partner.lifecycle_revenue, partner.lifecycle_margin), (700.0, 220.0))
        self.assertIn(
            "2 credit notes in 12 months: a price reduction lowers the margin, a return gives the cost back.",
            partner.value_tier_reason,
        )

    def test_a_referral_whose_purchase_was_refunded_does_not_count(self):
        referrer = self.customer("Recommends Often")
        for months in (14, 8, 4, 1):
            self.order(referrer, months_ago=months)
        referred = self.customer("Returned Everything", referred_by_id=referrer.id)
        _order, invoice = self.order(referred, days_ago=9)
        self.assertEqual(referrer.ladder_stage, "advocate")
        self.refund(invoice)
        self.assertEqual(referred.ladder_stage, "prospect")
        self.assertEqual(referrer.ladder_stage, "supporter", "the referral kept nothing")
        self.assertEqual((referrer.lifecycle_referral_count, referrer.lifecycle_referral_customer_count), (1, 0))
        self.assertIn("1 referral without a purchase kept yet", referrer.ladder_reason)

    def test_tenure_starts_with_the_first_purchase_kept(self):
        partner = self.customer("Rocky Start")
        _order, first = self.order(partner, months_ago=14)
        for months in (10, 6, 2):
            self.order(partner, months_ago=months)
        self.refund(first)
        self.assertEqual(partner.ladder_stage, "client")
        self.assertEqual(partner.lifecycle_first_order_date, self.ago(months=10))
        self.assertIn("an earlier purchase was refunded", partner.ladder_reason)
        self.assertIn("12 months as a customer (now 10)", partner.ladder_reason)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestPayments(LifecycleCase):
    def _supporter(self, name):
        partner = self.customer(name)
        for months in (14, 8, 4, 1):
            self.order(partner, months_ago=months)
        self.assertEqual(partner.ladder_stage, "supporter")
        return partner

    def test_an_overdue_instalment_is_overdue(self):
        terms = self.env["account.payment.term"].create(
            {
                "name": "30% now, 70% in 60 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 30.0, "nb_days": 0}),
                    Command.create({"value": "percent", "value_amount": 70.0, "nb_days": 60}),
                ],
            }
        )
        partner = self._supporter("Pays In Instalments")
        invoice = self.direct_invoice(partner, 1000.0, days_ago=80, post=False)
        invoice.write({"invoice_payment_term_id": terms.id, "invoice_date": self.ago(days=80)})
        invoice.action_post()
        self.flush_tracking()
        # the first 300 fell due 80 days ago; the last one (20 days ago) is within the 30 days of grace
        self.assertEqual(invoice.invoice_date_due, self.ago(days=20))
        self.assertEqual(partner.lifecycle_overdue_amount, 300.0)
        self.assertEqual(partner.ladder_stage, "client")

    def test_a_payment_reset_to_draft_leaves_the_invoice_unpaid(self):
        partner = self._supporter("Bounced Payment")
        _order, invoice = self.order(partner, days_ago=75, paid=False)
        self.assertEqual(partner.ladder_stage, "client")
        payment = self.pay(invoice)
        self.assertEqual(partner.ladder_stage, "supporter")
        payment.action_draft()
        self.flush_tracking()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(partner.lifecycle_overdue_amount, 100.0)
        self.assertEqual(partner.ladder_stage, "client")

    def test_a_partial_payment_lowers_the_overdue_amount(self):
        partner = self.customer("Pays Bit By Bit")
        _order, invoice = self.order(partner, days_ago=75, qty=5, paid=False)
        self.assertEqual(partner.lifecycle_overdue_amount, 500.0)
        self.pay(invoice, amount=200.0)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(partner.lifecycle_overdue_amount, 300.0)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestPromptDecisions(LifecycleCase):
    def _supporter(self, name):
        partner = self.customer(name)
        for months in (14, 8, 4, 1):
            self.order(partner, months_ago=months)
        return partner

    def test_the_strategic_flag_moves_the_customer_at_once(self):
        partner = self._supporter("Made Strategic")
        partner.with_user(self.manager).write({"ladder_strategic": True})
        self.flush_tracking()
        self.assertEqual(partner.ladder_stage, "partner")
        partner.with_user(self.manager).write({"ladder_strategic": False})
        self.flush_tracking()
        self.assertEqual(partner.ladder_stage, "supporter")

    def test_setting_referred_by_moves_the_referrer_at_once(self):
        referrer = self._supporter("Late Credit For A Referral")
        customer = self.customer("Already Buying")
        self.order(customer, days_ago=4)
        customer.with_user(self.salesman).write({"referred_by_id": referrer.id})
        self.flush_tracking()
        self.assertEqual(referrer.ladder_stage, "advocate")
        customer.with_user(self.salesman).write({"referred_by_id": False})
        self.flush_tracking()
        self.assertEqual(referrer.ladder_stage, "supporter")

    def test_a_request_that_moves_up_and_back_records_no_move(self):
        """An order confirmed and cancelled in one request: nothing happened on the ladder."""
        partner = self.customer("Changed Mind At Once")
        self.order(partner, days_ago=3, invoice=False)
        history, messages, since = partner.ladder_history_ids, partner.message_ids, partner.ladder_since
        second = self.env["sale.order"].create(
            {"partner_id": partner.id, "order_line": [Command.create({"product_id": self.product.id})]}
        )
        second.action_confirm()
        partner._lifecycle_recompute()  # a computation in the middle of the request (a manager's button)
        self.assertEqual(partner.ladder_stage, "client", "orders on two days")
        second._action_cancel()
        self.flush_tracking()
        self.assertEqual(partner.ladder_stage, "customer")
        self.assertEqual(partner.ladder_history_ids, history, "up and back down in one request is no move")
        self.assertEqual(partner.ladder_since, since, "in the rung since it first got there")
        self.assertEqual(partner.message_ids, messages, "nor a line in the chatter")


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestRankings(LifecycleCase):
    def test_a_positive_margin_is_never_no_margin(self):
        company = self.env["res.company"].create({"name": "Empty Book Co", "currency_id": self.company.currency_id.id})
        self.env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        company._lifecycle_refresh_cutpoints()  # the first ranking, made before anyone bought
        self.assertFalse(company.lifecycle_cutpoints["margin_12m"])
        env = self.env(context=dict(self.env.context, allowed_company_ids=company.ids))
        partner = env["res.partner"].create({"name": "First Buyer Ever", "is_company": True, "company_id": company.id})
        move = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": self.today,
                "invoice_line_ids": [Command.create({"name": "Service", "price_unit": 500.0, "tax_ids": []})],
            }
        )
        move.action_post()
        self.flush_tracking()
        self.assertEqual(partner.lifecycle_margin_12m, 500.0)
        self.assertNotEqual(partner.value_tier, "lead")
        self.assertTrue(company.lifecycle_cutpoints["margin_12m"], "ranked again once someone had revenue")
        self.assertNotIn("No positive margin", partner.value_tier_reason)
        self.assertIn("Margin over the last 12 months", partner.value_tier_reason)

    def test_an_explicit_recompute_ranks_first(self):
        partner = self.customer("New Top Account")
        for months in (14, 8, 4, 1):
            self.order(partner, months_ago=months, qty=50)  # 5,000 each, 15,000 in 12 months
        self.assertEqual(partner.ladder_stage, "supporter", "below the market's best (16,000 to 20,000)")
        # the five best customers of this morning's ranking have been refunded since (an import)
        best = self.env["account.move"].search([("partner_id", "in", self.market[15:].ids)])
        best.with_context(lifecycle_defer=True)._reverse_moves(cancel=True)
        self.flush_tracking()
        partner._lifecycle_recompute()
        self.assertEqual(partner.ladder_stage, "supporter", "this morning's ranking")
        action = partner.with_user(self.manager).action_lifecycle_recompute()
        self.assertEqual(partner.ladder_stage, "partner", "ranked again: now the best customer")
        self.assertEqual(action["params"]["message"], "Lifecycle recomputed for 1 customer, 1 changed.")

    def test_a_ranking_is_at_most_a_day_old(self):
        self.company.write({"lifecycle_cutpoints_date": fields.Datetime.now() - timedelta(days=2)})
        self.market[:1]._lifecycle_recompute()
        self.assertGreater(self.company.lifecycle_cutpoints_date, fields.Datetime.now() - timedelta(minutes=5))

    def test_recompute_every_customer_starts_a_new_run(self):
        run = self.env["crm.lifecycle.run"]._for_job("ladder")
        run.write({"cursor": 99999, "remaining": 5})
        action = self.env["crm.lifecycle.engine"].with_user(self.manager).action_recompute_all()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(run.cursor, 0, "the next batch starts over, with a new ranking")
        cron = self.env.ref("crm_lifecycle.ir_cron_lifecycle_recompute")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
