from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists

MOVE_INDEX = "account_move_crm_lifecycle_partner_index"


class AccountMove(models.Model):
    _inherit = "account.move"

    # What a posted customer invoice or credit note cost and whether it came from a sale order,
    # kept when it is posted so that the lifecycle reads one row per document, not its lines.
    lifecycle_cost = fields.Monetary(
        "Cost of Goods Invoiced",
        currency_field="company_currency_id",
        readonly=True,
        copy=False,
        help="Cost of the products invoiced, in company currency, as it stood when the document was "
        "posted: the sale line's cost when the line came from an order, else the product's cost.",
    )
    lifecycle_from_order = fields.Boolean("Invoiced from an Order", readonly=True, copy=False)
    complaint_count = fields.Integer(
        "Complaints", compute="_compute_complaint_count", groups="crm_lifecycle.crm_lifecycle_group_complaint_user"
    )

    def _auto_init(self):
        new_column = not column_exists(self.env.cr, "account_move", "lifecycle_cost")
        result = super()._auto_init()
        if new_column:
            # installing on existing books: the documents already posted, in one statement
            self._lifecycle_store_cost(SQL("am.state = 'posted' AND am.move_type IN ('out_invoice', 'out_refund')"))
        return result

    def init(self):
        result = super().init()
        # The lifecycle reads a customer's documents by commercial partner (Odoo does not index it),
        # from the index alone: the columns it reads come with the key, so a batch does not visit
        # one table page per document.
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS %s ON account_move (commercial_partner_id) INCLUDE (id, company_id, state,"
                " move_type, partner_id, invoice_date, invoice_date_due, payment_state, amount_untaxed_signed,"
                " amount_residual_signed, lifecycle_cost, lifecycle_from_order, reversed_entry_id)"
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

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        customer_moves = posted.filtered(lambda move: move.move_type in ("out_invoice", "out_refund"))
        if customer_moves:
            self.env.flush_all()  # the lines, and their links to sale lines, as posting left them
            self._lifecycle_store_cost(SQL("am.id = ANY(%s)", customer_moves.ids))
            customer_moves.invalidate_recordset(["lifecycle_cost", "lifecycle_from_order"])
        posted._lifecycle_refresh_partners()
        return posted

    def _lifecycle_store_cost(self, where):
        """Store the cost and the order origin of the customer moves matching `where`, one UPDATE.

        Cost per product line: quantity x the sale line's cost (sale_margin's purchase_price, in
        the order's currency, converted at the invoice's rate) when the line was invoiced from an
        order, else the product's cost in the move's company.
        """
        self.env.cr.execute(
            SQL(
                """
UPDATE account_move AS am
   SET lifecycle_cost = COALESCE(l.cost, 0), lifecycle_from_order = COALESCE(l.from_order, false)
  FROM account_move m
  LEFT JOIN LATERAL (
        SELECT bool_or(sl.links > 0) AS from_order,
               sum(aml.quantity * COALESCE(
                   sl.price * CASE WHEN aml.amount_currency <> 0 THEN abs(aml.balance / aml.amount_currency) ELSE 1 END,
                   (pp.standard_price ->> m.company_id::text)::numeric,
                   0)) FILTER (WHERE aml.display_type = 'product' AND pp.id IS NOT NULL) AS cost
          FROM account_move_line aml
          LEFT JOIN product_product pp ON pp.id = aml.product_id
         CROSS JOIN LATERAL (
            SELECT count(*) AS links, avg(sol.purchase_price) AS price
              FROM sale_order_line_invoice_rel r JOIN sale_order_line sol ON sol.id = r.order_line_id
             WHERE r.invoice_line_id = aml.id
         ) sl
         WHERE aml.move_id = m.id
  ) l ON true
 WHERE m.id = am.id AND %s
                """,
                where,
            )
        )

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
        """Customer invoices and credit notes change their customer's figures (and the referrer's).

        With `lifecycle_defer` in the context (bulk imports), the nightly run catches up instead.
        """
        if self.env.context.get("lifecycle_defer"):
            return
        moves = self.filtered(lambda move: move.move_type in ("out_invoice", "out_refund"))
        if moves:
            partners = moves.commercial_partner_id
            (partners | partners.referred_by_id)._lifecycle_recompute()
