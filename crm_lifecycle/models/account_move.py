from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    # The lifecycle reads a customer's invoices by commercial partner; Odoo does not index it.
    commercial_partner_id = fields.Many2one(index="btree_not_null")
    complaint_count = fields.Integer(
        "Complaints", compute="_compute_complaint_count", groups="crm_lifecycle.crm_lifecycle_group_complaint_user"
    )

    def _compute_complaint_count(self):
        counts = self.env["crm.complaint"]._count_by("invoice_id", self)
        for move in self:
            move.complaint_count = counts.get(move, 0)

    def action_view_complaints(self):
        return self.env["crm.complaint"]._action_view(
            [("invoice_id", "=", self.id)], {"default_invoice_id": self.id, "default_partner_id": self.partner_id.id}
        )

    def action_new_complaint(self):
        return self.env["crm.complaint"]._action_new(
            {"default_partner_id": self.partner_id.id, "default_invoice_id": self.id}
        )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._lifecycle_refresh_partners()
        return posted

    def button_draft(self):
        result = super().button_draft()
        self._lifecycle_refresh_partners()
        return result

    def button_cancel(self):
        result = super().button_cancel()
        self._lifecycle_refresh_partners()
        return result

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        self._lifecycle_refresh_partners()
        return result

    def _lifecycle_refresh_partners(self):
        """Customer invoices and credit notes change their customer's figures (and the referrer's).

        With `lifecycle_defer` in the context (bulk imports), the nightly run catches up instead.
        """
        if self.env.context.get("lifecycle_defer"):
            return
        moves = self.filtered(lambda move: move.move_type in ("out_invoice", "out_refund"))
        if moves:
            partners = moves.commercial_partner_id
            (partners | partners.referred_by_id)._lifecycle_recompute()
