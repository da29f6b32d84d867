"""The relationship ladder, reached through real orders, invoices, refunds and payments."""

from odoo import Command
from odoo.tests import Form, tagged

from .common import LifecycleCase


def _tracked_rungs(partner):
    """The chatter's rung changes, oldest first, as (old label, new label)."""
    values = partner.message_ids.tracking_value_ids.filtered(lambda t: t.field_id.name == "ladder_stage")
    return [(t.old_value_char, t.new_value_char) for t in values.sorted("id")]


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestLadderRungs(LifecycleCase):
    def _supporter(self, name="Loyal Buyer"):
        """Four paid orders: 14, 8, 4 and 1 months ago (tenure 14 months, 3 in the last 12)."""
        partner = self.customer(name)
        for months in (14, 8, 4, 1):
            self.order(partner, months_ago=months, qty=3)
        return partner

    def test_prospect_without_sales(self):
        partner = self.customer("Quiet Prospect")
        self.env["crm.lead"].create({"name": "First contact", "partner_id": partner.id, "type": "lead"})
        self.recompute(partner)
        self.assertEqual(partner.ladder_stage, "prospect")
        self.assertEqual(partner.lifecycle_stage, "potential")
        self.assertEqual(
            partner.ladder_reason,
            "No confirmed sale or posted invoice yet. Next rung, Customer: a confirmed sale or a posted invoice.",
        )
        self.assertFalse(partner.ladder_history_ids, "staying a prospect is not a move")

    def test_confirmed_order_makes_a_customer_at_once(self):
        partner = self.customer("First Buyer")
        order = self.env["sale.order"].create(
            {"partner_id": partner.id, "order_line": [Command.create({"product_id": self.product.id})]}
        )
        order.action_confirm()
        self.flush_tracking()
        # no explicit recompute: confirming the order updated the customer (when the request committed)
        self.assertEqual(partner.ladder_stage, "customer")
        self.assertEqual(partner.lifecycle_stage, "signed")
        self.assertEqual(partner.lifecycle_order_count, 1)
        self.assertEqual(partner.ladder_history_ids.to_stage, "customer")
        self.assertEqual(partner.ladder_history_ids.direction, "initial")
        self.assertEqual(partner.ladder_history_ids.source, "automatic")
        self.assertFalse(partner.ladder_history_ids.user_id, "a computed move has no user")
        self.assertIn("Next rung, Client: 2 orders on different days (now 1).", partner.ladder_reason)

    def test_posted_invoice_without_order_makes_a_customer(self):
        partner = self.customer("Counter Sale")
        self.direct_invoice(partner, 250.0)
        self.assertEqual(partner.ladder_stage, "customer")
        self.assertEqual(partner.lifecycle_revenue, 250.0)

    def test_draft_invoice_changes_nothing(self):
        partner = self.customer("Undecided")
        self.direct_invoice(partner, 250.0, post=False)
        self.recompute(partner)
        self.assertEqual(partner.ladder_stage, "prospect")

    def test_client_needs_orders_on_different_days(self):
        partner = self.customer("Same Day Twice")
        self.order(partner, days_ago=10)
        self.order(partner, days_ago=10)
        self.assertEqual(partner.ladder_stage, "customer", "two orders the same day are not a repeat purchase")
        self.order(partner, days_ago=2)
        self.assertEqual(partner.ladder_stage, "client")
        self.assertEqual(partner.lifecycle_order_count, 3)
        self.assertEqual(partner.lifecycle_first_order_date, self.ago(days=10))
        self.assertEqual(partner.lifecycle_last_order_date, self.ago(days=2))
        self.assertEqual(partner.lifecycle_order_interval, 8.0)

    def test_supporter_after_a_year_of_regular_paid_orders(self):
        partner = self._supporter()
        self.recompute(partner)
        self.assertEqual(partner.ladder_stage, "supporter")
        self.assertEqual(
            partner.ladder_reason,
            "4 orders in 13 months, 3 in the last 12 months, paid on time. "
            "Next rung, Advocate: 1 referral who became a customer (now 0).",
        )
        self.assertEqual(partner.lifecycle_order_count_12m, 3)
        self.assertEqual(partner.lifecycle_revenue, 1200.0)
        self.assertEqual(partner.lifecycle_revenue_12m, 900.0)
        self.assertEqual(partner.lifecycle_margin_12m, 360.0, "cost 60 of 100 on the sale lines")

    def test_client_short_of_supporter_says_what_is_missing(self):
        partner = self.customer("Young Client")
        for months in (6, 3):
            self.order(partner, months_ago=months)
        self.recompute(partner)
        self.assertEqual(partner.ladder_stage, "client")
        self.assertIn(
            "Next rung, Supporter: 12 months as a customer (now 6) and 3 orders in the last 12 months (now 2).",
            partner.ladder_reason,
        )

    def test_referral_who_buys_makes_the_referrer_an_advocate(self):
        referrer = self._supporter("Word Of Mouth")
        self.recompute(referrer)
        referred = self.customer("Friend Of A Friend", referred_by_id=referrer.id)
        self.assertEqual(referrer.ladder_stage, "supporter")
        self.assertEqual(referrer.lifecycle_referral_count, 0, "not yet computed: a referral counts once it buys")
        # the referred partner's first order lifts the referrer at once
        self.order(referred, days_ago=1)
        self.assertEqual(referrer.ladder_stage, "advocate")
        self.assertEqual(referrer.lifecycle_referral_count, 1)
        self.assertEqual(referrer.lifecycle_referral_customer_count, 1)
        self.assertIn("1 referral who became a customer", referrer.ladder_reason)
        self.assertIn("Next rung, Partner: top-5% revenue (now bottom 4.7%)", referrer.ladder_reason)

    def test_partner_through_top_revenue(self):
        partner = self.customer("Big Account")
        for months in (14, 8, 4, 1):
            self.order(partner, months_ago=months, qty=100)  # 10,000 each: the best revenue of 21
        self.recompute(partner)
        self.assertEqual(partner.ladder_stage, "partner")
        self.assertIn("top 4.8% revenue", partner.ladder_reason)
        self.assertTrue(partner.ladder_reason.endswith("Top rung."))

    def test_partner_through_the_strategic_flag(self):
        partner = self._supporter("Framework Contract")
        partner.with_user(self.manager).ladder_strategic = True
        self.recompute(partner)
        self.assertEqual(partner.ladder_stage, "partner")
        self.assertIn("strategic partner", partner.ladder_reason)

    def test_strategic_flag_alone_is_not_enough(self):
        partner = self.customer("Flagged Newcomer", ladder_strategic=True)
        self.order(partner, days_ago=3)
        self.assertEqual(partner.ladder_stage, "customer", "a partner must first be a loyal supporter")

    def test_full_refund_moves_a_customer_down(self):
        partner = self.customer("Changed Mind")
        _order, invoice = self.order(partner, days_ago=20)
        self.assertEqual(partner.ladder_stage, "customer")
        self.refund(invoice)
        self.assertEqual(partner.ladder_stage, "prospect")
        self.assertEqual(partner.lifecycle_revenue, 0.0)
        self.assertEqual(partner.lifecycle_refund_count, 1)
        self.assertTrue(partner.ladder_reason.startswith("Everything bought was refunded."))
        moves = partner.ladder_history_ids.sorted("id")
        self.assertEqual(moves.mapped("direction"), ["initial", "down"])
        self.assertEqual((moves[1].from_stage, moves[1].to_stage), ("customer", "prospect"))
        self.assertEqual(_tracked_rungs(partner), [("Customer", "Prospect")])

    def test_partial_refund_keeps_the_rung(self):
        partner = self.customer("Small Return")
        self.order(partner, days_ago=40)
        self.order(partner, days_ago=20)
        _order, invoice = self.order(partner, days_ago=10, qty=4)
        credit = Form(
            self.env["account.move.reversal"].with_context(active_model="account.move", active_ids=invoice.ids)
        ).save()
        refund = self.env["account.move"].browse(credit.reverse_moves()["res_id"])
        with Form(refund) as form, form.invoice_line_ids.edit(0) as line:
            line.quantity = 1
        refund.action_post()
        self.flush_tracking()
        self.assertEqual(partner.ladder_stage, "client")
        self.assertEqual(partner.lifecycle_refund_count, 0)
        self.assertEqual(partner.lifecycle_revenue, 500.0)

    def test_overdue_invoice_holds_a_supporter_back_until_paid(self):
        partner = self._supporter("Slow Payer")
        self.recompute(partner)
        self.assertEqual(partner.ladder_stage, "supporter")
        earlier = len(_tracked_rungs(partner))  # the climb through customer and client
        # a new invoice, due 45 days ago and unpaid
        _order, invoice = self.order(partner, days_ago=75, due_days=30, paid=False)
        self.assertEqual(partner.ladder_stage, "client")
        self.assertEqual(partner.lifecycle_overdue_amount, 100.0)
        self.assertIn("$\xa0100.00 overdue more than 30 days", partner.ladder_reason)
        self.assertIn(
            "Next rung, Supporter: nothing overdue more than 30 days (now $\xa0100.00).", partner.ladder_reason
        )
        self.pay(invoice)  # the payment updates the customer at once
        self.assertEqual(partner.ladder_stage, "supporter")
        self.assertEqual(partner.lifecycle_overdue_amount, 0.0)
        self.assertEqual(_tracked_rungs(partner)[earlier:], [("Supporter", "Client"), ("Client", "Supporter")])

    def test_recently_due_invoice_is_not_overdue(self):
        partner = self._supporter("Pays Within Terms")
        self.order(partner, days_ago=40, due_days=30, paid=False)  # 10 days late: within the 30 days
        self.recompute(partner)
        self.assertEqual(partner.ladder_stage, "supporter")

    def test_cancelled_order_no_longer_counts(self):
        partner = self.customer("Cancelled Deal")
        order, _invoice = self.order(partner, invoice=False)
        self.assertEqual(partner.ladder_stage, "customer")
        order._action_cancel()
        self.flush_tracking()
        self.assertEqual(partner.ladder_stage, "prospect")


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestFigures(LifecycleCase):
    def test_revenue_in_company_currency(self):
        ladder_coin = self.env["res.currency"].create({"name": "LDC", "symbol": "Ł", "rounding": 0.01})
        self.env["res.currency.rate"].create(
            {"name": self.ago(months=3), "currency_id": ladder_coin.id, "rate": 0.5, "company_id": self.company.id}
        )
        partner = self.customer("Overseas Office")
        self.direct_invoice(partner, 300.0, days_ago=5, currency=ladder_coin)  # 300 LDC at 0.5 LDC per USD
        self.assertEqual(partner.lifecycle_currency_id, self.company.currency_id)
        self.assertEqual(partner.lifecycle_revenue, 600.0)
        self.assertEqual(partner.lifecycle_margin, 540.0, "product cost 60 USD")

    def test_margin_uses_the_sale_line_cost(self):
        partner = self.customer("Negotiated Cost")
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [Command.create({"product_id": self.product.id, "product_uom_qty": 2})],
            }
        )
        order.order_line.purchase_price = 75.0  # the cost agreed for this sale, not the product's 60
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        self.flush_tracking()
        self.assertEqual(partner.lifecycle_margin, 50.0)
        self.assertEqual(invoice.lifecycle_cost, 150.0)
        self.assertTrue(invoice.lifecycle_from_order)

    def test_cost_is_the_one_when_invoiced(self):
        partner = self.customer("Cost When Invoiced")
        move = self.direct_invoice(partner, 100.0, days_ago=3)
        self.assertEqual(move.lifecycle_cost, 60.0)
        self.assertFalse(move.lifecycle_from_order)
        self.assertEqual(partner.lifecycle_margin, 40.0)
        # a later change of the product's cost does not rewrite the margin of what was sold
        self.product.with_company(self.company).standard_price = 80.0
        self.recompute(partner)
        self.assertEqual(partner.lifecycle_margin, 40.0)
        # reset to draft and posted again: the cost as it stands now
        move.button_draft()
        self.flush_tracking()
        self.assertEqual(partner.lifecycle_margin, 0.0, "a draft invoice is not revenue")
        move.action_post()
        self.flush_tracking()
        self.assertEqual(move.lifecycle_cost, 80.0)
        self.assertEqual(partner.lifecycle_margin, 20.0)
        # the credit note gives the cost back
        self.refund(move)
        self.assertEqual(partner.lifecycle_margin, 0.0)
        self.assertEqual(partner.lifecycle_revenue, 0.0)

    def test_contacts_orders_count_for_their_company(self):
        company = self.customer("Parent Co")
        buyer = self.env["res.partner"].create({"name": "Buyer Person", "parent_id": company.id})
        other = self.env["res.partner"].create({"name": "Other Person", "parent_id": company.id})
        self.order(buyer, months_ago=14)
        self.order(other, months_ago=7)
        self.order(buyer, months_ago=1)
        self.recompute(company)
        self.assertEqual(company.lifecycle_order_count, 3)
        self.assertEqual(company.lifecycle_contact_count, 2)
        self.assertEqual(company.relationship_type, "relationship")
        self.assertIn("✓ 14 months as a customer (needs 12)", company.relationship_reason)
        # contacts show their company's rung, and so does a contact added later
        self.assertEqual(buyer.ladder_stage, company.ladder_stage)
        newcomer = self.env["res.partner"].create({"name": "New Colleague", "parent_id": company.id})
        self.assertEqual(newcomer.ladder_stage, company.ladder_stage)
        self.assertEqual(newcomer.value_tier, company.value_tier)
        self.assertFalse(buyer.ladder_history_ids, "the history is kept on the company")

    def test_one_off_buyer_is_transactional(self):
        partner = self.customer("Passing Trade")
        self.order(partner, days_ago=3)
        self.assertEqual(partner.relationship_type, "transactional")

    def test_value_tiers_follow_the_margin_ranking(self):
        top = self.customer("Top Margin")
        self.direct_invoice(top, 25000.0, days_ago=5)  # margin 24,940: best of 23
        middle = self.customer("Middle Margin")
        self.direct_invoice(middle, 18000.0, days_ago=5)
        low = self.customer("Low Margin")
        self.direct_invoice(low, 500.0, days_ago=5)
        loss = self.customer("Sold At A Loss")
        self.direct_invoice(loss, 10.0, days_ago=5)  # cost 60: margin -50
        self.company._lifecycle_refresh_cutpoints()
        (top | middle | low | loss | self.market)._lifecycle_recompute()
        # 23 customers with a positive margin: platinum = the best 2 (5%), gold = the next 3 (to 20%)
        self.assertEqual(top.value_tier, "platinum")
        self.assertEqual(self.market[-1].value_tier, "platinum")  # 20,000
        self.assertEqual(self.market[-2].value_tier, "gold")  # 19,000
        self.assertEqual(middle.value_tier, "gold")  # 17,940
        self.assertEqual(self.market[-3].value_tier, "gold")  # 18,000
        self.assertEqual(self.market[-4].value_tier, "iron")  # 17,000
        self.assertEqual(low.value_tier, "iron")
        self.assertEqual(loss.value_tier, "lead")
        self.assertEqual(loss.value_tier_reason, "No positive margin over the last 12 months ($\xa0-50.00).")
        self.assertIn("(top 4.4% of customers)", top.value_tier_reason)

    def test_ranking_follows_the_settings(self):
        self.company.lifecycle_tier_platinum_percent = 50.0
        self.assertFalse(self.company.lifecycle_cutpoints_date, "changing a share asks for a new ranking")
        self.market._lifecycle_recompute()
        self.assertEqual(self.market.filtered(lambda p: p.value_tier == "platinum"), self.market[10:])
