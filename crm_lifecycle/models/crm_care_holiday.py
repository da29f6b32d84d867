from datetime import date

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib import care

# how many years of each country's calendar give the holidays a rule may choose from
CALENDAR_YEARS = 3


class CrmCareHoliday(models.Model):
    """A public holiday a care rule may celebrate, for one country: what the holidays library calls
    it in English (its key, the same in every language) and, shown, its name in the reader's
    language. Filled from the library at install (see `_refresh_from_library`)."""

    _name = "crm.care.holiday"
    _description = "Public holiday for care rules"
    _order = "country_id, key"
    _rec_names_search = ["key", "name_en"]

    country_id = fields.Many2one("res.country", required=True, index=True, ondelete="cascade")
    key = fields.Char(
        "Holiday (library name)", required=True, help="The holidays library's English name of the holiday."
    )
    name_en = fields.Char("English name", required=True)
    name = fields.Char(compute="_compute_name", help="The holiday's name in your language.")
    regional = fields.Boolean(
        help="Only some states or provinces of the country have it (their customers are greeted)."
    )

    _sql_constraints = [("key_unique", "UNIQUE(country_id, key)", "A holiday is listed once per country.")]

    @api.depends("key", "country_id")
    @api.depends_context("lang")
    def _compute_name(self):
        year = date.today().year
        for country, holidays in self.grouped("country_id").items():
            names = {}
            for offset in range(CALENDAR_YEARS):
                for choice in care.holiday_choices(country.code, [year + offset], lang=self.env.lang):
                    names.setdefault(choice.key, choice.name)
            for holiday in holidays:
                holiday.name = names.get(holiday.key, holiday.name_en)

    @api.depends("name")
    def _compute_display_name(self):
        for holiday in self:
            holiday.display_name = holiday.name or holiday.key

    @api.model
    def _refresh_from_library(self, countries=None):
        """List the holidays of `countries` (default: every country the library knows) for this
        year and the next ones; one INSERT, those already listed are kept."""
        countries = countries or self.env["res.country"].search([])
        year = date.today().year
        rows = []
        for country in countries:
            if not care.is_supported_country(country.code):
                continue
            seen = set()
            for choice in care.holiday_choices(country.code, range(year, year + CALENDAR_YEARS), lang="en_US"):
                if choice.key not in seen:
                    seen.add(choice.key)
                    rows.append(SQL("(%s, %s, %s, %s)", country.id, choice.key, choice.name, bool(choice.subdivisions)))
        if rows:
            self.env.cr.execute(
                SQL(
                    "INSERT INTO crm_care_holiday (country_id, key, name_en, regional, create_date, write_date)"
                    " SELECT v.country_id, v.key, v.name_en, v.regional, now() AT TIME ZONE 'UTC',"
                    " now() AT TIME ZONE 'UTC' FROM (VALUES %s) AS v(country_id, key, name_en, regional)"
                    " ON CONFLICT (country_id, key) DO NOTHING",
                    SQL(", ").join(rows),
                )
            )
        self.invalidate_model()
