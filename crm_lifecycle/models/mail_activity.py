from odoo import models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        # an activity someone planned and completed on a nurtured lead brings it back; the activities the
        # nurture plan brings (automated) are the pool's own follow-ups and do not
        planned = self.filtered(lambda activity: activity.res_model == "crm.lead" and not activity.automated)
        leads = self.env["crm.lead"]
        if planned:
            leads = leads.sudo().browse(set(planned.mapped("res_id"))).exists().filtered("nurture")
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        leads._nurture_leave("activity")
        return result
