from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def action_confirm(self):
        result = super().action_confirm()
        self._lifecycle_refresh_partners()
        return result

    def _action_cancel(self):
        result = super()._action_cancel()
        self._lifecycle_refresh_partners()
        return result

    def _lifecycle_refresh_partners(self):
        """The customers of these orders, and whoever referred them, have new figures.

        With `lifecycle_defer` in the context (bulk imports), the nightly run catches up instead.
        """
        if self.env.context.get("lifecycle_defer"):
            return
        partners = self.partner_id.commercial_partner_id
        (partners | partners.referred_by_id)._lifecycle_recompute()
