"""The retention and cohort reports are materialized views of their queries, refreshed at the end of
the nightly run (crm.lifecycle.retention.report `_refresh_reports`).

Their queries read every purchase day of the books: at 100,000 customers and 1,000,000 orders a
DISTINCT and window functions over 900,000 rows, over 60 s per read in PostgreSQL's default work_mem.
Stored, a read takes milliseconds; the figures are those of the last refresh.
"""

import logging
from contextlib import contextmanager

from odoo.tools import SQL, sql

_logger = logging.getLogger(__name__)

# the purchase days are sorted and hashed in memory: in the default 4 MB the statement spills to disk
REFRESH_WORK_MEM = "256MB"
# the reports stored this way
REPORT_MODELS = ("crm.lifecycle.retention.report", "crm.lifecycle.cohort.report")
# the key of pg_try_advisory_xact_lock taken by a refresh (a constant of the addon's own: "crml")
REFRESH_LOCK = 0x63726D6C


@contextmanager
def _work_mem(cr):
    """Raise work_mem for the statement inside; the transaction's own value afterwards. (A statement
    that fails aborts the transaction, whose end resets the setting.)"""
    cr.execute("SELECT current_setting('work_mem')")
    previous = cr.fetchone()[0]
    cr.execute(SQL("SELECT set_config('work_mem', %s, true)", REFRESH_WORK_MEM))
    yield
    cr.execute(SQL("SELECT set_config('work_mem', %s, true)", previous))


def create(cr, table, query, indexes):
    """(Re)create the materialized view `table` of `query`, populated, with a unique index on id (a
    refresh may then be concurrent) and `indexes` ({name suffix: columns}) for its reads.

    The previous releases made it a plain view; Odoo 18's drop_view_if_exists drops either kind. A
    refresh under way is waited for; those that start meanwhile skip (the view is new).
    """
    cr.execute(SQL("SELECT pg_advisory_xact_lock(%s)", REFRESH_LOCK))
    sql.drop_view_if_exists(cr, table)
    with _work_mem(cr):
        cr.execute(SQL("CREATE MATERIALIZED VIEW %s AS (%s)", SQL.identifier(table), query))
    cr.execute(SQL("CREATE UNIQUE INDEX %s ON %s (id)", SQL.identifier(f"{table}_id_index"), SQL.identifier(table)))
    for suffix, columns in indexes.items():
        cr.execute(
            SQL(
                "CREATE INDEX %s ON %s (%s)",
                SQL.identifier(f"{table}_{suffix}_index"),
                SQL.identifier(table),
                SQL(", ").join(SQL.identifier(column) for column in columns),
            )
        )


def refresh(cr, tables):
    """Refresh the materialized views `tables` from the books as this transaction sees them.

    Concurrently (readers keep the previous rows meanwhile) when the view is populated and has a
    unique index, else plainly (readers wait). Returns False, having done nothing, when another
    transaction is refreshing them: the lock is held until that one ends.
    """
    cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s)", REFRESH_LOCK))
    if not cr.fetchone()[0]:
        _logger.info("Reports %s: another transaction is refreshing them, skipped", ", ".join(tables))
        return False
    for table in tables:
        cr.execute(
            SQL(
                """
SELECT c.relispopulated, EXISTS (SELECT 1 FROM pg_index i
                                  WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL
                                    AND i.indexprs IS NULL)
  FROM pg_class c WHERE c.oid = to_regclass(%s) AND c.relkind = 'm'
                """,
                table,
            )
        )
        row = cr.fetchone()
        if row is None:
            # the code is newer than the database: the upgrade (-u crm_lifecycle) creates the view
            _logger.warning("Report %s is not a materialized view (upgrade the module): not refreshed", table)
            continue
        mode = SQL("CONCURRENTLY") if all(row) else SQL()
        with _work_mem(cr):
            cr.execute(SQL("REFRESH MATERIALIZED VIEW %s %s", mode, SQL.identifier(table)))
    return True


def drop(cr, tables):
    """Drop the views (uninstall: Odoo's own cleanup leaves a materialized view behind)."""
    for table in tables:
        sql.drop_view_if_exists(cr, table)
