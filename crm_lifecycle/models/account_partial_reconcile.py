from odoo import api, models


class AccountPartialReconcile(models.Model):
    """Payments reach a customer's figures through reconciliation: a partial payment lowers what is
    overdue, and a payment reset to draft or unreconciled raises it again (Odoo calls no hook of the
    invoice for either)."""

    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._lifecycle_refresh_partners()
        return partials

    def unlink(self):
        moves = (self.debit_move_id | self.credit_move_id).move_id
        result = super().unlink()
        moves._lifecycle_refresh_partners()
        return result

    def _lifecycle_refresh_partners(self):
        (self.debit_move_id | self.credit_move_id).move_id._lifecycle_refresh_partners()
