from odoo import fields, models


class CrmCareOccasion(models.Model):
    """A dated occasion of a holiday rule: a regional promotion, a local festival, a company's
    anniversary, for the customers of given countries or states (all when none is set)."""

    _name = "crm.care.occasion"
    _description = "Dated care occasion"
    _order = "date, id"

    rule_id = fields.Many2one("crm.care.rule", "Care rule", required=True, index=True, ondelete="cascade")
    date = fields.Date(required=True)
    name = fields.Char("Occasion", required=True, translate=True)
    country_ids = fields.Many2many("res.country", string="Countries", help="Empty: customers of every country.")
    state_ids = fields.Many2many(
        "res.country.state",
        string="States",
        help="Only the customers of these states (of the countries chosen, or of any).",
    )
