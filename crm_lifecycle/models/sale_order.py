from odoo import fields, models
from odoo.tools import SQL

ORDER_INDEX = "sale_order_crm_lifecycle_partner_index"


class SaleOrder(models.Model):
    _inherit = "sale.order"

    complaint_count = fields.Integer(
        "Complaints", compute="_compute_complaint_count", groups="crm_lifecycle.crm_lifecycle_group_complaint_user"
    )

    def init(self):
        result = super().init()
        # The lifecycle reads a customer's orders by partner from the index alone (see account.move)
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS %s ON sale_order (partner_id) INCLUDE (company_id, state, date_order)",
                SQL.identifier(ORDER_INDEX),
            )
        )
        return result

    def _compute_complaint_count(self):
        counts = self.env["crm.complaint"]._count_by("sale_order_id", self)
        for order in self:
            order.complaint_count = counts.get(order, 0)

    def action_view_complaints(self):
        return self.env["crm.complaint"]._action_view(
            [("sale_order_id", "=", self.id)],
            {"default_sale_order_id": self.id, "default_partner_id": self.partner_id.id},
        )

    def action_new_complaint(self):
        return self.env["crm.complaint"]._action_new(
            {"default_partner_id": self.partner_id.id, "default_sale_order_id": self.id}
        )

    def action_confirm(self):
        result = super().action_confirm()
        self._lifecycle_refresh_partners()
        return result

    def _action_cancel(self):
        result = super()._action_cancel()
        self._lifecycle_refresh_partners()
        return result

    def _lifecycle_refresh_partners(self):
        """The customers of these orders (and, through them, their referrers) have new figures:
        recomputed when the transaction commits."""
        self.partner_id.commercial_partner_id._lifecycle_recompute_later()
