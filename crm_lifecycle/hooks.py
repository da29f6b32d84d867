from odoo.tools import SQL

from .models.account_move import MOVE_INDEX, OLD_MOVE_INDEXES
from .models.sale_order import ORDER_INDEX
from .report import materialized


def uninstall_hook(env):
    """Remove what would stop Odoo's cleanup of the addon's data, and what it would leave behind.

    Complaints point to their stages with ondelete=restrict, so Odoo could not remove the stages:
    they go first (their table goes with the model anyway; unlink also removes their messages,
    activities and ratings). Then the books of the demo customers, before Odoo removes the demo
    records.

    The demo customers have real confirmed orders, posted invoices, payments and a credit note
    (see crm.lifecycle.demo); Odoo's cleanup of module data cannot delete a partner those still
    point to, nor a posted entry. Only partners that are this addon's demo records are touched.
    """
    env["crm.complaint"].with_context(active_test=False).search([]).unlink()
    # Odoo drops the plain views of _auto = False models, not materialized ones (ir.model _drop_table)
    materialized.drop(env.cr, [env[name]._table for name in materialized.REPORT_MODELS])
    # the indexes the addon put on Odoo's tables (init() of account.move and sale.order)
    for index in (MOVE_INDEX, *OLD_MOVE_INDEXES, ORDER_INDEX):
        env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(index)))

    data = env["ir.model.data"].search([("module", "=", "crm_lifecycle"), ("model", "=", "res.partner")])
    partners = env["res.partner"].with_context(active_test=False).browse(data.mapped("res_id")).exists()
    if not partners:
        return
    partners |= partners.child_ids
    moves = env["account.move"].search([("partner_id", "in", partners.ids)])
    payments = env["account.payment"].search([("partner_id", "in", partners.ids)])
    moves.line_ids.remove_move_reconcile()
    payments.action_draft()
    payments.unlink()
    moves = moves.exists()
    moves.filtered(lambda move: move.state == "posted").button_draft()
    moves.with_context(force_delete=True).unlink()
    orders = env["sale.order"].search([("partner_id", "in", partners.ids)])
    orders._action_cancel()
    orders.unlink()
