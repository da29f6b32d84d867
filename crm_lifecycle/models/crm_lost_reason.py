from odoo import fields, models

from ..lib.churn import CHURN_REASON_SELECTION


class CrmLostReason(models.Model):
    _inherit = "crm.lost.reason"

    churn_reason = fields.Selection(
        CHURN_REASON_SELECTION,
        "Churn reason",
        help="What an opportunity lost for this reason says about why a customer leaves: it proposes the churn "
        "reason of the customers who stop buying.",
    )
