from odoo import models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    def action_open_lifecycle_rules(self):
        return self.env.company.action_open_lifecycle_rules()

    def action_lifecycle_recompute_all(self):
        return self.env["crm.lifecycle.engine"].action_recompute_all()
