"""Benchmark of the retention figures (churn risk, RFM, BG/NBD) and reports, and a backtest of the
models: `bash tools/bench.sh bench/retention.py`.

The targets of issue 12: "On the ladder bench's 100,000 partners and 1,000,000 orders: risk, RFM
and BG/NBD recompute (time, queries, memory; target at most 60 s together); each report's query
time (target at most 2 s); and a backtest printed as figures: fit on the books up to 12 months
before the end, then compare predicted and actual orders in the last 12 months (mean absolute
error per customer, total predicted vs actual) and how well `churn_risk` 12 months before the end
ranks the customers who did not order since (AUC)."

The template (Odoo's crm, sale and account with their demo data) is copied to `<db>_installed`
and the addon installed there once; each part starts from a copy of it named `<db>` (`--db`,
default `crm_lifecycle_bench_retention`).

PART 1, the ladder bench's books (bench/ladder.py's generator, imported: `--partners` companies,
10 orders each), with 20,000 complaints received over the 3 years (bench/complaints.py's
generator; 90% of those older than 10 days closed, half of those rated 1-5):
- FIRST PLACEMENT: the nightly cron path (`_cron_recompute(batch_size=2000)` until it returns 0,
  commit and a fresh cache after each batch), as bench/ladder.py measures it; the models are then
  those fitted on the demo's customers at install;
- THE NEXT NIGHTLY RUN (on the same day, the clock not frozen: only the timing is wanted here):
  the run fits every company's RFM thresholds and BG/NBD and Gamma-Gamma models on
  the 100,000 stored figures first, then every batch gives each customer a new churn risk, RFM
  scores, P(alive), expected orders, lifetime value (the models changed: every customer is
  written). This is the recompute figure: wall time, queries, RSS; and where the retention's
  part of it goes,
  measured by timing the methods of the engine's batches in place (a wrapper around each:
  crm.lifecycle.retention `_fit` with its SQL read and its two numpy fits, `_values` with
  `_churn_values` and `_model_values`, `_after_write`; the engine's `_read_figures`, whose one
  query also computes the retention's figures, and `_write_partners`), plus EXPLAIN ANALYZE of
  one batch's figures query for the retention's share inside it (the gaps between purchases,
  the last contact);
- `_fit` alone, three times (the pass-1 statistics of one company);
- THE REFRESH of the stored reports (retention and cohorts are materialized views, refreshed at
  the end of the nightly run): each view's, then both as the run's end does (the nightly cost added;
  also timed inside the run above);
- THE REPORTS, each read the way the web client reads it, as the administrator (record rules
  applied): a pivot sends one read_group (lazy=False) per pair of its row and column groupby
  prefixes (4 for a row and a column), a graph one. Timed three times each (the first, then
  the best of the three), the target on the pivot's read_groups added up.

PART 2, the backtest, on books whose purchases follow the BG/NBD story (`--backtest-customers`,
default 100,000): each customer's first purchase is uniform over 3 years; after it, purchases
come as a Poisson process of the customer's own rate, lambda ~ Gamma(r, alpha), and after each
repeat purchase the customer drops out for good with their own probability p ~ Beta(a, b)
(TRUE_MODEL below). The days are written with bench/ladder.py's generator (its `purchases`
option), as confirmed orders with their invoices; none invoiced without an order nor credited,
so that the engine's purchase days are the simulated ones. Then:
- the engine's own path, as of 12 months before the end (CUTOFF): the nightly run twice with the
  clock frozen at CUTOFF (the first places everyone on the books up to that day, the second fits
  the models on those figures and computes the values, as every night does), so that churn
  risk, P(alive) and expected orders in 12 months are what the engine would have stored then.
  (The `as_of` replay of `_recompute` computes the churn as of a day but not the models; it is
  run on a sample to check its churn risk equals the frozen run's.)
- compared with what happened in the last 12 months (the purchase days of each customer after
  CUTOFF, read from the books and checked against the simulation): mean absolute error per
  customer, total predicted vs actual, by frequency; the same with the true parameters and with
  "as many as in the 12 months before" for scale; and the AUC of churn_risk at CUTOFF for the
  customers who did not order since (lib/scoring.py `roc_auc`), next to those of 1 - P(alive)
  and of -expected orders.

Options: `--partners N` (100000), `--orders-per-partner` (10), `--backtest-customers N` (100000),
`--seed`, `--skip-backtest`, `--backtest-only`, `--db`, `--keep` (keep the databases),
`--profile` (cProfile of the next night's run), `--report-repeat` (3), `--report-timeout` (seconds per
query, 120: a report's query still running then is cancelled and counted as that long),
`--reports-on DB` (only the refresh and the reports, on a database of part 1 kept with `--keep`).
Environment: CRM_LIFECYCLE_CONF, CRM_LIFECYCLE_BASE_DB, ODOO_PATH (see benchlib.py).
"""

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from collections import defaultdict
from contextlib import closing
from datetime import date, datetime, timedelta

import complaints as complaints_bench
import ladder
import numpy as np
from benchlib import (
    BENCH_PREFIX,
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
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

TARGET_RECOMPUTE_SECONDS = 60.0
TARGET_REPORT_SECONDS = 2.0
REPORT_TIMEOUT_SECONDS = 120.0  # a report's query cancelled after this (the target is 2 s)
BATCH_SIZE = 2000  # the nightly cron's
COMPLAINTS, CLOSED_SHARE, RATED_SHARE = 20_000, 0.90, 0.50
YEARS_DAYS = 3 * 365
HORIZON_DAYS = 365
# the purchase process of the backtest books, in days: a mean rate r / alpha of one purchase every
# 37.5 days, a mean drop-out probability a / (a + b) of 0.14 after each repeat purchase
TRUE_MODEL = {"r": 0.8, "alpha": 30.0, "a": 0.8, "b": 5.0}
REAL_CLOCK = (time.perf_counter,)  # out of freezegun's reach


def clock():
    return REAL_CLOCK[0]()


# ---------------------------------------------------------------------------------------------- timing the engine
class MethodTimer:
    """Times methods of Odoo model classes (and module functions) in place: seconds, calls and the
    queries of `counter` made inside each; inclusive (a method called inside another counts in both)."""

    def __init__(self, counter):
        self.counter = counter
        self.stats = defaultdict(lambda: [0, 0.0, 0])
        self.patched = []

    def wrap(self, owner, name, label):
        original = getattr(owner, name)
        stats, counter = self.stats[label], self.counter

        def timed(*args, **kwargs):
            started, queries = clock(), counter.count
            try:
                return original(*args, **kwargs)
            finally:
                stats[0] += 1
                stats[1] += clock() - started
                stats[2] += counter.count - queries

        for attribute in ("_api",):  # keep Odoo's decorator marks
            if hasattr(original, attribute):
                setattr(timed, attribute, getattr(original, attribute))
        setattr(owner, name, timed)
        self.patched.append((owner, name, original))

    def restore(self):
        for owner, name, original in reversed(self.patched):
            setattr(owner, name, original)
        self.patched = []

    def reset(self):
        for values in self.stats.values():
            values[:] = [0, 0.0, 0]


def instrument(env, counter):
    from odoo.addons.crm_lifecycle.lib import bgnbd

    timer = MethodTimer(counter)
    engine, retention = type(env["crm.lifecycle.engine"]), type(env["crm.lifecycle.retention"])
    reports = type(env["crm.lifecycle.retention.report"])
    for owner, name, label in (
        (engine, "_read_current", "engine: read the stored values"),
        (engine, "_read_figures", "engine: figures query (with the retention's figures)"),
        (engine, "_read_extra_figures", "  of which complaints and lost reasons (retention)"),
        (engine, "_write_partners", "engine: write the changed partners"),
        (retention, "_fit", "retention: _fit (pass 1)"),
        (bgnbd, "fit_bgnbd", "  of which BG/NBD fit (numpy)"),
        (bgnbd, "fit_gamma_gamma", "  of which Gamma-Gamma fit (numpy)"),
        (retention, "_values", "retention: _values (per batch)"),
        (retention, "_churn_values", "  of which _churn_values (risk, churn, reason)"),
        (retention, "_model_values", "  of which _model_values (RFM, P(alive), LTV)"),
        (retention, "_after_write", "retention: _after_write (warnings, won back)"),
        (reports, "_refresh_reports", "reports: refresh, at the run's end (retention, cohorts)"),
    ):
        timer.wrap(owner, name, label)
    return timer


def run_nightly(env, counter, at=None, profile=False):
    """The nightly run as ir.cron runs it (bench/ladder.py's loop), the clock at `at` if given."""
    ladder_run = env["crm.lifecycle.run"]._for_job("ladder")
    ladder_run._restart()
    env.cr.commit()  # pylint: disable=invalid-commit
    env.invalidate_all()
    profiler = cProfile.Profile() if profile else None
    rss_before = rss()[0]
    peak_ok = ladder.reset_peak_rss()
    since_xid = ladder.current_xid(env.cr)
    with freeze_time(at) if at else _nothing(), counter.counting():
        started = clock()
        if profiler:
            profiler.enable()
        batches = ladder.run_cron(env, BATCH_SIZE)
        if profiler:
            profiler.disable()
        seconds = clock() - started
    rss_after, hwm = rss()
    written = ladder.partners_written(env.cr, since_xid)
    env.cr.commit()  # pylint: disable=invalid-commit
    if profiler:
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(25)
        out(stream.getvalue())
    return {
        "seconds": seconds,
        "batches": batches,
        "queries": counter.count,
        "sql": counter.seconds,
        "written": written,
        "rss_before": rss_before,
        "rss_growth": (hwm if peak_ok else rss_after) - rss_before,
        "rss_after": rss_after,
    }


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def print_run(title, run, counter, timer=None):
    out(f"{title}: wall {run['seconds']:.1f} s, {run['batches']} batches")
    out(
        f"  queries {fmt_int(run['queries'])} ({run['queries'] / run['batches']:.1f} per batch), SQL time "
        f"{run['sql']:.1f} s, Python time {run['seconds'] - run['sql']:.1f} s; res_partner rows written "
        f"{fmt_int(run['written'])}"
    )
    out(
        f"  RSS {mib(run['rss_before'])} at the start, growth {mib(run['rss_growth'])} at the peak, "
        f"{mib(run['rss_after'])} at the end"
    )
    out("  where the SQL time goes: " + "; ".join(f"{k} {n}x {s:.1f} s" for k, (n, s) in counter.top(5)))
    if timer:
        out("  in the engine's batches (inclusive; calls, seconds, queries):")
        for label, (calls, seconds, queries) in timer.stats.items():
            if calls:
                out(f"    {label:<58} {calls:>4}x {seconds:7.2f} s {fmt_int(queries):>6} queries")


def retention_part(timer):
    """Seconds of the retention's own work in a run: the fit, the values, the after-write and the
    complaints query (the retention CTEs inside the figures query are shown by explain_batch)."""
    stats = timer.stats
    return sum(
        stats[label][1]
        for label in (
            "retention: _fit (pass 1)",
            "retention: _values (per batch)",
            "retention: _after_write (warnings, won back)",
            "  of which complaints and lost reasons (retention)",
        )
    )


def explain_batch(env, ids, today):
    """EXPLAIN ANALYZE of the engine's figures query for one batch: its time and the nodes that take
    most of it (self time), with those of the retention's figures marked."""
    from odoo.tools import SQL

    company = env["crm.lifecycle.engine"]._main_company()
    thresholds = company._lifecycle_thresholds()
    query = env["crm.lifecycle.engine"]._figures_query(
        company.id,
        ids,
        today,
        today - timedelta(days=365),
        today - timedelta(days=thresholds.overdue_grace_days),
        company.lifecycle_churn_period_days,
    )
    env.cr.execute("SET LOCAL jit = off")  # as the engine runs it (_execute_without_jit)
    env.cr.execute(SQL("EXPLAIN (ANALYZE, FORMAT JSON) %s", query))
    plan = env.cr.fetchone()[0][0]
    env.cr.rollback()
    nodes = []

    def walk(node, path):
        children = node.get("Plans", [])
        total = node["Actual Total Time"] * node.get("Actual Loops", 1)
        own = total - sum(c["Actual Total Time"] * c.get("Actual Loops", 1) for c in children)
        label = node["Node Type"] + (f" on {node['Relation Name']}" if "Relation Name" in node else "")
        if node.get("Subplan Name"):
            label += f" ({node['Subplan Name']})"
        here = [*path, label]
        nodes.append((own, label, " > ".join(here[-3:])))
        for child in children:
            walk(child, here)

    walk(plan["Plan"], [])
    nodes.sort(reverse=True)
    return plan["Execution Time"], nodes


def open_registry(dbname):
    """Odoo's registry of `dbname` in this process (configured once in main) and an env maker."""
    import odoo
    from odoo.modules.registry import Registry

    return Registry(dbname), lambda cr: odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


# ---------------------------------------------------------------------------------------------- part 1
CLOSE_COMPLAINTS = """
UPDATE crm_complaint c
   SET stage_id = %(stage)s, is_closed = true,
       resolved_date = c.request_date + make_interval(secs => (1 + random() * 9) * 86400),
       first_response_date = COALESCE(c.first_response_date, c.request_date + interval '1 hour'),
       sla_status = CASE WHEN random() < 0.8 THEN 'met' ELSE 'breached' END, sla_next_check = NULL,
       response_hours = 1 + random() * 12, resolution_hours = 8 + random() * 60,
       rating_last_value = CASE WHEN random() < %(rated)s THEN 1 + floor(random() * 5) ELSE 0 END
 WHERE c.name LIKE 'CMP/BENCH/%%' AND c.request_date < %(before)s AND random() < %(share)s
"""


def add_complaints(dbname, now):
    """20,000 complaints over the 3 years (bench/complaints.py's generator), most closed and rated."""
    statuses = complaints_bench.generate(dbname, COMPLAINTS, YEARS_DAYS * 24.0, now)
    with closing(connect(dbname)) as conn, conn.cursor() as cr:
        cr.execute("SELECT id FROM crm_complaint_stage WHERE is_closed ORDER BY sequence, id LIMIT 1")
        stage = cr.fetchone()[0]
        cr.execute("SELECT setseed(0.12)")
        cr.execute(
            CLOSE_COMPLAINTS,
            {"stage": stage, "rated": RATED_SHARE, "before": now - timedelta(days=10), "share": CLOSED_SHARE},
        )
        closed = cr.rowcount
        conn.commit()
    out(f"complaints: {fmt_int(sum(statuses.values()))} over {YEARS_DAYS // 365} years, {fmt_int(closed)} closed")


def report_requests(env):
    """(report, view, model, domain, row groupby, column groupby, measures) as the actions and views
    of crm_lifecycle ask for them."""
    today = date.today()
    last_year = (today - relativedelta(months=12)).replace(day=1)  # the action's default filter
    customers = [("lifecycle_purchase_days", ">", 0), "|", ("is_company", "=", True), ("parent_id", "=", False)]
    retention_measures = [
        "active_start",
        "new_count",
        "won_back_count",
        "churned_count",
        "churn_rate",
        "retention_rate",
        "revenue_kept",
        "revenue_lost",
    ]
    complaint_measures = ["complaint_count", "sla_success", "response_hours", "resolution_hours", "rating"]
    month = [("month", ">=", last_year)]
    return [
        (
            "Retention and churn",
            "pivot",
            "crm.lifecycle.retention.report",
            month,
            ["month:month"],
            [],
            retention_measures,
        ),
        ("Retention and churn", "graph", "crm.lifecycle.retention.report", month, ["month:month"], [], ["churn_rate"]),
        (
            "Cohorts",
            "pivot",
            "crm.lifecycle.cohort.report",
            [("months_after", "<=", 12)],
            ["cohort:month"],
            ["months_after"],
            ["retention"],
        ),
        (
            "Cohorts",
            "graph",
            "crm.lifecycle.cohort.report",
            [("months_after", "<=", 12)],
            ["months_after"],
            [],
            ["retention"],
        ),
        ("Churn risk and RFM segments", "graph", "res.partner", customers, ["churn_risk_level", "rfm_segment"], [], []),
        (
            "Churn risk and RFM segments",
            "pivot",
            "res.partner",
            customers,
            ["rfm_segment"],
            ["churn_risk_level"],
            ["lifecycle_revenue_12m"],
        ),
        ("Churn by reason", "graph", "res.partner", [("churn_date", "!=", False)], ["churn_reason"], [], []),
        (
            "Churn by reason",
            "pivot",
            "res.partner",
            [("churn_date", "!=", False)],
            ["churn_reason"],
            ["churn_date:year"],
            [],
        ),
        ("Complaints analysis", "pivot", "crm.complaint.report", [], ["category"], ["severity"], complaint_measures),
        (
            "Complaints analysis",
            "graph",
            "crm.complaint.report",
            [],
            ["request_date:month", "category"],
            [],
            ["complaint_count"],
        ),
    ]


def read_groups(model, view, rows, cols, measures):
    """The read_group calls of a view: a graph one on its groupbys, a pivot one per pair of prefixes of
    its row and column groupbys (web/static/src/views/pivot/pivot_model.js, `sections` x `sections`)."""
    fields = [f"{m}:{model._fields[m].aggregator}" for m in measures] + ["__count"]
    if view == "graph":
        return [(rows, fields)]
    return [
        (r + c, fields)
        for r in (rows[:i] for i in range(len(rows) + 1))
        for c in (cols[:j] for j in range(len(cols) + 1))
    ]


def time_reports(env, repeat=3, timeout=REPORT_TIMEOUT_SECONDS):
    """{(report, view): (first seconds, best seconds, groups, [(groupby, best seconds)], model, timed out)}.

    Each read_group runs with a statement timeout of `timeout` seconds: one that runs out is counted
    as `timeout` seconds, not repeated, and the report as timed out (its time is then at least that)."""
    from psycopg2.errors import QueryCanceled

    admin = env.ref("base.user_admin")
    user_env = env(user=admin.id, su=False, context={"lang": "en_US", "tz": admin.tz or "UTC"})
    results = {}
    for report, view, model_name, domain, rows, cols, measures in report_requests(env):
        model = user_env[model_name]
        first = best = 0.0
        per_call = []
        groups = 0
        timed_out = False
        for groupby, fields in read_groups(model, view, rows, cols, measures):
            times = []
            for _attempt in range(repeat):
                env.invalidate_all()
                env.cr.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
                started = clock()
                try:
                    result = model.read_group(domain, fields, groupby, lazy=False)
                except QueryCanceled:
                    env.cr.rollback()
                    times.append(timeout)
                    timed_out = True
                    break
                times.append(clock() - started)
                groups = max(groups, len(result))
            first += times[0]
            best += min(times)
            per_call.append((groupby, min(times)))
            if timed_out:
                break  # the other read_groups of the view read the same view: at least as long
        results[report, view] = (first, best, groups, per_call, model_name, timed_out)
        env.cr.rollback()
    return results


def explain_report(env, model_name, timeout=None):
    """EXPLAIN ANALYZE of the SQL view behind a report: its time and its slowest nodes (self time); None
    when it runs longer than `timeout` seconds."""
    from psycopg2.errors import QueryCanceled

    from odoo.tools import SQL

    if timeout:
        env.cr.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
    try:
        env.cr.execute(SQL("EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM %s", SQL.identifier(env[model_name]._table)))
    except QueryCanceled:
        env.cr.rollback()
        return None
    plan = env.cr.fetchone()[0][0]
    env.cr.rollback()
    nodes = []

    def walk(node):
        children = node.get("Plans", [])
        total = node["Actual Total Time"] * node.get("Actual Loops", 1)
        own = total - sum(c["Actual Total Time"] * c.get("Actual Loops", 1) for c in children)
        label = node["Node Type"] + (f" on {node['Relation Name']}" if "Relation Name" in node else "")
        label += f" (CTE {node['CTE Name']})" if "CTE Name" in node else ""
        label += f" (rows {node['Actual Rows'] * node.get('Actual Loops', 1):,}"
        label += f", sort on disk {node['Sort Space Used']} kB" if node.get("Sort Space Type") == "Disk" else ""
        label += ")"
        nodes.append((own, label))
        for child in children:
            walk(child)

    walk(plan["Plan"])
    nodes.sort(reverse=True)
    return plan["Execution Time"], nodes


def part1(args, results):
    out()
    out(f"===== PART 1: the ladder bench's books, {fmt_int(args.partners)} partners =====")
    copy_db(f"{args.db}_installed", args.db)
    today = date.today()
    now = datetime.now().replace(microsecond=0)
    books = ladder.generate_books(args.db, args.partners, args.orders_per_partner, today, now.isoformat(" "))
    add_complaints(args.db, now)
    with closing(connect(args.db, autocommit=True)) as conn, conn.cursor() as cr:
        cr.execute("VACUUM ANALYZE crm_complaint")
    registry, make_env = open_registry(args.db)
    with registry.cursor() as cr:
        env = make_env(cr)
        counter = QueryCounter(ladder.engine_query_kind)
        run = run_nightly(env, counter)
        print_run("FIRST PLACEMENT (nightly cron path, models of the demo's customers)", run, counter)
        results["first"] = run

        counter = QueryCounter(ladder.engine_query_kind)
        timer = instrument(env, counter)
        try:
            run = run_nightly(env, counter, profile=args.profile)
        finally:
            timer.restore()
        models = env.ref("base.main_company").sudo().lifecycle_models or {}
        print_run(
            f"THE NEXT NIGHTLY RUN (models fitted on {fmt_int(models.get('customers', 0))} customers first)",
            run,
            counter,
            timer,
        )
        part = retention_part(timer)
        run["retention"] = part
        run["timer"] = {label: list(values) for label, values in timer.stats.items()}
        results["night"] = run
        out(
            f"  the retention's part (fit + values + after-write + complaints query): {part:.1f} s of "
            f"{run['seconds']:.1f} s; the rest is the ladder's (README: 26.9 s for the first placement "
            "without complaints)"
        )
        env.cr.execute(
            "SELECT churn_risk_level, count(*) FROM res_partner WHERE lifecycle_purchase_days > 0"
            " AND id BETWEEN %s AND %s GROUP BY 1 ORDER BY 1",
            [books["partner_base"] + 1, books["partner_last"]],
        )
        out("  churn risk levels of the customers: " + ", ".join(f"{k} {fmt_int(n)}" for k, n in env.cr.fetchall()))
        out(f"  models: BG/NBD {models.get('bgnbd')}, Gamma-Gamma {models.get('gamma')}")

        # the figures query of one batch, explained
        ids = env["res.partner"].search([("id", ">", books["partner_base"])], order="id", limit=BATCH_SIZE).ids
        execution, nodes = explain_batch(env, ids, today)
        out(
            f"  EXPLAIN ANALYZE of one batch's figures query ({len(ids)} partners): {execution:.0f} ms; "
            "slowest nodes (self time):"
        )
        for own, _label, where in nodes[:8]:
            out(f"    {own:8.1f} ms  {where}")

        # pass 1 alone
        company = env.ref("base.main_company")
        times = []
        counter = QueryCounter()
        for _attempt in range(3):
            with counter.counting():
                started = clock()
                env["crm.lifecycle.retention"]._fit(company)
                times.append(clock() - started)
            env.cr.rollback()
        results["fit"] = min(times)
        out(
            f"_fit ALONE (one company, {fmt_int(models.get('customers', 0))} customers): "
            f"{', '.join(f'{t:.2f}' for t in times)} s, {counter.count // 3} queries each"
        )

        measure_reports(env, args, results)
    registry.delete(args.db)
    if not args.keep:
        drop_db(args.db)


def time_refresh(env):
    """Seconds of refreshing each stored report (a materialized view, retention.report
    `_refresh_reports`: the cost the nightly run's end adds), each committed, then of both as the
    run's end refreshes them."""
    from odoo.addons.crm_lifecycle.report import materialized

    seconds = {}
    for name in materialized.REPORT_MODELS:
        started = clock()
        materialized.refresh(env.cr, [env[name]._table])
        env.cr.commit()  # pylint: disable=invalid-commit
        seconds[name] = clock() - started
    started = clock()
    refreshed = env["crm.lifecycle.retention.report"]._refresh_reports()
    env.cr.commit()  # pylint: disable=invalid-commit
    seconds["both"] = clock() - started
    assert refreshed, "another transaction was refreshing the reports"
    return seconds


def measure_reports(env, args, results):
    from odoo.addons.crm_lifecycle.report import materialized

    refresh = results["refresh"] = time_refresh(env)
    out(
        f"REFRESH of the stored reports (materialized views, work_mem {materialized.REFRESH_WORK_MEM} for it): "
        f"retention {refresh['crm.lifecycle.retention.report']:.2f} s, cohorts "
        f"{refresh['crm.lifecycle.cohort.report']:.2f} s; both, as the nightly run's end does: "
        f"{refresh['both']:.2f} s (the cost added to the nightly run)"
    )
    reports = time_reports(env, args.report_repeat, args.report_timeout)
    results["reports"] = reports
    out(
        f"REPORTS (as the administrator, as the web client asks; first run, best of {args.report_repeat}; "
        f"a query longer than {args.report_timeout:g} s is cancelled):"
    )
    for (report, view), (first, best, groups, per_call, _model, timed_out) in reports.items():
        out(
            f"  {report} ({view}, {len(per_call)} read_group): first {'> ' if timed_out else ''}{first:.2f} s, "
            f"best {best:.2f} s, {groups} groups at most"
            + (f" (cancelled after {args.report_timeout:g} s, the other read_groups not run)" if timed_out else "")
        )
        if len(per_call) > 1:
            out("      " + "; ".join(f"{gb or '[]'} {s:.2f} s" for gb, s in per_call))
    slow = {r[4] for r in reports.values() if r[0] > TARGET_REPORT_SECONDS}
    for model_name in sorted(slow):
        if env[model_name]._auto:
            continue
        explained = explain_report(env, model_name, args.report_timeout)
        if explained is None:
            out(f"  EXPLAIN ANALYZE of the view {env[model_name]._table}: longer than {args.report_timeout:g} s")
            continue
        execution, nodes = explained
        out(f"  EXPLAIN ANALYZE of the view {env[model_name]._table}: {execution:.0f} ms; slowest nodes:")
        for own, label in nodes[:8]:
            out(f"    {own:8.1f} ms  {label}")


def reports_on(args, results):
    """The reports alone, on a database a run kept (--keep): its books, placed."""
    out()
    out(f"===== THE REPORTS on {args.reports_on} =====")
    registry, make_env = open_registry(args.reports_on)
    with registry.cursor() as cr:
        env = make_env(cr)
        cr.execute("SELECT count(*) FROM res_partner WHERE lifecycle_purchase_days > 0")
        out(f"customers with purchases: {fmt_int(cr.fetchone()[0])}")
        measure_reports(env, args, results)
    registry.delete(args.reports_on)


# ---------------------------------------------------------------------------------------------- part 2
def simulate(customers, seed, span=YEARS_DAYS):
    """The purchase days of each customer (days since the start of the books) under TRUE_MODEL."""
    rng = np.random.default_rng(seed)
    m = TRUE_MODEL
    first = rng.integers(0, span, customers)
    rate = rng.gamma(m["r"], 1.0 / m["alpha"], customers)
    dropout = rng.beta(m["a"], m["b"], customers)
    days = []
    for start, lam, p in zip(first.tolist(), rate.tolist(), dropout.tolist(), strict=True):
        t, mine = float(start), [int(start)]
        while True:
            t += rng.exponential(1.0 / lam)
            if t >= span:
                break
            mine.append(int(t))
            if rng.random() < p:  # drops out just after this repeat purchase
                break
        days.append(mine)
    return days


def part2(args, results):
    from odoo.addons.crm_lifecycle.lib import bgnbd
    from odoo.addons.crm_lifecycle.lib.scoring import roc_auc
    from odoo.addons.crm_lifecycle.models.lifecycle_retention import _bgnbd_inputs

    out()
    out(f"===== PART 2: the backtest, {fmt_int(args.backtest_customers)} customers buying as BG/NBD tells =====")
    end = date.today()
    cutoff = end - timedelta(days=HORIZON_DAYS)
    start_day = end - timedelta(days=YEARS_DAYS - 1)
    started = clock()
    simulated = simulate(args.backtest_customers, args.seed)
    backs = [[YEARS_DAYS - 1 - d for d in days] for days in simulated]
    total = sum(len(d) for d in simulated)
    out(
        f"simulated in {clock() - started:.1f} s (r {TRUE_MODEL['r']}, alpha {TRUE_MODEL['alpha']}, a "
        f"{TRUE_MODEL['a']}, b {TRUE_MODEL['b']}, seed {args.seed}): {fmt_int(total)} purchases from {start_day} "
        f"to {end}, at most {max(len(d) for d in simulated)} for one customer"
    )
    copy_db(f"{args.db}_installed", args.db)
    now = datetime.now().replace(microsecond=0)
    shares = {"direct_share": 0.0, "refund_share": 0.0, "partial_share": 0.0}
    books = ladder.generate_books(args.db, 0, 0, end, now.isoformat(" "), purchases=backs, shares=shares)
    first_pid = books["partner_base"] + 1
    registry, make_env = open_registry(args.db)
    with registry.cursor() as cr:
        env = make_env(cr)
        at = datetime.combine(cutoff, datetime.min.time()) + timedelta(hours=2)
        for label in ("placement on the books up to then", "the night after: models fitted, values computed"):
            counter = QueryCounter(ladder.engine_query_kind)
            run = run_nightly(env, counter, at=at)
            out(
                f"NIGHTLY RUN AT CUTOFF {cutoff} (frozen clock), {label}: {run['seconds']:.1f} s, "
                f"{fmt_int(run['queries'])} queries, {fmt_int(run['written'])} partners written"
            )
        models = env.ref("base.main_company").sudo().lifecycle_models or {}
        fitted = dict(zip(("r", "alpha", "a", "b"), models.get("bgnbd") or (), strict=False))
        out(
            f"  BG/NBD fitted on {fmt_int(models.get('customers', 0))} customers as of {cutoff}: "
            + ", ".join(f"{k} {fitted.get(k, float('nan')):.4g} (true {v:g})" for k, v in TRUE_MODEL.items())
        )

        cr.execute(
            "SELECT id, churn_risk, probability_alive, expected_orders_12m, lifecycle_purchase_days,"
            " lifecycle_first_order_date, lifecycle_last_order_date FROM res_partner"
            " WHERE id BETWEEN %s AND %s AND lifecycle_purchase_days > 0 ORDER BY id",
            [first_pid, books["partner_last"]],
        )
        rows = cr.fetchall()
        pid, risk, alive, expected, days, first, last = (np.array(c, dtype=object) for c in zip(*rows, strict=True))
        risk, alive, expected = risk.astype(float), alive.astype(float), expected.astype(float)
        days = days.astype(int)
        # what happened after the cutoff, from the books: purchase days of each customer
        cr.execute(
            "SELECT partner_id, count(DISTINCT date_order::date) FILTER (WHERE date_order::date > %s),"
            " count(DISTINCT date_order::date) FILTER (WHERE date_order::date > %s AND date_order::date <= %s)"
            " FROM sale_order WHERE state = 'sale' AND partner_id BETWEEN %s AND %s AND date_order::date <= %s"
            " GROUP BY partner_id",
            [cutoff, cutoff - timedelta(days=HORIZON_DAYS), cutoff, first_pid, books["partner_last"], end],
        )
        after, before_year = {}, {}
        for partner, n_after, n_before in cr.fetchall():
            after[partner], before_year[partner] = n_after, n_before
        actual = np.array([after.get(p, 0) for p in pid], dtype=float)
        last_year = np.array([before_year.get(p, 0) for p in pid], dtype=float)
        cut = YEARS_DAYS - 1 - HORIZON_DAYS  # the cutoff in simulated days
        truth = {first_pid + i: len({d for d in sim if d > cut}) for i, sim in enumerate(simulated)}
        books_vs_sim = sum(1 for i, p in enumerate(pid) if truth[p] != actual[i])

        # the as_of replay on a sample: same churn risk?
        sample = env["res.partner"].browse([int(p) for p in pid[:: max(len(pid) // 2000, 1)]])
        stored = dict(zip(pid.tolist(), risk.tolist(), strict=True))
        env["crm.lifecycle.engine"]._recompute(sample, as_of=cutoff)
        cr.execute("SELECT id, churn_risk, probability_alive FROM res_partner WHERE id = ANY(%s)", [sample.ids])
        replay = cr.fetchall()
        cr.rollback()
        replay_differs = sum(1 for p, r, _a in replay if r != stored[p])
        replay_models = sum(1 for _p, _r, a in replay if a)

    registry.delete(args.db)
    if not args.keep:
        drop_db(args.db)

    x, t_x, age = _bgnbd_inputs(first, last, days, cutoff)
    true_expected = bgnbd.BgNbd(**TRUE_MODEL).expected_purchases(HORIZON_DAYS, x, t_x, age)
    lapsed = actual == 0
    mae = float(np.abs(expected - actual).mean())
    figures = {
        "customers": len(pid),
        "lapsed": int(lapsed.sum()),
        "mae": mae,
        "mae_true": float(np.abs(true_expected - actual).mean()),
        "mae_last_year": float(np.abs(last_year - actual).mean()),
        "rmse": float(np.sqrt(((expected - actual) ** 2).mean())),
        "predicted": float(expected.sum()),
        "predicted_true": float(true_expected.sum()),
        "actual": float(actual.sum()),
        "auc_risk": roc_auc(risk, lapsed),
        "auc_alive": roc_auc(1 - alive, lapsed),
        "auc_expected": roc_auc(-expected, lapsed),
        "books_vs_sim": books_vs_sim,
        "replay": (len(replay), replay_differs, replay_models),
        "fitted": fitted,
    }
    results["backtest"] = figures
    out(
        f"BACKTEST: {fmt_int(len(pid))} customers at the cutoff {cutoff} (a kept purchase by then); "
        f"{fmt_int(figures['lapsed'])} ({figures['lapsed'] / len(pid):.0%}) did not order in the 12 months after"
    )
    out(
        f"  purchase days after the cutoff read from the books equal the simulation's for "
        f"{fmt_int(len(pid) - books_vs_sim)} of {fmt_int(len(pid))} customers"
    )
    out(
        f"  orders in the last 12 months: predicted {figures['predicted']:,.0f} (expected_orders_12m as stored at "
        f"the cutoff), actual {figures['actual']:,.0f} ({figures['predicted'] / figures['actual'] - 1:+.1%}); with the "
        f"true parameters {figures['predicted_true']:,.0f}"
    )
    out(
        f"  mean absolute error per customer: {mae:.3f} orders (RMSE {figures['rmse']:.3f}); with the true "
        f"parameters {figures['mae_true']:.3f}; 'as many as in the 12 months before' {figures['mae_last_year']:.3f}"
    )
    for low, high in ((0, 0), (1, 2), (3, 9), (10, None)):
        group = (x >= low) & (x <= (high if high is not None else np.inf))
        label = f"repeat purchase days {low}-{high}" if high is not None else f"repeat purchase days {low}+"
        out(
            f"    {label:<26} {int(group.sum()):>7,} customers: actual {actual[group].sum():>9,.0f}, predicted "
            f"{expected[group].sum():>9,.0f}, MAE {np.abs(expected - actual)[group].mean():.3f}"
        )
    out(
        f"  AUC for 'no order since the cutoff': churn_risk {figures['auc_risk']:.3f}; 1 - P(alive) "
        f"{figures['auc_alive']:.3f}; -expected orders {figures['auc_expected']:.3f}"
    )
    for level_low, level_high in ((0, 34), (35, 64), (65, 100)):
        group = (risk >= level_low) & (risk <= level_high)
        if group.any():
            out(
                f"    churn_risk {level_low:>2}-{level_high:<3} {int(group.sum()):>7,} customers, "
                f"{lapsed[group].mean():.0%} did not order since"
            )
    n, differ, with_models = figures["replay"]
    out(
        f"  the as_of replay of _recompute on {n} of them: churn risk different from the frozen run's for {differ}; "
        f"P(alive) computed for {with_models} (the replay leaves the models out)"
    )


# ---------------------------------------------------------------------------------------------- main
def summary(results):
    rows = []
    if "night" in results:
        night = results["night"]
        rows.append(
            (
                f"nightly recompute with risk, RFM and BG/NBD (fit included) <= {TARGET_RECOMPUTE_SECONDS:g} s",
                night["seconds"] <= TARGET_RECOMPUTE_SECONDS,
                f"{night['seconds']:.1f} s, retention's part {night['retention']:.1f} s, "
                f"{fmt_int(night['queries'])} queries, RSS growth {mib(night['rss_growth'])}",
            )
        )
    if "refresh" in results:
        refresh = results["refresh"]
        rows.append(
            (
                "(figures) refresh of the retention and cohort reports, added to the nightly run",
                None,
                f"{refresh['both']:.2f} s (retention {refresh['crm.lifecycle.retention.report']:.2f} s, "
                f"cohorts {refresh['crm.lifecycle.cohort.report']:.2f} s)",
            )
        )
    for (report, view), (first, best, *_rest, timed_out) in results.get("reports", {}).items():
        rows.append(
            (
                f"{report} ({view}) <= {TARGET_REPORT_SECONDS:g} s",
                first <= TARGET_REPORT_SECONDS,
                f"first {'> ' if timed_out else ''}{first:.2f} s, best {best:.2f} s"
                + (" (cancelled)" if timed_out else ""),
            )
        )
    if "backtest" in results:
        b = results["backtest"]
        rows.append(
            (
                "(figures) backtest: orders predicted / actual in the last 12 months",
                None,
                f"{b['predicted']:,.0f} / {b['actual']:,.0f}, MAE {b['mae']:.3f} per customer "
                f"(true parameters {b['mae_true']:.3f})",
            )
        )
        rows.append(
            (
                "(figures) backtest: AUC of churn_risk for 'no order since'",
                None,
                f"{b['auc_risk']:.3f} (1 - P(alive) {b['auc_alive']:.3f})",
            )
        )
        rows.append(
            (
                "the backtest's books hold the simulated purchases",
                not b["books_vs_sim"],
                f"{b['books_vs_sim']} customers differ",
            )
        )
        rows.append(
            (
                "the as_of replay gives the frozen run's churn risk",
                not b["replay"][1],
                f"{b['replay'][1]} of {b['replay'][0]} differ",
            )
        )
    out()
    out("SUMMARY")
    width = max((len(r[0]) for r in rows), default=0)
    for label, ok, value in rows:
        verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        out(f"  {verdict:<4}  {label:<{width}}  {value}")
    out("RESULTS " + json.dumps(_plain(results), default=str))


def _plain(results):
    """The figures as JSON (for the README table), without the per-call details."""
    plain = {k: v for k, v in results.items() if k != "reports"}
    reports = results.get("reports", {}).items()
    plain["reports"] = {f"{r} ({v})": [round(a, 3), round(b, 3), x[-1]] for (r, v), (a, b, *x) in reports}
    return plain


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--orders-per-partner", type=int, default=10)
    parser.add_argument("--backtest-customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--skip-backtest", action="store_true")
    parser.add_argument("--backtest-only", action="store_true")
    parser.add_argument("--db", default=f"{BENCH_PREFIX}_retention")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--profile", action="store_true", help="cProfile of the next night's run")
    parser.add_argument("--report-repeat", type=int, default=3, help="times each report's read_group runs")
    parser.add_argument("--report-timeout", type=float, default=REPORT_TIMEOUT_SECONDS, help="seconds, per query")
    parser.add_argument("--reports-on", help="only time the reports, on this database kept by --keep")
    args = parser.parse_args()
    assert args.db.startswith(BENCH_PREFIX), f"a bench database is named {BENCH_PREFIX}..."

    import odoo

    odoo.tools.config.parse_config(["-c", CONF, "-d", args.db, "--log-level=warn"])
    out(f"PostgreSQL {server_settings()}; config {CONF}")
    results = {}
    if args.reports_on:
        assert args.reports_on.startswith(BENCH_PREFIX), f"a bench database is named {BENCH_PREFIX}..."
        reports_on(args, results)
        summary(results)
        return 0
    started = clock()
    copy_db(base_db(), f"{args.db}_installed")
    install_addon(f"{args.db}_installed")
    out(f"template copied to {args.db}_installed and {ladder.ADDON} installed in {clock() - started:.0f} s")
    try:
        if not args.backtest_only:
            part1(args, results)
        if not args.skip_backtest:
            part2(args, results)
    finally:
        if not args.keep:
            drop_db(args.db)
            drop_db(f"{args.db}_installed")
    summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
