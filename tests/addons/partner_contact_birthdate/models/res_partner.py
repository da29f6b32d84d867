from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    birthdate_date = fields.Date("Birthdate")
