from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lifecycle_client_min_orders = fields.Integer(related="company_id.lifecycle_client_min_orders", readonly=False)
    lifecycle_supporter_tenure_months = fields.Integer(
        related="company_id.lifecycle_supporter_tenure_months", readonly=False
    )
    lifecycle_supporter_min_orders_12m = fields.Integer(
        related="company_id.lifecycle_supporter_min_orders_12m", readonly=False
    )
    lifecycle_overdue_grace_days = fields.Integer(related="company_id.lifecycle_overdue_grace_days", readonly=False)
    lifecycle_supporter_max_open_complaints = fields.Integer(
        related="company_id.lifecycle_supporter_max_open_complaints", readonly=False
    )
    lifecycle_advocate_min_referrals = fields.Integer(
        related="company_id.lifecycle_advocate_min_referrals", readonly=False
    )
    lifecycle_partner_top_percent = fields.Float(related="company_id.lifecycle_partner_top_percent", readonly=False)
    lifecycle_tier_platinum_percent = fields.Float(related="company_id.lifecycle_tier_platinum_percent", readonly=False)
    lifecycle_tier_gold_percent = fields.Float(related="company_id.lifecycle_tier_gold_percent", readonly=False)
    lifecycle_relationship_min_tenure_months = fields.Integer(
        related="company_id.lifecycle_relationship_min_tenure_months", readonly=False
    )
    lifecycle_relationship_min_orders_per_year = fields.Float(
        related="company_id.lifecycle_relationship_min_orders_per_year", readonly=False
    )
    lifecycle_relationship_min_contacts = fields.Integer(
        related="company_id.lifecycle_relationship_min_contacts", readonly=False
    )

    def action_lifecycle_recompute_all(self):
        """Run the nightly recomputation now (in the background, with its progress in the cron)."""
        self.env.ref("crm_lifecycle.ir_cron_lifecycle_recompute")._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._("The lifecycle of every customer is being recomputed in the background."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
