from markupsafe import Markup

from odoo import _, fields, models
from odoo.exceptions import UserError


class CrmComplaintReview(models.TransientModel):
    _name = "crm.complaint.review"
    _description = "Review a complaint's resolution"

    complaint_id = fields.Many2one("crm.complaint", required=True, ondelete="cascade")
    resolution = fields.Html(related="complaint_id.resolution")
    decision = fields.Selection(
        [("approve", "Approve: it may be closed"), ("send_back", "Send back: more needs doing")],
        required=True,
        default="approve",
    )
    note = fields.Text(help="For the owner; required when sending back.")

    def action_confirm(self):
        self.ensure_one()
        complaint = self.complaint_id
        complaint._check_reviewer()
        if complaint.review_state != "to_review":
            raise UserError(_("%(name)s is not waiting for a review.", name=complaint.name))
        note = (self.note or "").strip()
        if self.decision == "send_back" and not note:
            raise UserError(_("Say what more needs doing: the owner reads it in the complaint."))
        approved = self.decision == "approve"
        # in sudo: the complaint refuses these values from any other write (_check_review_values)
        complaint.sudo().write(
            {
                "review_state": "approved" if approved else "sent_back",
                "reviewer_id": self.env.uid,
                "review_note": note,
            }
        )
        text = _("Resolution approved.") if approved else _("Resolution sent back: %(note)s", note=note)
        complaint.message_post(body=Markup("<p>%s</p>") % text, subtype_xmlid="mail.mt_note")
        complaint.activity_ids.filtered(lambda a: a.user_id == self.env.user).action_feedback(feedback=text)
        if not approved and complaint.user_id:
            complaint.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=_("Resolution sent back: %(name)s", name=complaint.name),
                note=note,
                user_id=complaint.user_id.id,
            )
        return {"type": "ir.actions.act_window_close"}
