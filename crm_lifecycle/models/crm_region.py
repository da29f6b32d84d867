from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import ormcache


class CrmRegion(models.Model):
    """A sales region: countries, or states and provinces (华东: Shanghai, Jiangsu, Zhejiang...). A lead
    is in the first region listing its state, else in the first listing its country; members'
    assignment rules then say "Region is East China"."""

    _name = "crm.region"
    _description = "Sales region"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, help="A lead in several regions is in the first one.")
    active = fields.Boolean(default=True)
    country_ids = fields.Many2many("res.country", string="Countries", help="Every address in these countries.")
    state_ids = fields.Many2many(
        "res.country.state",
        string="States",
        help="Addresses in these states or provinces; a region listing the state comes before one listing only its "
        "country.",
    )

    @api.constrains("country_ids", "state_ids")
    def _check_places(self):
        for region in self:
            if not region.country_ids and not region.state_ids:
                raise ValidationError(
                    _("The region %(region)s needs at least one country or state.", region=region.name)
                )

    @api.model
    @ormcache()
    def _region_table(self):
        """(region id, country ids, state ids) of the active regions, in order: what
        lib.assignment.match_region reads. Cached: every lead created or moved asks it."""
        regions = self.sudo().search([])
        return tuple((r.id, frozenset(r.country_ids.ids), frozenset(r.state_ids.ids)) for r in regions)

    @api.model_create_multi
    def create(self, vals_list):
        regions = super().create(vals_list)
        regions._check_places()  # (Odoo checks constraints of relations only when given)
        self._regions_changed(regions)
        return regions

    def write(self, vals):
        places = self.country_ids | self.state_ids.country_id
        states = self.state_ids
        result = super().write(vals)
        self._regions_changed(self, places, states)
        return result

    def unlink(self):
        places, states = self.country_ids | self.state_ids.country_id, self.state_ids
        result = super().unlink()
        self._regions_changed(self.browse(), places, states)
        return result

    @api.model
    def _regions_changed(self, regions, countries=None, states=None):
        """Forget the cached table and place again the leads of the countries and states concerned,
        before and after the change."""
        self.env.registry.clear_cache()
        countries = (countries or self.env["res.country"]) | regions.country_ids | regions.state_ids.country_id
        states = (states or self.env["res.country.state"]) | regions.state_ids
        if not countries and not states:
            return
        Lead = self.env["crm.lead"].with_context(active_test=False).sudo()
        leads = Lead.search(["|", ("country_id", "in", countries.ids), ("state_id", "in", states.ids)])
        self.env.add_to_compute(Lead._fields["region_id"], leads)
