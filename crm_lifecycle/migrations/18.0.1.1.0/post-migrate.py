"""18.0.1.0.0 -> 18.0.1.1.0, after the models are updated: what a fresh install has since this
version, given to databases installed before it.

- The nightly run's position moves from two system parameters to its own record (crm.lifecycle.run).
- The shipped "Waiting for customer" stage counts as the first response: its record is in a noupdate
  block of data/crm_complaint_data.xml, so an update does not set the new flag.
- E-mail intake: when no alias opens complaints yet, the default sales team gets one, as at install
  (the data file's function runs at install only).
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "DELETE FROM ir_config_parameter WHERE key IN"
        " ('crm_lifecycle.recompute_cursor', 'crm_lifecycle.recompute_remaining') RETURNING key, value"
    )
    params = dict(cr.fetchall())
    cr.execute(
        "INSERT INTO crm_lifecycle_run (name, cursor, remaining, create_date, write_date)"
        " VALUES ('ladder', %s, %s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')"
        " ON CONFLICT (name) DO NOTHING",
        (
            int(params.get("crm_lifecycle.recompute_cursor") or 0),
            int(params.get("crm_lifecycle.recompute_remaining") or 0),
        ),
    )
    env = api.Environment(cr, SUPERUSER_ID, {})
    stage = env.ref("crm_lifecycle.crm_complaint_stage_waiting", raise_if_not_found=False)
    if stage:
        stage.is_response = True
    team = env.ref("sales_team.team_sales_department", raise_if_not_found=False)
    if team and not env["mail.alias"].search_count([("alias_model_id.model", "=", "crm.complaint")], limit=1):
        team._complaint_alias_setup()
