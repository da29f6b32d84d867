"""The customer lifecycle: target -> potential -> opportunity -> signed, on leads and partners."""

from odoo import Command
from odoo.tests import tagged

from .common import LifecycleCase


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestLeadLifecycle(LifecycleCase):
    def test_a_lead_goes_through_every_stage(self):
        partner = self.customer("Funnel Walker")
        lead = self.env["crm.lead"].create(
            {"name": "Trade fair card", "type": "lead", "partner_id": partner.id, "lifecycle_targeted": True}
        )
        self.assertEqual(lead.lifecycle_stage, "target")
        lead.activity_schedule("mail.mail_activity_data_call", summary="Call back")
        self.assertTrue(lead.lifecycle_targeted, "planning a call is not yet an interaction")
        # the first interaction ends the target stage
        lead.message_post(body="Called: interested in a demo", message_type="comment")
        self.assertFalse(lead.lifecycle_targeted)
        self.assertEqual(lead.lifecycle_stage, "potential")
        other = self.env["crm.lead"].create({"name": "Second card", "type": "lead", "lifecycle_targeted": True})
        other.activity_schedule("mail.mail_activity_data_call").action_feedback(feedback="No answer")
        self.assertFalse(other.lifecycle_targeted, "a completed activity is an interaction")
        lead.convert_opportunity(partner)
        self.assertEqual(lead.lifecycle_stage, "opportunity")
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "opportunity_id": lead.id,
                "order_line": [Command.create({"product_id": self.product.id})],
            }
        )
        self.assertEqual(lead.lifecycle_stage, "opportunity", "a quotation is not a signature")
        order.action_confirm()
        self.assertEqual(lead.lifecycle_stage, "signed")

    def test_won_opportunity_is_signed(self):
        lead = self.env["crm.lead"].create({"name": "Handshake deal", "type": "opportunity"})
        lead.action_set_won()
        self.assertEqual(lead.lifecycle_stage, "signed")

    def test_lead_shows_the_customer_rung_and_tier(self):
        partner = self.customer("Known Account")
        self.order(partner, days_ago=20)
        self.order(partner, days_ago=5)
        contact = self.env["res.partner"].create({"name": "Their Buyer", "parent_id": partner.id})
        lead = self.env["crm.lead"].create({"name": "Upsell", "type": "opportunity", "partner_id": contact.id})
        self.assertEqual(lead.partner_ladder_stage, "client")
        self.assertEqual(lead.partner_value_tier, partner.value_tier)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestPartnerLifecycle(LifecycleCase):
    def test_partner_stage_follows_leads_quotations_and_sales(self):
        partner = self.customer("Cold Call List", lifecycle_targeted=True)
        self.recompute(partner)
        self.assertEqual(partner.lifecycle_stage, "target")
        lead = self.env["crm.lead"].create({"name": "Replied to mailing", "type": "lead", "partner_id": partner.id})
        self.recompute(partner)
        self.assertEqual(partner.lifecycle_stage, "potential")
        lead.convert_opportunity(partner)
        self.recompute(partner)
        self.assertEqual(partner.lifecycle_stage, "opportunity")
        self.env["sale.order"].create(
            {"partner_id": partner.id, "order_line": [Command.create({"product_id": self.product.id})]}
        ).action_confirm()
        self.flush_tracking()
        self.assertEqual(partner.lifecycle_stage, "signed")

    def test_untargeted_partner_without_interaction_is_outside_the_funnel(self):
        partner = self.customer("Address Book Entry")
        self.recompute(partner)
        self.assertFalse(partner.lifecycle_stage)

    def test_a_quotation_sent_is_an_opportunity(self):
        partner = self.customer("Asked For A Price")
        self.env["sale.order"].create(
            {"partner_id": partner.id, "order_line": [Command.create({"product_id": self.product.id})]}
        )
        self.recompute(partner)
        self.assertEqual(partner.lifecycle_stage, "opportunity")
        self.assertEqual(partner.ladder_stage, "prospect")
