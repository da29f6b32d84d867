from psycopg2.errors import LockNotAvailable
from psycopg2.extensions import TransactionRollbackError

from odoo import api, fields, models
from odoo.tools import SQL


class CrmLifecycleRun(models.Model):
    """Where a scheduled run of the addon stands (the nightly recomputation), one record per job.

    Kept in a record of its own rather than in ir.config_parameter: each set_param clears the
    registry caches of every worker, and a run writes its position after every batch.
    """

    _name = "crm.lifecycle.run"
    _description = "Customer Lifecycle scheduled run"

    name = fields.Char("Job", required=True, readonly=True)
    cursor = fields.Integer(
        "Last record done", readonly=True, help="The run resumes after this record; 0 when no run is under way."
    )
    remaining = fields.Integer("Records left", readonly=True)
    started_at = fields.Datetime("Run started on", readonly=True)

    _sql_constraints = [("name_unique", "UNIQUE(name)", "There is one record per scheduled job.")]

    @api.model
    def _for_job(self, name):
        run = self.sudo().search([("name", "=", name)], limit=1)
        return run or self.sudo().create({"name": name})

    def _lock(self):
        """Take this run for the current transaction; False if another transaction has it (a second
        run at the same time) or changed it since this transaction began."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(SQL("SELECT id FROM crm_lifecycle_run WHERE id = %s FOR UPDATE NOWAIT", self.id))
        except (LockNotAvailable, TransactionRollbackError):
            return False
        self.invalidate_recordset()
        return True

    def _advance(self, cursor, remaining):
        values = {"cursor": cursor, "remaining": remaining}
        if not self.cursor and cursor:
            values["started_at"] = fields.Datetime.now()
        self.write(values)

    def _restart(self):
        """The next batch starts a new run (ranking first), whatever the current one had done."""
        self.write({"cursor": 0, "remaining": 0})
