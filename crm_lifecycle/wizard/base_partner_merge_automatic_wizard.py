from odoo import models

from ..models.lifecycle_engine import engine_writes


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_values(self, src_partners, dst_partner):
        # Odoo copies the merged partners' values onto the one that remains, the computed rung and
        # figures included: let it (they are recomputed from the merged books right after)
        with engine_writes():
            return super()._update_values(src_partners, dst_partner)

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        result = super()._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
        # the orders, invoices and referrals of the merged partners now belong to the one that remains
        remaining = self.env["res.partner"].browse(partner_ids).exists()
        (remaining | remaining.referred_by_id)._lifecycle_recompute()
        return result
