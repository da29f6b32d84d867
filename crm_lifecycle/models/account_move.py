from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from .lifecycle_engine import engine_writes_allowed

MOVE_INDEX = "account_move_crm_lifecycle_partner_index_v2"
# the covering index of release 18.0.1.0.0, without the order of each document (dropped by init())
OLD_MOVE_INDEXES = ("account_move_crm_lifecycle_partner_index",)
CUSTOMER_MOVE_TYPES = ("out_invoice", "out_refund")
# stored when a customer invoice or credit note is posted, by _lifecycle_store_cost only
STORED_FIELDS = frozenset({"lifecycle_cost", "lifecycle_from_order", "lifecycle_order_id"})
# a credit note line at less than this share of the invoiced unit price is a price reduction
PRICE_REDUCTION_BELOW = 0.99


class AccountMove(models.Model):
    _inherit = "account.move"

    # What a posted customer invoice or credit note cost, which order it belongs to and whether it
    # came from one, kept when it is posted so that the lifecycle reads one row per document.
    lifecycle_cost = fields.Monetary(
        "Cost of Goods Invoiced",
        currency_field="company_currency_id",
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Cost of the products invoiced, in company currency, as it stood when the document was "
        "posted: the sale line's cost when the line came from an order, else the product's cost. A credit note "
        "gives the cost back for goods returned at their invoiced price, not for a price reduction.",
    )
    lifecycle_from_order = fields.Boolean("Invoiced from an Order", readonly=True, copy=False, groups="base.group_user")
    lifecycle_order_id = fields.Many2one(
        "sale.order",
        "Order of the Purchase",
        readonly=True,
        copy=False,
        index=False,  # read through the covering index by partner
        ondelete="set null",
        groups="base.group_user",
        help="The sale order this customer invoice or credit note belongs to (for a credit note without order "
        "lines, the order of the invoice it reverses): a purchase is refunded when its order is credited in full.",
    )
    complaint_count = fields.Integer(
        "Complaints", compute="_compute_complaint_count", groups="crm_lifecycle.crm_lifecycle_group_complaint_user"
    )

    def _auto_init(self):
        new_column = not column_exists(self.env.cr, "account_move", "lifecycle_order_id")
        result = super()._auto_init()
        if new_column:
            # installing on existing books (or upgrading from a release without the order): the documents
            # already posted, oldest first so that a credit note finds the order of the invoice it reverses
            self._lifecycle_store_cost(SQL("am.state = 'posted' AND am.move_type IN %s", CUSTOMER_MOVE_TYPES))
        return result

    def init(self):
        result = super().init()
        for index in OLD_MOVE_INDEXES:
            self.env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(index)))
        # The lifecycle reads a customer's documents by commercial partner (Odoo does not index it),
        # from the index alone: the columns it reads come with the key, so a batch does not visit
        # one table page per document.
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS %s ON account_move (commercial_partner_id) INCLUDE (id, company_id, state,"
                " move_type, partner_id, invoice_date, payment_state, amount_untaxed, amount_untaxed_signed,"
                " lifecycle_cost, lifecycle_from_order, lifecycle_order_id, reversed_entry_id)"
                " WHERE commercial_partner_id IS NOT NULL",
                SQL.identifier(MOVE_INDEX),
            )
        )
        return result

    def _compute_complaint_count(self):
        counts = self.env["crm.complaint"]._count_by("invoice_id", self)
        for move in self:
            move.complaint_count = counts.get(move, 0)

    def action_view_complaints(self):
        return self.env["crm.complaint"]._action_view(
            [("invoice_id", "=", self.id)], {"default_invoice_id": self.id, "default_partner_id": self.partner_id.id}
        )

    def action_new_complaint(self):
        return self.env["crm.complaint"]._action_new(
            {"default_partner_id": self.partner_id.id, "default_invoice_id": self.id}
        )

    # ------------------------------------------------------------------ the stored cost
    def _check_lifecycle_stored(self, vals):
        if STORED_FIELDS & vals.keys() and not engine_writes_allowed(self.env):
            raise AccessError(
                _("The cost and order of a posted document are recorded when it is posted; they cannot be written.")
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_lifecycle_stored(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_lifecycle_stored(vals)
        return super().write(vals)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        customer_moves = posted.filtered(lambda move: move.move_type in CUSTOMER_MOVE_TYPES)
        if customer_moves:
            self.env.flush_all()  # the lines, and their links to sale lines, as posting left them
            self._lifecycle_store_cost(SQL("am.id = ANY(%s)", customer_moves.ids))
            customer_moves.invalidate_recordset(list(STORED_FIELDS))
        posted._lifecycle_refresh_partners()
        return posted

    def _lifecycle_store_cost(self, where):
        """Store the cost, the order and the order origin of the customer moves matching `where`, one
        UPDATE (credit notes after the invoices they reverse, which they take the order from).

        Cost per product line: quantity x the sale line's cost (sale_margin's purchase_price, in
        the order's currency, converted at the invoice's rate) when the line was invoiced from an
        order, else the product's cost in the move's company. A credit note line gives that cost
        back only for a return: a line credited at less than the unit price it was invoiced at (the
        reversed invoice's line of the same product, else the sale line's price) is a price
        reduction, and the goods, with their cost, stay sold.
        """
        for move_type in CUSTOMER_MOVE_TYPES:
            self.env.cr.execute(
                SQL(
                    """
UPDATE account_move AS am
   SET lifecycle_cost = COALESCE(l.cost, 0), lifecycle_from_order = COALESCE(l.from_order, false),
       lifecycle_order_id = COALESCE(l.order_id, reversed.lifecycle_order_id)
  FROM account_move m
  LEFT JOIN account_move reversed ON reversed.id = m.reversed_entry_id
  LEFT JOIN LATERAL (
        SELECT bool_or(sl.links > 0) AS from_order, min(sl.order_id) AS order_id,
               sum(CASE WHEN m.move_type = 'out_refund' AND aml.quantity <> 0
                         AND aml.price_subtotal / aml.quantity < %(below)s * COALESCE(ref.price, sl.sale_price)
                        THEN 0
                        ELSE aml.quantity * COALESCE(
                            sl.price * CASE WHEN aml.amount_currency <> 0
                                            THEN abs(aml.balance / aml.amount_currency) ELSE 1 END,
                            (pp.standard_price ->> m.company_id::text)::numeric,
                            0)
                   END) FILTER (WHERE aml.display_type = 'product' AND pp.id IS NOT NULL) AS cost
          FROM account_move_line aml
          LEFT JOIN product_product pp ON pp.id = aml.product_id
         CROSS JOIN LATERAL (
            SELECT count(*) AS links, avg(sol.purchase_price) AS price, min(sol.order_id) AS order_id,
                   avg(sol.price_reduce_taxexcl) AS sale_price
              FROM sale_order_line_invoice_rel r JOIN sale_order_line sol ON sol.id = r.order_line_id
             WHERE r.invoice_line_id = aml.id
         ) sl
         LEFT JOIN LATERAL (
            SELECT avg(o.price_subtotal / o.quantity) AS price FROM account_move_line o
             WHERE o.move_id = m.reversed_entry_id AND o.product_id = aml.product_id
               AND o.display_type = 'product' AND o.quantity <> 0
         ) ref ON m.move_type = 'out_refund'
         WHERE aml.move_id = m.id
  ) l ON true
 WHERE m.id = am.id AND m.move_type = %(move_type)s AND %(where)s
                    """,
                    where=where,
                    move_type=move_type,
                    below=PRICE_REDUCTION_BELOW,
                )
            )

    # ------------------------------------------------------------------ prompt updates
    def button_draft(self):
        result = super().button_draft()
        self._lifecycle_refresh_partners()
        return result

    def button_cancel(self):
        result = super().button_cancel()
        self._lifecycle_refresh_partners()
        return result

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        self._lifecycle_refresh_partners()
        return result

    def _lifecycle_refresh_partners(self):
        """Customer invoices and credit notes change their customers' figures (and, through them, the
        referrers'): recomputed when the transaction commits."""
        moves = self.filtered(lambda move: move.move_type in CUSTOMER_MOVE_TYPES)
        if moves:
            moves.commercial_partner_id._lifecycle_recompute_later()
