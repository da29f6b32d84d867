"""Benchmark of the lifecycle engine on large books: `bash tools/bench.sh bench/ladder.py`.

What it does, for each book size (default: 10,000 partners, then 100,000; 10 orders a partner):

1. Builds its own database: the template (`CRM_LIFECYCLE_BASE_DB`, Odoo's crm/sale/account with
   Odoo's demo data) is copied to `crm_lifecycle_bench_installed` with its filestore, and the
   addon is installed there once with `odoo-bin -i crm_lifecycle --stop-after-init`; each size
   then starts from a fresh copy of that database named `crm_lifecycle_bench`.
2. Writes the books with set-based SQL in ONE transaction, not through the ORM: this is bench
   data, written the way Odoo writes these rows (same tables, same columns, same signs) but
   without Odoo's business logic, so that a million orders take minutes instead of hours.
   The secondary indexes (but res_partner's) and foreign keys of the bulk tables are dropped
   first and recreated after the inserts, then the tables are VACUUM ANALYZEd, and the script
   waits until PostgreSQL may use the rebuilt indexes (see KEEP_INDEXES). The rows:
   - res_partner: N companies (is_company, commercial_partner_id = id, main company, partner_share,
     active), 2% of them referred by an earlier one (referred_by_id);
   - how many purchases each partner has is drawn in Python (seeded, reproducible): 10% have none,
     the others a log-normal count (sigma 1.4) scaled so that the total is exactly
     N * orders-per-partner: median about 4, a long tail of a few partners with thousands; each
     partner buys between a start day and an end day (25% stopped buying) within 3 years;
   - 95% of the purchases are a sale_order (state 'sale', date_order spread over the partner's
     window, ids in date order so that a partner's rows are scattered over the table as in real
     books) with one sale_order_line (a product of the template with a cost, 1-10 units at its
     list price, purchase_price = its cost, as sale_margin sets it); the other 5% an invoice
     without an order;
   - one posted out_invoice per purchase (tax-free, a product line, linked to the order line
     through sale_order_line_invoice_rel for an order, and its receivable payment_term lines,
     balanced; invoice_date 0-3 days after the order, so that the last days' invoices may be
     dated after today; names INV/YYYY/NNNNNN numbered after the journal's existing ones;
     lifecycle_cost, lifecycle_from_order and lifecycle_order_id as account.move._post stores
     them: quantity x the sale line's cost (the product's without an order, the same here),
     whether it came from an order, which order):
     - 5% (of those dated by today) are fully reversed by a posted out_refund, and 3% of those of
       2+ units partly, half their units returned at the invoiced price (reversed_entry_id,
       linked to the same order line as Odoo's reversal copies it, the order stored on the credit
       note too, dated 1-60 days after the invoice and at the latest today; the invoice
       'reversed', or 'partial' if the rest is unpaid, the credit note 'paid');
     - 20% of those not credited are due in two instalments (30% on the invoice date, 70% 60
       days later: two receivable lines with their date_maturity), the others in one, 30 days
       later (invoice_date_due: the last instalment);
     - 60% of those not yet fully due are left unpaid, 3% of the older ones (overdue), the rest
       'paid'; a two-instalment invoice left unpaid has its first instalment paid half of the
       time ('partial'), else it is 'not_paid'. Each receivable line's amount_residual (and the
       move's) is what is left open, consistent with the payment state; no payment moves are
       written (the engine sees payments only through the payment state and the residuals).
3. Measures, in one process (Odoo loaded in-process, every SQL query counted through Odoo's
   cursor query hooks):
   - FLOOR: one hand-written UPDATE res_partner ... FROM (SELECT ... GROUP BY partner) computing
     the engine's stored figures for every commercial partner from the definitions, apart from
     the engine's SQL (orders and refunded purchases, orders in 12 months, first/last order and
     days between the purchases kept, contacts who bought, revenue and margin lifetime and 12
     months net of credit notes, overdue instalments, referrals and referrals who kept a
     purchase; documents dated after today left out), twice: from Odoo's own rows (a document's
     order through its sale lines, the cost from the invoice lines and their sale lines), and on
     the cost, order and order origin crm_lifecycle stores on each posted move (what the engine
     reads); after each, the partners' lifecycle columns are reset to what the install left
     (NULL, prospect);
   - FULL RECOMPUTE through the nightly cron path (`_cron_recompute(batch_size=2000)` until it
     returns 0, commit and `env.invalidate_all()` after each batch): wall time, queries, RSS;
   - NOTHING CHANGED: the same loop again; res_partner rows written must be 0;
   - the floor's SELECT alone; both floors compared with what the engine wrote, figure by figure
     (must be equal; the days between orders within the engine's rounding to 0.1), and with the
     purchases kept in the last 12 months that the rung's explanation states (not stored);
   - MEMORY: the process's peak RSS during the full recompute, over its RSS at the start (and with
     `--tracemalloc`, a second full recompute under tracemalloc for the peak Python heap: slow);
   - ODOO'S OWN: `partners.mapped('total_invoiced')` for the same partners;
   - PROMPT UPDATE: an invoice created and posted through the ORM (with `lifecycle_defer`) for
     the partner with the longest history and for one with a single order, then the queries of
     `partner._lifecycle_recompute()` alone, with the cache as the posting left it, and cold.
   and prints a PASS/FAIL summary of the targets of the issue.

Options: `--partners N` (repeatable; default 10000 and 100000), `--orders-per-partner`,
`--batch-size`, `--skip-odoo-total` (skip the slow Odoo computation), `--tracemalloc` (also the peak
Python heap, in a second run), `--keep` (keep the databases), `--generate-only` (only build the
books, kept).
Environment: CRM_LIFECYCLE_CONF (Odoo config file), CRM_LIFECYCLE_BASE_DB (template database),
ODOO_PATH (Odoo source, default /opt/odoo18).
"""

import argparse
import io
import math
import random
import statistics
import subprocess
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from benchlib import (
    ADDON,
    CONF,
    QueryCounter,
    base_db,
    connect,
    copy_db,
    drop_db,
    fmt_int,
    install_addon,
    mib,
    out,
    rss,
    server_settings,
)
from psycopg2 import sql as pgsql

INSTALLED_DB = "crm_lifecycle_bench_installed"
BENCH_DB = "crm_lifecycle_bench"
CURSOR_PARAM = "crm_lifecycle.recompute_cursor"
BULK_TABLES = [
    "res_partner",
    "sale_order",
    "sale_order_line",
    "account_move",
    "account_move_line",
    "sale_order_line_invoice_rel",
]
# Tables whose indexes stay during the inserts. An index built over recently updated rows (the
# install updates partners) is marked indcheckxmin: no transaction whose snapshot is older than
# its build may use it, and another developer's test session idle in a transaction for minutes
# kept every snapshot that old, so the engine read res_partner without its indexes (91 s instead
# of 27 for the full recompute). 100,000 partners insert in seconds with their indexes.
KEEP_INDEXES = ("res_partner",)
# Targets of the issue
TARGET_FULL_SECONDS = 60.0
TARGET_FLOOR_RATIO = 3.0
TARGET_PROMPT_QUERIES = 25
TARGET_MEMORY_GROWTH = 1.5  # peak at the largest size / peak at the smallest (10x the partners)
# Shape of the books
YEARS_DAYS = 3 * 365
NO_ORDER_SHARE = 0.10
SIGMA = 1.4
CHURN_SHARE = 0.25
REFERRED_SHARE = 0.02
DIRECT_SHARE = 0.05  # purchases invoiced without an order
REFUND_SHARE = 0.05  # invoices credited in full
PARTIAL_CREDIT_SHARE = 0.03  # invoices of 2+ units of which half are returned (still a purchase)
INSTALMENT_SHARE = 0.20  # of the invoices not credited: 30% due at once, 70% in 60 days
FIRST_INSTALMENT = 0.30
UNPAID_RECENT_SHARE = 0.60
UNPAID_OLD_SHARE = 0.03
SEED = 42
# The figures the floor computes, as engine column -> floor column, and how far apart they may be
# (money: rounded to the cent on both sides; the days between orders: the engine rounds to 0.1 the
# floor's exact value)
FLOOR_FIGURES = {
    "lifecycle_order_count": "order_count",
    "lifecycle_order_count_12m": "order_count_12m",
    "lifecycle_refund_count": "refund_count",
    "lifecycle_first_order_date": "first_order",
    "lifecycle_last_order_date": "last_order",
    "lifecycle_order_interval": "order_interval",
    "lifecycle_contact_count": "contact_count",
    "lifecycle_revenue": "revenue",
    "lifecycle_revenue_12m": "revenue_12m",
    "lifecycle_margin": "margin",
    "lifecycle_margin_12m": "margin_12m",
    "lifecycle_overdue_amount": "overdue_amount",
    "lifecycle_referral_count": "referral_count",
    "lifecycle_referral_customer_count": "referral_customer_count",
}
FLOOR_TOLERANCE = {
    "revenue": 0.005,
    "revenue_12m": 0.005,
    "margin": 0.005,
    "margin_12m": 0.005,
    "overdue_amount": 0.005,
    "order_interval": 0.0501,
}
# The two floors timed: result key, read the stored move cost?, name, what it reads
FLOORS = (
    ("floor", False, "from Odoo's rows", "the cost from invoice lines and sale lines"),
    ("floor_stored", True, "on the stored move costs", "the cost and order origin crm_lifecycle stores on each move"),
)


def addon_revision():
    """Where the addon is loaded from, and its git revision (the tree may hold uncommitted changes)."""
    from odoo.modules.module import get_module_path

    path = get_module_path(ADDON)
    git = ["git", "-C", path]
    head = subprocess.run([*git, "log", "-1", "--format=%h %s"], capture_output=True, text=True, check=False)
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "."], capture_output=True, text=True, check=False)
    if head.returncode:
        return path
    state = "with uncommitted changes" if dirty.stdout.strip() else "clean"
    return f"{path} at {head.stdout.strip()!r} ({state})"


# ---------------------------------------------------------------------------------------------- the books
def order_counts(partners, orders_per_partner):
    """How many orders each partner has: 10% none, log-normal otherwise, total exact."""
    rng = random.Random(SEED)
    raw = [0.0 if rng.random() < NO_ORDER_SHARE else rng.lognormvariate(0, SIGMA) for _ in range(partners)]
    target = partners * orders_per_partner
    low, high = 0.01, 1000.0
    for _ in range(100):
        factor = (low + high) / 2
        if sum(math.ceil(x * factor) for x in raw) < target:
            low = factor
        else:
            high = factor
    counts = [math.ceil(x * low) for x in raw]
    buyers = [i for i, n in enumerate(counts) if n]
    while sum(counts) != target:  # the last few orders, one by one
        i = rng.choice(buyers)
        counts[i] += 1 if sum(counts) < target else (-1 if counts[i] > 1 else 0)
    return counts


def partner_rows(counts):
    """(index, orders, first day back, last day back, referrer index) for each partner."""
    rng = random.Random(SEED + 1)
    rows = []
    for idx, n in enumerate(counts):
        start = rng.randint(0, YEARS_DAYS - 1)
        if n > 1:
            start = max(start, min(YEARS_DAYS - 1, n // 2))  # big accounts are old accounts
        if n <= 1:
            end = start
        elif rng.random() < CHURN_SHARE:
            end = rng.randint(0, start)
        else:
            end = rng.randint(0, min(30, start))
        referrer = rng.randrange(idx) if idx and rng.random() < REFERRED_SHARE else None
        rows.append((idx, n, start, end, referrer))
    return rows


def given_partner_rows(purchases):
    """partner_rows for purchases given as days before today (a list per partner): each partner buys
    from its first purchase to its last, referrers drawn as in partner_rows."""
    rng = random.Random(SEED + 1)
    rows = []
    for idx, days in enumerate(purchases):
        start, end = (max(days), min(days)) if days else (rng.randint(0, YEARS_DAYS - 1),) * 2
        referrer = rng.randrange(idx) if idx and rng.random() < REFERRED_SHARE else None
        rows.append((idx, len(days), start, end, referrer))
    return rows


# Where the purchases' days come from: drawn uniformly in each partner's window (the default), or
# given (generate_books' `purchases`, in the temporary table bench_purchase)
DRAWN_DAYS = (
    "%(today)s::date - (bp.end_back + floor(random() * (bp.start_back - bp.end_back + 1)))::int",
    "bench_partner bp CROSS JOIN LATERAL generate_series(1, bp.n)",
)
GIVEN_DAYS = ("%(today)s::date - pu.back", "bench_partner bp JOIN bench_purchase pu ON pu.idx = bp.idx")

GEN_ORDERS = """
CREATE TEMP TABLE bench_order ON COMMIT DROP AS
WITH raw AS (
    SELECT bp.pid, bp.name AS partner_name,
           {day} AS day,
           floor(random() * 86400)::int AS sec,
           1 + floor(random() * %(nprod)s)::int AS prod,
           1 + floor(random() * 10)::int AS qty,
           random() AS r_refund, random() AS r_pay, random() AS r_direct, random() AS r_terms,
           floor(random() * 4)::int AS inv_lag, 1 + floor(random() * 60)::int AS refund_lag
      FROM {source}
), dated AS (
    -- invoiced 0-3 days after the order: the last days' invoices may be dated after today (posted by
    -- hand, as Odoo allows); a credit note is posted on a day that has come (the wizard schedules later ones)
    SELECT row_number() OVER (ORDER BY r.day, r.sec, r.pid) AS rn, r.*, r.day + r.inv_lag AS inv_date,
           r.r_direct < %(direct_share)s AS direct
      FROM raw r
), credited AS (
    SELECT d.*, d.inv_date <= %(today)s::date AND d.r_refund < %(refund_share)s AS refunded,
           CASE WHEN d.inv_date <= %(today)s::date AND d.qty >= 2 AND d.r_refund >= %(refund_share)s
                     AND d.r_refund < %(refund_share)s + %(partial_share)s THEN d.qty / 2 ELSE 0 END AS credit_qty,
           LEAST(d.inv_date + d.refund_lag, %(today)s::date) AS refund_date
      FROM dated d
), terms AS (
    SELECT c.*, NOT c.refunded AND c.credit_qty = 0 AND c.r_terms < %(instalment_share)s AS instalments
      FROM credited c
), due AS (
    SELECT t.*, t.inv_date + CASE WHEN t.instalments THEN 60 ELSE 30 END AS due FROM terms t
), paid AS (
    -- what the customer paid: everything, the first instalment only, or nothing (a share of the
    -- invoices not yet due, a small one of the others)
    SELECT u.*, CASE WHEN u.refunded THEN 'reversed'
                     WHEN u.r_pay >= u.unpaid THEN 'all'
                     WHEN u.instalments AND u.r_pay >= u.unpaid / 2 THEN 'first'
                     ELSE 'none' END AS paid
      FROM (SELECT d.*, CASE WHEN d.due >= %(today)s::date THEN %(unpaid_recent)s ELSE %(unpaid_old)s END AS unpaid
              FROM due d) u
)
SELECT o.rn, o.pid, o.partner_name, o.day, o.day + make_interval(secs => o.sec) AS date_order, o.qty,
       o.inv_date, o.due, o.refund_date, o.direct, o.refunded, o.credit_qty, o.instalments,
       CASE WHEN o.refunded THEN o.qty ELSE o.credit_qty END AS returned_qty,
       -- as Odoo computes it from the receivable lines' residuals and their reconciliations
       CASE WHEN o.paid = 'reversed' THEN 'reversed' WHEN o.paid = 'all' THEN 'paid'
            WHEN o.paid = 'first' OR o.credit_qty > 0 THEN 'partial' ELSE 'not_paid' END AS payment_state,
       CASE WHEN o.instalments THEN round(o.qty * p.price * %(first_instalment)s, 2) ELSE o.qty * p.price END
           AS term1,
       -- open on the first receivable line: unpaid, less what a credit note took off it
       CASE WHEN o.paid = 'none' THEN
            CASE WHEN o.instalments THEN round(o.qty * p.price * %(first_instalment)s, 2)
                 ELSE (o.qty - o.credit_qty) * p.price END
            ELSE 0 END AS residual1,
       CASE WHEN o.instalments AND o.paid IN ('none', 'first')
            THEN o.qty * p.price - round(o.qty * p.price * %(first_instalment)s, 2) ELSE 0 END AS residual2,
       'SB' || lpad(o.rn::text, 8, '0') AS so_name,
       %(so_base)s + o.rn AS so_id, %(sol_base)s + o.rn AS sol_id,
       p.product_id, p.name AS product_name, p.uom_id, p.price, p.cost, o.qty * p.price AS amount
  FROM paid o JOIN bench_product p ON p.idx = o.prod
"""

GEN_MOVES = """
CREATE TEMP TABLE bench_move ON COMMIT DROP AS
WITH m AS (
    SELECT o.rn AS order_rn, o.pid, o.partner_name, 'out_invoice'::varchar AS move_type, o.inv_date AS day,
           o.due, o.qty, o.amount, o.payment_state, o.instalments, o.term1, o.residual1, o.residual2, o.direct,
           o.so_name, o.so_id, o.sol_id, o.product_id, o.product_name, o.uom_id, o.price, o.cost
      FROM bench_order o
    UNION ALL
    -- the credit notes: the whole invoice, or the units returned, at the invoiced price
    SELECT o.rn, o.pid, o.partner_name, 'out_refund', o.refund_date, o.refund_date, o.returned_qty,
           o.returned_qty * o.price, 'paid', false, o.returned_qty * o.price, 0, 0, o.direct,
           o.so_name, o.so_id, o.sol_id, o.product_id, o.product_name, o.uom_id, o.price, o.cost
      FROM bench_order o WHERE o.returned_qty > 0
), numbered AS (
    SELECT row_number() OVER (ORDER BY m.day, m.order_rn, m.move_type) AS mrn, m.*,
           CASE WHEN m.move_type = 'out_invoice' THEN 'INV/' ELSE 'RINV/' END
               || extract(year FROM m.day)::int || '/' AS prefix,
           row_number() OVER (PARTITION BY m.move_type, extract(year FROM m.day) ORDER BY m.day, m.order_rn) AS seq
      FROM m
)
SELECT n.*, %(move_base)s + n.mrn AS id,
       %(aml_base)s + 3 * n.mrn - 2 AS product_line_id, %(aml_base)s + 3 * n.mrn - 1 AS term_line_id,
       %(aml_base)s + 3 * n.mrn AS term2_line_id,
       CASE WHEN n.move_type = 'out_invoice' THEN 1 ELSE -1 END AS sign,
       n.residual1 + n.residual2 AS residual,
       n.seq + COALESCE(x.last, 0) AS sequence_number,
       n.prefix || lpad((n.seq + COALESCE(x.last, 0))::text, 6, '0') AS name
  FROM numbered n
  LEFT JOIN (SELECT sequence_prefix, max(sequence_number) AS last FROM account_move
              WHERE journal_id = %(journal)s GROUP BY sequence_prefix) x ON x.sequence_prefix = n.prefix
"""

INSERTS = [
    """
INSERT INTO res_partner (id, name, complete_name, commercial_company_name, commercial_partner_id, company_id,
    type, lang, active, is_company, partner_share, color, customer_rank, supplier_rank, invoice_warn, sale_warn,
    autopost_bills, ladder_stage, value_tier, referred_by_id, email, email_normalized, message_bounce,
    create_uid, write_uid, create_date, write_date)
SELECT bp.pid, bp.name, bp.name, bp.name, bp.pid, %(company)s, 'contact', 'en_US', true, true, true, 0,
       LEAST(bp.n, 1), 0, 'no-message', 'no-message', 'ask', 'prospect', 'lead', bp.ref_pid,
       'customer' || bp.idx || '@bench.example.com', 'customer' || bp.idx || '@bench.example.com', 0,
       1, 1, %(now)s::timestamp - make_interval(days => bp.start_back + 1),
       %(now)s::timestamp - make_interval(days => bp.start_back + 1)
  FROM bench_partner bp
""",
    """
INSERT INTO sale_order (id, company_id, partner_id, partner_invoice_id, partner_shipping_id, currency_id, user_id,
    team_id, name, state, invoice_status, currency_rate, amount_untaxed, amount_tax, amount_total, margin,
    margin_percent, locked, require_signature, require_payment, prepayment_percent, date_order, validity_date,
    create_uid, write_uid, create_date, write_date)
SELECT o.so_id, %(company)s, o.pid, o.pid, o.pid, %(currency)s, %(salesman)s, %(team)s, o.so_name, 'sale',
       CASE WHEN o.returned_qty > 0 THEN 'to invoice' ELSE 'invoiced' END, 1.0, o.amount, 0, o.amount,
       o.amount - o.qty * o.cost, (o.amount - o.qty * o.cost) / o.amount, false, true, true, 1.0,
       o.date_order, o.day + 30, 1, 1, o.date_order, o.date_order
  FROM bench_order o WHERE NOT o.direct
""",
    """
INSERT INTO sale_order_line (id, order_id, sequence, company_id, currency_id, order_partner_id, salesman_id,
    product_id, product_uom, state, qty_delivered_method, invoice_status, name, product_uom_qty, price_unit,
    discount, price_subtotal, price_total, price_tax, price_reduce_taxexcl, price_reduce_taxinc,
    technical_price_unit, qty_delivered, qty_invoiced, qty_to_invoice, untaxed_amount_invoiced,
    untaxed_amount_to_invoice, product_packaging_qty, customer_lead, purchase_price, margin, margin_percent,
    create_uid, write_uid, create_date, write_date)
SELECT o.sol_id, o.so_id, 10, %(company)s, %(currency)s, o.pid, %(salesman)s, o.product_id, o.uom_id, 'sale',
       'manual', CASE WHEN o.returned_qty > 0 THEN 'to invoice' ELSE 'invoiced' END, o.product_name, o.qty,
       o.price, 0, o.amount, o.amount, 0, o.price, o.price, o.price, o.qty,
       o.qty - o.returned_qty, o.returned_qty, (o.qty - o.returned_qty) * o.price, o.returned_qty * o.price,
       0, 0, o.cost, o.amount - o.qty * o.cost, (o.amount - o.qty * o.cost) / o.amount,
       1, 1, o.date_order, o.date_order
  FROM bench_order o WHERE NOT o.direct
""",
    """
INSERT INTO account_move (id, journal_id, company_id, partner_id, commercial_partner_id, partner_shipping_id,
    currency_id, reversed_entry_id, invoice_user_id, team_id, sequence_prefix, sequence_number, name, ref, state,
    move_type, auto_post, payment_reference, payment_state, invoice_partner_display_name, invoice_origin, date,
    invoice_date, invoice_date_due, invoice_currency_rate, amount_untaxed, amount_tax, amount_total,
    amount_residual, amount_untaxed_signed, amount_untaxed_in_currency_signed, amount_tax_signed,
    amount_total_signed, amount_total_in_currency_signed, amount_residual_signed, is_storno,
    always_tax_exigible, checked, posted_before, made_sequence_gap, lifecycle_cost, lifecycle_from_order,
    lifecycle_order_id, create_uid, write_uid, create_date, write_date)
SELECT m.id, %(journal)s, %(company)s, m.pid, m.pid, m.pid, %(currency)s, inv.id, %(salesman)s, %(team)s,
       m.prefix, m.sequence_number, m.name,
       CASE WHEN m.move_type = 'out_refund' THEN 'Reversal of: ' || inv.name END, 'posted', m.move_type, 'no',
       CASE WHEN m.move_type = 'out_invoice' THEN m.name END, m.payment_state, m.partner_name,
       CASE WHEN NOT m.direct THEN m.so_name END, m.day, m.day, m.due, 1.0, m.amount, 0, m.amount, m.residual,
       m.sign * m.amount, m.sign * m.amount, 0, m.sign * m.amount, m.sign * m.amount, m.sign * m.residual,
       false, false, true, true, false,
       -- as account.move._lifecycle_store_cost stores them on posting: the sale line's cost (the
       -- product's for a direct invoice, the same here), the order of the invoice and of its credit notes
       m.qty * m.cost, NOT m.direct, CASE WHEN NOT m.direct THEN m.so_id END,
       1, 1, m.day + time '12:00', m.day + time '12:00'
  FROM bench_move m
  LEFT JOIN bench_move inv ON m.move_type = 'out_refund' AND inv.move_type = 'out_invoice'
                          AND inv.order_rn = m.order_rn
""",
    """
INSERT INTO account_move_line (id, move_id, journal_id, company_id, company_currency_id, currency_id, sequence,
    account_id, partner_id, product_id, product_uom_id, move_name, parent_state, name, display_type, date,
    invoice_date, date_maturity, debit, credit, balance, amount_currency, amount_residual,
    amount_residual_currency, quantity, price_unit, price_subtotal, price_total, discount,
    discount_amount_currency, discount_balance, tax_tag_invert, reconciled, create_uid, write_uid, create_date,
    write_date)
SELECT m.product_line_id, m.id, %(journal)s, %(company)s, %(currency)s, %(currency)s, 10, %(income)s, m.pid,
       m.product_id, m.uom_id, m.name, 'posted', m.product_name, 'product', m.day, m.day, NULL,
       CASE WHEN m.sign < 0 THEN m.amount ELSE 0 END, CASE WHEN m.sign > 0 THEN m.amount ELSE 0 END,
       -m.sign * m.amount, -m.sign * m.amount, 0, 0, m.qty, m.price, m.amount, m.amount, 0, NULL, NULL,
       m.sign > 0, false, 1, 1, m.day + time '12:00', m.day + time '12:00'
  FROM bench_move m
UNION ALL
-- the receivable: one line due at the due date, or two instalments (the first due on the invoice date)
SELECT m.term_line_id, m.id, %(journal)s, %(company)s, %(currency)s, %(currency)s, 12000, %(receivable)s, m.pid,
       NULL, NULL, m.name, 'posted', m.name, 'payment_term', m.day, m.day,
       CASE WHEN m.instalments THEN m.day ELSE m.due END,
       CASE WHEN m.sign > 0 THEN m.term1 ELSE 0 END, CASE WHEN m.sign < 0 THEN m.term1 ELSE 0 END,
       m.sign * m.term1, m.sign * m.term1, m.sign * m.residual1, m.sign * m.residual1, 0, 0, 0, 0, 0, 0, 0,
       false, m.residual1 = 0, 1, 1, m.day + time '12:00', m.day + time '12:00'
  FROM bench_move m
UNION ALL
SELECT m.term2_line_id, m.id, %(journal)s, %(company)s, %(currency)s, %(currency)s, 12001, %(receivable)s, m.pid,
       NULL, NULL, m.name, 'posted', m.name, 'payment_term', m.day, m.day, m.due,
       m.amount - m.term1, 0, m.amount - m.term1, m.amount - m.term1, m.residual2, m.residual2,
       0, 0, 0, 0, 0, 0, 0, false, m.residual2 = 0, 1, 1, m.day + time '12:00', m.day + time '12:00'
  FROM bench_move m WHERE m.instalments
""",
    """
INSERT INTO sale_order_line_invoice_rel (invoice_line_id, order_line_id)
SELECT m.product_line_id, m.sol_id FROM bench_move m WHERE NOT m.direct
""",
]


def generate_books(dbname, partners, orders_per_partner, today, now, purchases=None, shares=None):
    """Write the books in one transaction (see the module docstring). Returns the partner facts.

    `purchases`: the days of each partner's purchases instead of drawn ones, as days before `today`
    (a list per partner, one partner per list: `partners` and `orders_per_partner` are then not
    used); bench/retention.py gives a purchase process with real churn this way. `shares`: other
    shares of the books than this module's (keys as in `params` below: direct_share, refund_share,
    partial_share, instalment_share, first_instalment, unpaid_recent, unpaid_old).
    """
    started = time.monotonic()
    if purchases is None:
        counts = order_counts(partners, orders_per_partner)
        rows = partner_rows(counts)
    else:
        partners = len(purchases)
        counts = [len(days) for days in purchases]
        rows = given_partner_rows(purchases)
    conn = connect(dbname)
    cr = conn.cursor()
    cr.execute("SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '1GB'; SELECT setseed(%s)", [0.42])
    cr.execute("SELECT id FROM res_company ORDER BY id LIMIT 1")
    company = cr.fetchone()[0]
    cr.execute("SELECT currency_id FROM res_company WHERE id = %s", [company])
    currency = cr.fetchone()[0]
    cr.execute(
        "SELECT id, default_account_id FROM account_journal WHERE type = 'sale' AND company_id = %s"
        " ORDER BY id LIMIT 1",
        [company],
    )
    journal, income = cr.fetchone()
    cr.execute(
        """SELECT l.account_id FROM account_move_line l JOIN account_move m ON m.id = l.move_id
            WHERE m.move_type = 'out_invoice' AND l.display_type = 'payment_term' AND m.company_id = %s
            ORDER BY l.id LIMIT 1""",
        [company],
    )
    receivable = (cr.fetchone() or [None])[0]
    if not receivable:
        cr.execute("SELECT id FROM account_account WHERE account_type = 'asset_receivable' ORDER BY id LIMIT 1")
        receivable = cr.fetchone()[0]
    cr.execute("SELECT id FROM res_users WHERE login = 'admin'")
    salesman = (cr.fetchone() or [2])[0]
    cr.execute("SELECT id FROM crm_team ORDER BY sequence, id LIMIT 1")
    team = (cr.fetchone() or [None])[0]
    cr.execute(
        """CREATE TEMP TABLE bench_product ON COMMIT DROP AS
           SELECT row_number() OVER (ORDER BY pp.id) AS idx, pp.id AS product_id, pt.name->>'en_US' AS name,
                  pt.uom_id, pt.list_price AS price, (pp.standard_price->>%(key)s)::numeric AS cost
             FROM product_product pp JOIN product_template pt ON pt.id = pp.product_tmpl_id
            WHERE pt.sale_ok AND pt.active AND pp.active AND pt.type IN ('consu', 'service')
              AND pt.list_price > 0 AND pp.standard_price ? %(key)s
              AND (pt.company_id IS NULL OR pt.company_id = %(company)s)
            ORDER BY pp.id LIMIT 12""",
        {"key": str(company), "company": company},
    )
    nprod = cr.rowcount
    cr.execute("SELECT COALESCE(max(id), 0) FROM res_partner")
    partner_base = cr.fetchone()[0]
    bases = {}
    for table in ("sale_order", "sale_order_line", "account_move", "account_move_line"):
        cr.execute(pgsql.SQL("SELECT COALESCE(max(id), 0) FROM {}").format(pgsql.Identifier(table)))
        bases[table] = cr.fetchone()[0]

    cr.execute(
        """CREATE TEMP TABLE bench_partner (idx int, pid int, name varchar, n int, start_back int, end_back int,
                                              ref_pid int) ON COMMIT DROP"""
    )
    buffer = io.StringIO()
    for idx, n, start, end, referrer in rows:
        ref = "\\N" if referrer is None else partner_base + 1 + referrer
        buffer.write(f"{idx + 1}\t{partner_base + 1 + idx}\tBench Customer {idx + 1:06d}\t{n}\t{start}\t{end}\t{ref}\n")
    buffer.seek(0)
    cr.copy_from(buffer, "bench_partner")
    if purchases is not None:
        cr.execute("CREATE TEMP TABLE bench_purchase (idx int, back int) ON COMMIT DROP")
        buffer = io.StringIO()
        for idx, days in enumerate(purchases):
            buffer.writelines(f"{idx + 1}\t{back}\n" for back in days)
        buffer.seek(0)
        cr.copy_from(buffer, "bench_purchase")

    # drop the secondary indexes and foreign keys of the bulk tables, recreated after the inserts (but
    # res_partner's, see KEEP_INDEXES)
    cr.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        [[t for t in BULK_TABLES if t not in KEEP_INDEXES]],
    )
    indexes = cr.fetchall()
    cr.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f'""",
        [BULK_TABLES],
    )
    foreign_keys = cr.fetchall()
    for table, name, _definition in foreign_keys:
        cr.execute(
            pgsql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(pgsql.Identifier(table), pgsql.Identifier(name))
        )
    for name, _definition in indexes:
        cr.execute(pgsql.SQL("DROP INDEX {}").format(pgsql.Identifier(name)))

    params = {
        "today": today,
        "now": now,
        "company": company,
        "currency": currency,
        "journal": journal,
        "income": income,
        "receivable": receivable,
        "salesman": salesman,
        "team": team,
        "nprod": nprod,
        "direct_share": DIRECT_SHARE,
        "refund_share": REFUND_SHARE,
        "partial_share": PARTIAL_CREDIT_SHARE,
        "instalment_share": INSTALMENT_SHARE,
        "first_instalment": FIRST_INSTALMENT,
        "unpaid_recent": UNPAID_RECENT_SHARE,
        "unpaid_old": UNPAID_OLD_SHARE,
        "so_base": bases["sale_order"],
        "sol_base": bases["sale_order_line"],
        "move_base": bases["account_move"],
        "aml_base": bases["account_move_line"],
    }
    unknown = set(shares or ()) - set(params)
    assert not unknown, f"unknown shares {unknown}"
    params.update(shares or {})
    day, source = DRAWN_DAYS if purchases is None else GIVEN_DAYS
    cr.execute(GEN_ORDERS.format(day=day, source=source), params)
    cr.execute(GEN_MOVES, params)
    for statement in INSERTS:
        cr.execute(statement, params)
    for _name, definition in indexes:
        cr.execute(definition)
    for table, name, definition in foreign_keys:
        cr.execute(
            pgsql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(pgsql.Identifier(table), pgsql.Identifier(name))
            + pgsql.SQL(definition)
        )
    for table, seq in [(t, f"{t}_id_seq") for t in BULK_TABLES if t != "sale_order_line_invoice_rel"]:
        cr.execute(
            pgsql.SQL("SELECT setval({}, (SELECT max(id) FROM {}))").format(pgsql.Literal(seq), pgsql.Identifier(table))
        )
    cr.execute(
        """SELECT count(*) FILTER (WHERE direct), count(*) FILTER (WHERE refunded),
                  count(*) FILTER (WHERE credit_qty > 0), count(*) FILTER (WHERE instalments),
                  count(*) FILTER (WHERE payment_state = 'partial'), count(*) FILTER (WHERE payment_state = 'not_paid'),
                  count(*) FILTER (WHERE inv_date > %s)
             FROM bench_order""",
        [today],
    )
    shape = cr.fetchone()
    conn.commit()
    generated = time.monotonic() - started
    conn.autocommit = True
    cr.execute(
        "VACUUM ANALYZE res_partner, sale_order, sale_order_line, account_move, account_move_line, "
        "sale_order_line_invoice_rel"
    )
    cr.execute(
        """SELECT (SELECT count(*) FROM sale_order WHERE state = 'sale'),
                  (SELECT count(*) FROM account_move WHERE move_type = 'out_invoice' AND state = 'posted'),
                  (SELECT count(*) FROM account_move WHERE move_type = 'out_refund' AND state = 'posted'),
                  (SELECT count(*) FROM account_move_line),
                  pg_database_size(current_database())"""
    )
    n_orders, n_invoices, n_refunds, n_lines, size = cr.fetchone()
    wait_for_indexes(cr)
    conn.close()
    buyers = sorted(n for n in counts if n)
    longest = max(range(partners), key=counts.__getitem__)
    single = next((i for i, n in enumerate(counts) if n == 1), longest)
    out(
        f"books: {fmt_int(partners)} partners ({sum(1 for n in counts if not n) / partners:.0%} without orders), "
        f"{fmt_int(n_orders)} confirmed orders, {fmt_int(n_invoices)} posted invoices, "
        f"{fmt_int(n_refunds)} credit notes, {fmt_int(n_lines)} journal items"
    )
    out(
        "purchases: {} invoiced without an order, {} credited in full, {} in part, {} in two instalments; "
        "invoices {} partly paid, {} not paid, {} dated after today".format(*map(fmt_int, shape))
    )
    out(
        f"orders per partner: median {statistics.median(counts):g}, median of buyers {statistics.median(buyers):g}, "
        f"max {fmt_int(max(counts))}, partners with 1,000+ orders: {sum(1 for n in counts if n >= 1000)}"
    )
    vacuum = time.monotonic() - started - generated
    out(
        f"generated in {generated:.1f} s with set-based SQL in one transaction (+ {vacuum:.1f} s VACUUM ANALYZE); "
        f"database {mib(size)}"
    )
    return {
        "company": company,
        "partner_base": partner_base,
        "partner_last": partner_base + partners,
        "longest": (partner_base + 1 + longest, counts[longest]),
        "single": (partner_base + 1 + single, 1),
    }


def wait_for_indexes(cr, timeout=1200):
    """Wait until the indexes rebuilt on the bulk tables can be used (see KEEP_INDEXES): until no
    session holds a snapshot older than their build. Says so, and for how long."""
    query = """
        SELECT i.indexrelid::regclass::text FROM pg_index i
         WHERE i.indrelid = ANY(%s::regclass[]) AND i.indcheckxmin
           AND i.xmin::text::bigint >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint %% 4294967296"""
    started = time.monotonic()
    cr.execute(query, [BULK_TABLES])
    waiting = [name for (name,) in cr.fetchall()]
    if not waiting:
        return
    cr.execute(
        "SELECT string_agg(DISTINCT datname, ', ') FROM pg_stat_activity WHERE backend_xmin IS NOT NULL"
        " AND pid <> pg_backend_pid()"
    )
    out(
        f"waiting for the sessions with older snapshots ({cr.fetchone()[0]}) to end: until then PostgreSQL may not use "
        f"{len(waiting)} rebuilt indexes ({', '.join(waiting[:3])}...)"
    )
    while waiting and time.monotonic() - started < timeout:
        time.sleep(5)
        cr.execute(query, [BULK_TABLES])
        waiting = [name for (name,) in cr.fetchall()]
    out(f"  {'still not usable' if waiting else 'usable'} after {time.monotonic() - started:.0f} s")


# ---------------------------------------------------------------------------------------------- measuring
def engine_query_kind(text):
    """Names the engine's two big queries in the breakdown of where the SQL time goes."""
    if "so_rows AS (" in text:
        return "engine figures query"
    if "percentile_disc" in text:
        return "engine rankings query"
    return None


def reset_peak_rss():
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def partners_written(cr, since_xid):
    """res_partner rows whose current version was written by a transaction after `since_xid`."""
    cr.execute("SELECT count(*) FROM res_partner WHERE xmin::text::bigint > %s", [since_xid % 2**32])
    return cr.fetchone()[0]


def current_xid(cr):
    cr.execute("SELECT txid_current()")
    xid = cr.fetchone()[0]
    cr.commit()  # pylint: disable=invalid-commit
    return xid


def run_cron(env, batch_size):
    """The nightly run as ir.cron runs it: one batch per call, commit and invalidate between batches."""
    cr = env.cr
    engine = env["crm.lifecycle.engine"]
    batches = 0
    while True:
        remaining = engine._cron_recompute(batch_size=batch_size)
        cr.commit()  # pylint: disable=invalid-commit
        env.invalidate_all()
        batches += 1
        if not remaining:
            return batches


def start_run(env):
    env["ir.config_parameter"].sudo().set_param(CURSOR_PARAM, 0)
    env.cr.commit()  # pylint: disable=invalid-commit
    env.invalidate_all()


def floor_select(company, today, grace, stored_cost=False):
    """The per-partner figures of every commercial partner, in one statement (the floor).

    Written apart from the engine's query, from the definitions (crm_lifecycle/lib/ladder.py): a
    purchase is a confirmed order or an invoice without one, refunded when what was invoiced for it
    nets to zero or less after its credit notes; refunded purchases stay in the order counts and
    are counted apart, and count in neither the purchase days, the first and last order, the
    purchases kept in 12 months (by the purchase's own date) nor the contacts; overdue is what is
    open on the receivable lines of unpaid invoices due before `today` - `grace`; a referral counts
    once the referred partner has a purchase they kept. Documents dated after `today` are left out.

    By default from Odoo's own rows: a document's order through its lines
    (sale_order_line_invoice_rel -> sale line -> order; a credit note without order lines, the
    order of the invoice it reverses), the cost from the invoice lines and their sale lines (a
    credit note line priced below the invoiced price, a price reduction, gives no cost back). With
    `stored_cost`, from the cost, order and order origin crm_lifecycle stores on each posted move,
    as the engine reads them.
    """
    from odoo.tools import SQL

    from odoo.addons.crm_lifecycle.models.account_move import PRICE_REDUCTION_BELOW

    since = today - timedelta(days=365)
    if stored_cost:
        line_order, joins = SQL(), SQL()
        order_id, from_order = SQL("am.lifecycle_order_id"), SQL("am.lifecycle_from_order")
        cost_figures = SQL(
            """
    SELECT m.pid, sum(m.sign * m.lifecycle_cost) AS cost,
           sum(m.sign * m.lifecycle_cost) FILTER (WHERE m.invoice_date >= %(since)s) AS cost_12m
      FROM moves m GROUP BY m.pid""",
            since=since,
        )
    else:
        # a document's order through its lines' sale lines; a credit note without any, its invoice's
        line_order = SQL(
            """line_order AS (
    SELECT l.move_id, min(sol.order_id) AS order_id
      FROM account_move_line l
      JOIN sale_order_line_invoice_rel r ON r.invoice_line_id = l.id
      JOIN sale_order_line sol ON sol.id = r.order_line_id
     GROUP BY l.move_id
), """
        )
        joins = SQL(
            "LEFT JOIN line_order own ON own.move_id = am.id"
            " LEFT JOIN line_order rev ON rev.move_id = am.reversed_entry_id"
        )
        order_id, from_order = SQL("COALESCE(own.order_id, rev.order_id)"), SQL("own.order_id IS NOT NULL")
        cost_figures = SQL(
            """
    SELECT m.pid, sum(c.cost) AS cost, sum(c.cost) FILTER (WHERE m.invoice_date >= %(since)s) AS cost_12m
      FROM moves m
      JOIN account_move_line aml ON aml.move_id = m.id AND aml.display_type = 'product'
      JOIN product_product pp ON pp.id = aml.product_id
      LEFT JOIN (SELECT r.invoice_line_id, avg(sol.purchase_price) AS price, avg(sol.price_reduce_taxexcl) AS sold_at
                   FROM sale_order_line_invoice_rel r JOIN sale_order_line sol ON sol.id = r.order_line_id
                  GROUP BY r.invoice_line_id) lc ON lc.invoice_line_id = aml.id
      -- the unit price each product was invoiced at, on the invoices that credit notes reverse
      LEFT JOIN (SELECT l.move_id, l.product_id, avg(l.price_subtotal / l.quantity) AS price
                   FROM account_move_line l
                  WHERE l.display_type = 'product' AND l.quantity <> 0
                    AND l.move_id IN (SELECT reversed_entry_id FROM moves WHERE move_type = 'out_refund')
                  GROUP BY l.move_id, l.product_id) inv ON m.move_type = 'out_refund'
                    AND inv.move_id = m.reversed_entry_id AND inv.product_id = aml.product_id
     CROSS JOIN LATERAL (
        SELECT CASE WHEN m.move_type = 'out_refund' AND aml.quantity <> 0
                     AND aml.price_subtotal / aml.quantity < %(below)s * COALESCE(inv.price, lc.sold_at)
                    THEN 0
                    ELSE m.sign * aml.quantity * COALESCE(
                        lc.price * CASE WHEN aml.amount_currency <> 0 THEN abs(aml.balance / aml.amount_currency)
                                        ELSE 1 END,
                        (pp.standard_price ->> %(company_key)s)::numeric, 0)
               END AS cost) c
     GROUP BY m.pid""",
            since=since,
            company_key=str(company),
            below=PRICE_REDUCTION_BELOW,
        )
    return SQL(
        """
WITH %(line_order)smoves AS (
    SELECT am.id, am.commercial_partner_id AS pid, am.partner_id AS contact, am.move_type, am.invoice_date,
           am.amount_untaxed, am.amount_untaxed_signed, am.payment_state, am.reversed_entry_id, am.lifecycle_cost,
           %(order_id)s AS order_id, %(from_order)s AS from_order,
           CASE WHEN am.move_type = 'out_refund' THEN -1 ELSE 1 END AS sign
      FROM account_move am %(joins)s
     WHERE am.company_id = %(company)s AND am.state = 'posted' AND am.move_type IN ('out_invoice', 'out_refund')
       AND am.invoice_date <= %(today)s
), order_net AS (
    -- what each order was invoiced, less its credit notes
    SELECT order_id, sum(sign * amount_untaxed) AS net, bool_or(move_type = 'out_invoice') AS invoiced
      FROM moves WHERE order_id IS NOT NULL GROUP BY order_id
), credited AS (
    -- credit notes of invoices without an order, per invoice they reverse
    SELECT reversed_entry_id AS invoice_id, sum(amount_untaxed) AS amount
      FROM moves WHERE move_type = 'out_refund' AND order_id IS NULL AND reversed_entry_id IS NOT NULL
     GROUP BY reversed_entry_id
), purchases AS (
    SELECT rp.commercial_partner_id AS pid, so.partner_id AS contact, so.date_order::date AS day,
           COALESCE(n.invoiced AND n.net <= 0, false) AS refunded
      FROM sale_order so JOIN res_partner rp ON rp.id = so.partner_id
      LEFT JOIN order_net n ON n.order_id = so.id
     WHERE so.company_id = %(company)s AND so.state = 'sale' AND so.date_order::date <= %(today)s
    UNION ALL
    SELECT m.pid, m.contact, m.invoice_date, m.amount_untaxed - COALESCE(c.amount, 0) <= 0
      FROM moves m LEFT JOIN credited c ON c.invoice_id = m.id
     WHERE m.move_type = 'out_invoice' AND m.order_id IS NULL AND NOT COALESCE(m.from_order, false)
), purchase_figures AS (
    SELECT pid, count(*) AS order_count, count(*) FILTER (WHERE day >= %(since)s) AS order_count_12m,
           count(*) FILTER (WHERE refunded) AS refund_count,
           count(*) FILTER (WHERE day >= %(since)s AND NOT refunded) AS kept_12m,
           min(day) FILTER (WHERE NOT refunded) AS first_order, max(day) FILTER (WHERE NOT refunded) AS last_order,
           count(DISTINCT day) FILTER (WHERE NOT refunded) AS days,
           count(DISTINCT contact) FILTER (WHERE NOT refunded) AS contact_count
      FROM purchases GROUP BY pid
), move_figures AS (
    SELECT pid, sum(amount_untaxed_signed) AS revenue,
           sum(amount_untaxed_signed) FILTER (WHERE invoice_date >= %(since)s) AS revenue_12m
      FROM moves GROUP BY pid
), overdue_figures AS (
    SELECT m.pid, sum(l.amount_residual) AS overdue
      FROM moves m JOIN account_move_line l ON l.move_id = m.id AND l.display_type = 'payment_term'
     WHERE m.move_type = 'out_invoice' AND m.payment_state IN ('not_paid', 'partial')
       AND l.date_maturity < %(overdue_before)s AND l.amount_residual > 0
     GROUP BY m.pid
), cost_figures AS (%(cost_figures)s
), referral_figures AS (
    -- the referred partner's own figures, as computed here
    SELECT r.referred_by_id AS pid, count(*) AS referral_count,
           count(*) FILTER (WHERE rf.order_count > rf.refund_count) AS referral_customer_count
      FROM res_partner r LEFT JOIN purchase_figures rf ON rf.pid = r.id
     WHERE r.referred_by_id IS NOT NULL AND r.active AND r.id = r.commercial_partner_id
     GROUP BY r.referred_by_id
)
SELECT p.id AS pid,
       COALESCE(pf.order_count, 0) AS order_count, COALESCE(pf.order_count_12m, 0) AS order_count_12m,
       COALESCE(pf.refund_count, 0) AS refund_count, COALESCE(pf.kept_12m, 0) AS kept_12m,
       pf.first_order, pf.last_order,
       CASE WHEN pf.days >= 2 THEN (pf.last_order - pf.first_order)::numeric / (pf.days - 1) ELSE 0 END
           AS order_interval,
       COALESCE(pf.contact_count, 0) AS contact_count,
       round(COALESCE(mf.revenue, 0), 2) AS revenue, round(COALESCE(mf.revenue_12m, 0), 2) AS revenue_12m,
       round(COALESCE(mf.revenue, 0) - COALESCE(cf.cost, 0), 2) AS margin,
       round(COALESCE(mf.revenue_12m, 0) - COALESCE(cf.cost_12m, 0), 2) AS margin_12m,
       round(COALESCE(od.overdue, 0), 2) AS overdue_amount,
       COALESCE(rf.referral_count, 0) AS referral_count,
       COALESCE(rf.referral_customer_count, 0) AS referral_customer_count
  FROM res_partner p
  LEFT JOIN purchase_figures pf ON pf.pid = p.id
  LEFT JOIN move_figures mf ON mf.pid = p.id
  LEFT JOIN overdue_figures od ON od.pid = p.id
  LEFT JOIN cost_figures cf ON cf.pid = p.id
  LEFT JOIN referral_figures rf ON rf.pid = p.id
 WHERE p.active AND (p.is_company OR p.parent_id IS NULL)
        """,
        company=company,
        today=today,
        since=since,
        overdue_before=today - timedelta(days=grace),
        line_order=line_order,
        joins=joins,
        order_id=order_id,
        from_order=from_order,
        cost_figures=cost_figures,
    )


def floor_update(company, today, grace, stored_cost=False):
    from odoo.tools import SQL

    return SQL(
        "UPDATE res_partner AS p SET %s FROM (%s) AS f WHERE p.id = f.pid",
        SQL(", ").join(SQL("%s = f.%s", SQL.identifier(c), SQL.identifier(f)) for c, f in FLOOR_FIGURES.items()),
        floor_select(company, today, grace, stored_cost),
    )


def compare_with_floor(env, company, today, grace, stored_cost=False):
    """(partners compared, partners whose stored figures differ from the floor's, {figure: partners
    differing on it})."""
    from odoo.tools import SQL

    differs = {
        fig: SQL("abs(COALESCE(p.%s, 0) - f.%s) > %s", SQL.identifier(col), SQL.identifier(fig), FLOOR_TOLERANCE[fig])
        if fig in FLOOR_TOLERANCE
        else SQL("p.%s IS DISTINCT FROM f.%s", SQL.identifier(col), SQL.identifier(fig))
        for col, fig in FLOOR_FIGURES.items()
    }
    # not stored: the purchases kept in the last 12 months, which the rung's explanation states for
    # a customer with more than one purchase kept (lib/ladder.py, fact "orders_12m")
    differs["kept_12m (explanation)"] = SQL(
        "COALESCE((SELECT (e->1->>'count')::int FROM jsonb_array_elements(p.ladder_reason_data->'facts') e"
        " WHERE e->>0 = 'orders_12m'), -1)"
        " IS DISTINCT FROM CASE WHEN f.order_count - f.refund_count > 1 THEN f.kept_12m ELSE -1 END"
    )
    env.cr.execute(
        SQL(
            "SELECT count(*), count(*) FILTER (WHERE %s), %s FROM (%s) AS f JOIN res_partner p ON p.id = f.pid",
            SQL(" OR ").join(differs.values()),
            SQL(", ").join(SQL("count(*) FILTER (WHERE %s)", cond) for cond in differs.values()),
            floor_select(company, today, grace, stored_cost),
        )
    )
    compared, differing, *per_figure = env.cr.fetchone()
    return compared, differing, {fig: n for fig, n in zip(differs, per_figure, strict=True) if n}


def reset_partners(env, books, vacuum_conn):
    """Put the bench partners back in the state the install left them in, then VACUUM."""
    from odoo.tools import SQL

    cr = env.cr
    bench = SQL("BETWEEN %s AND %s", books["partner_base"] + 1, books["partner_last"])
    cr.execute(SQL("DELETE FROM crm_ladder_history WHERE partner_id %s", bench))
    cr.execute(SQL("DELETE FROM mail_message WHERE model = 'res.partner' AND res_id %s", bench))
    figures = SQL(", ").join(
        SQL("%s = NULL", SQL.identifier(col))
        for col in env["res.partner"]._fields
        if col.startswith("lifecycle_") and col not in ("lifecycle_targeted",) and env["res.partner"]._fields[col].store
    )
    cr.execute(
        SQL(
            "UPDATE res_partner SET ladder_stage = 'prospect', ladder_since = NULL, ladder_reason_data = NULL,"
            " value_tier = 'lead', relationship_type = NULL, %s WHERE id %s",
            figures,
            bench,
        )
    )
    cr.commit()  # pylint: disable=invalid-commit
    env.invalidate_all()
    with vacuum_conn.cursor() as vcr:
        vcr.execute("VACUUM ANALYZE res_partner, crm_ladder_history, mail_message")


def timed_full_run(env, batch_size, counter):
    start_run(env)
    with counter.counting():
        started = time.monotonic()
        batches = run_cron(env, batch_size)
        elapsed = time.monotonic() - started
    return elapsed, batches


def post_invoice(env, partner_id, product_id):
    from odoo import Command, fields

    move = (
        env["account.move"]
        .with_context(lifecycle_defer=True)
        .create(
            {
                "move_type": "out_invoice",
                "partner_id": partner_id,
                "invoice_date": fields.Date.context_today(env["res.partner"]),
                "invoice_line_ids": [Command.create({"product_id": product_id, "quantity": 1, "price_unit": 100.0})],
            }
        )
    )
    move.action_post()
    env.flush_all()
    return move


def prompt_update(env, partner_id, product_id, cold):
    """Queries of the lifecycle update alone after one new posted invoice."""
    partner = env["res.partner"].browse(partner_id)
    before = partner.lifecycle_order_count
    post_invoice(env, partner_id, product_id)
    if cold:
        env.invalidate_all()
    counter = QueryCounter(engine_query_kind)
    with counter.counting():
        started = time.monotonic()
        partner._lifecycle_recompute()
        elapsed = time.monotonic() - started
    env.cr.commit()  # pylint: disable=invalid-commit
    env.invalidate_all()
    after = env["res.partner"].browse(partner_id).lifecycle_order_count
    return counter.count, elapsed, after - before


def measure(args, partners, books):
    import odoo
    from odoo.modules.registry import Registry

    results = {"partners": partners}
    registry = Registry(BENCH_DB)
    vacuum_conn = connect(BENCH_DB, autocommit=True)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = books["company"]
        today = odoo.fields.Date.context_today(env["res.partner"])
        grace = env["res.company"].browse(company).lifecycle_overdue_grace_days
        n_commercial = env["res.partner"].search_count(["|", ("is_company", "=", True), ("parent_id", "=", False)])
        out(f"commercial partners recomputed by the nightly run: {fmt_int(n_commercial)}")

        # ---------------------------------------------------------------- the floors
        for key, stored, name, reads in FLOORS:
            counter = QueryCounter(engine_query_kind)
            started = time.monotonic()
            with counter.counting():
                cr.execute(floor_update(company, today, grace, stored))
            floor_rows = cr.rowcount
            cr.commit()  # pylint: disable=invalid-commit
            results[key] = time.monotonic() - started
            out(
                f"FLOOR {name}: {reads} (one UPDATE ... FROM (SELECT ... GROUP BY partner), "
                f"{len(FLOOR_FIGURES)} figures): "
                f"{results[key]:.1f} s, {counter.count} query, {fmt_int(floor_rows)} rows written"
            )
            reset_partners(env, books, vacuum_conn)

        # ---------------------------------------------------------------- full recompute
        counter = QueryCounter(engine_query_kind)
        rss_before, _hwm = rss()
        peak_ok = reset_peak_rss()
        since_xid = current_xid(cr)
        elapsed, batches = timed_full_run(env, args.batch_size, counter)
        rss_after, hwm = rss()
        written = partners_written(cr, since_xid)
        cr.commit()  # pylint: disable=invalid-commit
        cr.execute("SELECT count(*) FROM crm_ladder_history")
        history = cr.fetchone()[0]
        results.update(full=elapsed, full_queries=counter.count, full_rows=written)
        results["rss_growth"] = (hwm if peak_ok else rss_after) - rss_before
        for key, *_rest in FLOORS:
            results[f"ratio_{key}"] = elapsed / results[key]
        out(f"FULL RECOMPUTE (cron path, batch {args.batch_size}, {batches} batches): wall {elapsed:.1f} s")
        out(
            f"  queries: {fmt_int(counter.count)} ({counter.count / batches:.1f} per batch), "
            f"SQL time {counter.seconds:.1f} s, Python time {elapsed - counter.seconds:.1f} s"
        )
        out(f"  partners per second: {fmt_int(round(n_commercial / elapsed))}")
        out(f"  rows written: res_partner {fmt_int(written)}, crm_ladder_history {fmt_int(history)}")
        out(
            f"  process RSS: {mib(rss_before)} at the start, peak {mib(hwm) if peak_ok else 'n/a'}, "
            f"{mib(rss_after)} at the end (growth {mib(rss_after - rss_before)})"
        )
        out("  where the SQL time goes: " + "; ".join(f"{k} {n}x {s:.1f} s" for k, (n, s) in counter.top()))
        ratios = (f"{results[f'ratio_{key}']:.2f}x ({name})" for key, _stored, name, _reads in FLOORS)
        out("  engine / floor: " + ", ".join(ratios))

        # ---------------------------------------------------------------- nothing changed
        counter = QueryCounter(engine_query_kind)
        since_xid = current_xid(cr)
        elapsed, batches = timed_full_run(env, args.batch_size, counter)
        unchanged_rows = partners_written(cr, since_xid)
        cr.commit()  # pylint: disable=invalid-commit
        results.update(unchanged=elapsed, unchanged_rows=unchanged_rows)
        updates = sum(n for k, n in counter.rows_written.items() if k == "UPDATE res_partner")
        out(
            f"NOTHING CHANGED (same loop again): wall {elapsed:.1f} s, {fmt_int(counter.count)} queries, "
            f"res_partner rows written {fmt_int(unchanged_rows)} (UPDATE rowcount {fmt_int(updates)})"
        )

        # ---------------------------------------------------------------- the floors' SELECT vs the engine
        started = time.monotonic()
        cr.execute(floor_select(company, today, grace))
        cr.fetchall()
        select_alone = time.monotonic() - started
        out(f"FLOOR SELECT alone (from Odoo's rows): {select_alone:.1f} s")
        results["floor_mismatch"] = 0
        for _key, stored, name, _reads in FLOORS:
            compared, differing, per_figure = compare_with_floor(env, company, today, grace, stored)
            results["floor_mismatch"] += differing
            detail = ", ".join(f"{fig} {fmt_int(n)}" for fig, n in per_figure.items())
            out(
                f"  engine figures equal to the floor's {name} for {fmt_int(compared - differing)} of "
                f"{fmt_int(compared)} partners" + (f" (differing: {detail})" if detail else "")
            )
        cr.commit()  # pylint: disable=invalid-commit

        # ---------------------------------------------------------------- memory
        if args.tracemalloc:
            reset_partners(env, books, vacuum_conn)
            start_run(env)
            tracemalloc.start()
            started = time.monotonic()
            run_cron(env, args.batch_size)
            traced = time.monotonic() - started
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            out(f"MEMORY (second full recompute under tracemalloc, {traced:.1f} s): Python heap peak {mib(peak)}")

        # ---------------------------------------------------------------- Odoo's own total_invoiced
        if args.skip_odoo_total:
            out("ODOO'S OWN total_invoiced: skipped (--skip-odoo-total)")
        else:
            ids = env["res.partner"].search(["|", ("is_company", "=", True), ("parent_id", "=", False)]).ids
            env.invalidate_all()
            counter = QueryCounter(engine_query_kind)
            with counter.counting():
                started = time.monotonic()
                totals = env["res.partner"].browse(ids).mapped("total_invoiced")
                odoo_time = time.monotonic() - started
            env.invalidate_all()
            revenue = env["res.partner"].browse(ids).mapped("lifecycle_revenue")
            differ = sum(1 for a, b in zip(totals, revenue, strict=True) if abs(a - b) > 0.005)
            results["odoo"] = odoo_time
            out(
                f"ODOO'S OWN res.partner.total_invoiced for the same {fmt_int(len(ids))} partners: {odoo_time:.1f} s, "
                f"{fmt_int(counter.count)} queries; odoo / engine: {odoo_time / results['full']:.1f}x; "
                f"equal to the engine's revenue for {fmt_int(len(ids) - differ)}"
            )

        # ---------------------------------------------------------------- prompt update
        env.cr.execute(
            "SELECT pp.id FROM product_product pp JOIN product_template pt ON pt.id = pp.product_tmpl_id"
            " WHERE pt.sale_ok AND pt.list_price > 0 AND pt.type = 'service' ORDER BY pp.id LIMIT 1"
        )
        product_id = env.cr.fetchone()[0]
        results["prompt"] = {}
        for label, (partner_id, history_length) in (("longest", books["longest"]), ("single", books["single"])):
            for cold in (False, True):
                queries, elapsed, delta = prompt_update(env, partner_id, product_id, cold)
                results["prompt"][(label, cold)] = queries
                out(
                    f"PROMPT UPDATE, partner with {fmt_int(history_length)} order(s), one more invoice posted, "
                    f"{'cold cache' if cold else 'cache as the posting left it'}: {queries} queries, "
                    f"{elapsed * 1000:.0f} ms, order count +{delta}"
                )
    vacuum_conn.close()
    Registry.delete(BENCH_DB)
    odoo.sql_db.close_db(BENCH_DB)
    return results


# ---------------------------------------------------------------------------------------------- main
def summary(all_results):
    largest = all_results[-1]
    smallest = all_results[0]
    rows = []

    def add(target, value, ok):
        rows.append((target, value, "n/a" if ok is None else ("PASS" if ok else "FAIL")))

    size = fmt_int(largest["partners"])
    add(
        f"full recompute of {size} partners <= {TARGET_FULL_SECONDS:.0f} s",
        f"{largest['full']:.1f} s",
        largest["full"] <= TARGET_FULL_SECONDS if largest["partners"] >= 100_000 else None,
    )
    for key, _stored, name, _reads in FLOORS:
        ratio = largest[f"ratio_{key}"]
        add(
            f"full recompute within {TARGET_FLOOR_RATIO:.0f}x the floor {name} ({size} partners)",
            f"{ratio:.2f}x",
            ratio <= TARGET_FLOOR_RATIO,
        )
    if len(all_results) > 1:
        growth = largest["rss_growth"] / max(smallest["rss_growth"], 1)
        add(
            f"memory flat: RSS growth during the run at {size} <= {TARGET_MEMORY_GROWTH}x "
            f"at {fmt_int(smallest['partners'])}",
            f"{mib(smallest['rss_growth'])} -> {mib(largest['rss_growth'])} ({growth:.2f}x)",
            growth <= TARGET_MEMORY_GROWTH,
        )
    else:
        add("memory flat (needs two sizes)", mib(largest["rss_growth"]), None)
    unchanged = [r["unchanged_rows"] for r in all_results]
    add(
        "recompute with nothing changed writes nothing",
        " / ".join(fmt_int(n) for n in unchanged) + " rows",
        not any(unchanged),
    )
    worst = max(n for r in all_results for n in r["prompt"].values())
    add(
        f"prompt update after one invoice <= {TARGET_PROMPT_QUERIES} queries, any history length",
        f"max {worst} queries",
        worst <= TARGET_PROMPT_QUERIES,
    )
    add(
        "(no target) nothing-changed recompute, Odoo's own total_invoiced / full recompute",
        f"{largest['unchanged']:.1f} s, "
        + (f"{largest['odoo'] / largest['full']:.2f}x" if "odoo" in largest else "skipped"),
        None,
    )
    mismatch = sum(r["floor_mismatch"] for r in all_results)
    add("engine figures equal the floor's (check of the bench)", f"{mismatch} partners differ", not mismatch)
    width = max(len(r[0]) for r in rows)
    out()
    out("SUMMARY")
    for target, value, verdict in rows:
        out(f"  {verdict:<4}  {target:<{width}}  {value}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--partners", type=int, action="append", help="book size (repeatable; default 10000 100000)")
    parser.add_argument("--orders-per-partner", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=2000, help="as the nightly cron (default 2000)")
    parser.add_argument("--skip-odoo-total", action="store_true", help="skip Odoo's own total_invoiced (slow)")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure the Python heap (slow)")
    parser.add_argument("--keep", action="store_true", help=f"keep {BENCH_DB} (last size) and {INSTALLED_DB}")
    parser.add_argument("--generate-only", action="store_true", help=f"only build {BENCH_DB} (implies --keep)")
    args = parser.parse_args()
    args.keep = args.keep or args.generate_only
    sizes = sorted(args.partners or [10_000, 100_000])

    import odoo

    odoo.tools.config.parse_config(["-c", CONF, "-d", BENCH_DB, "--log-level=warn"])
    template = base_db()
    out(f"addon benchmarked: {addon_revision()}; PostgreSQL {server_settings()}")
    out(f"template {template}: copying to {INSTALLED_DB} and installing {ADDON} (once for all sizes)")
    started = time.monotonic()
    copy_db(template, INSTALLED_DB)
    install_addon(INSTALLED_DB)
    out(f"installed in {time.monotonic() - started:.0f} s")
    all_results = []
    try:
        for partners in sizes:
            out()
            out(f"===== {fmt_int(partners)} partners, {fmt_int(partners * args.orders_per_partner)} orders =====")
            copy_db(INSTALLED_DB, BENCH_DB)
            now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            today = odoo.fields.Date.today()
            books = generate_books(BENCH_DB, partners, args.orders_per_partner, today, now)
            if args.generate_only:
                continue
            all_results.append(measure(args, partners, books))
            if not args.keep or partners != sizes[-1]:
                drop_db(BENCH_DB)
    finally:
        if not args.keep:
            drop_db(BENCH_DB)
            drop_db(INSTALLED_DB)
    if all_results:
        summary(all_results)


if __name__ == "__main__":
    main()
