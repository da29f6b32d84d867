"""18.0.1.0.0 -> 18.0.1.1.0, after the models are updated."""


def migrate(cr, version):
    if not version:
        return
    # the nightly run's position moves from two system parameters to its own record
    cr.execute(
        "DELETE FROM ir_config_parameter WHERE key IN"
        " ('crm_lifecycle.recompute_cursor', 'crm_lifecycle.recompute_remaining') RETURNING key, value"
    )
    params = dict(cr.fetchall())
    cursor = int(params.get("crm_lifecycle.recompute_cursor") or 0)
    remaining = int(params.get("crm_lifecycle.recompute_remaining") or 0)
    cr.execute(
        "INSERT INTO crm_lifecycle_run (name, cursor, remaining, create_date, write_date)"
        " VALUES ('ladder', %s, %s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')"
        " ON CONFLICT (name) DO NOTHING",
        (cursor, remaining),
    )
