"""The purchase days the retention reports read: confirmed orders and invoices without an order, by
customer company and company (one SQL text, shared by the reports)."""

from odoo.tools import SQL

PURCHASE_DAYS = SQL(
    """
SELECT DISTINCT x.company_id, x.pid, x.day FROM (
    SELECT so.company_id, p.commercial_partner_id AS pid, so.date_order::date AS day
      FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
     WHERE so.state = 'sale'
    UNION ALL
    SELECT am.company_id, am.commercial_partner_id, am.invoice_date
      FROM account_move am
     WHERE am.state = 'posted' AND am.move_type = 'out_invoice' AND NOT COALESCE(am.lifecycle_from_order, false)
       AND am.commercial_partner_id IS NOT NULL
) x WHERE x.day <= CURRENT_DATE
"""
)
