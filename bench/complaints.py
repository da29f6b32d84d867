"""Benchmark of the complaint SLA cron: `bash tools/bench.sh bench/complaints.py`.

1. Its own database: the template (Odoo's crm/sale/account with demo data) copied to
   `crm_lifecycle_bench_complaints`, the addon installed in it.
2. 100,000 open complaints (`--complaints N`) written with set-based SQL in one transaction
   (bench data: the rows the ORM writes, without running its logic), on the demo customers,
   owned by three agents who follow them (as assigning through the ORM subscribes the owner), in
   the sales team (led by the administrator), under the Standard SLA: first response 8 h (at risk
   after 6 h), resolution 40 h (at risk after 30 h). Wall-clock hours stand for working hours:
   the cron compares stored deadlines, it does not care how they were planned.
   The desk is busy and behind: complaints were received evenly over the last 48 hours
   (`--span`), 90% got a first response after an hour; so about a fifth are breached, a fifth
   at risk. Their SLA status, next check and warned/escalated flags are those the cron, running
   every 15 minutes, left at generation time T0.
3. Measures, Odoo loaded in-process, time frozen (freezegun) at the moment of each run, every
   query counted, a commit after each batch as ir.cron does:
   - the ESCALATION RUN at T0 + 15 minutes, the cron's interval: the complaints that crossed a
     threshold since T0 are warned (an activity for the owner) or escalated (an activity for
     the team leader and a message): wall time, queries in all and per batch, what it created;
   - the SAME RUN AGAIN: it must find nothing to do and create nothing;
   - a BACKLOG RUN two hours later (the cron stopped meanwhile: a server down, a long upgrade):
     eight intervals of work at once, in several batches, to show that queries per batch stay
     bounded and what each warned or escalated complaint costs.
   It prints a PASS/FAIL summary of the targets of the issue: the escalation run over 100,000 open
   complaints in at most 10 s, with a bounded number of queries per batch.
"""

import argparse
import cProfile
import io
import pstats
import statistics
import time
from contextlib import closing
from datetime import datetime, timedelta

from benchlib import (
    QueryCounter,
    base_db,
    connect,
    copy_db,
    drop_db,
    fmt_int,
    install_addon,
    load_odoo,
    out,
    server_settings,
)
from freezegun import freeze_time

BENCH_DB = "crm_lifecycle_bench_complaints"
TARGET_SECONDS = 10.0
BATCH_SIZE = 1000
INTERVAL = timedelta(minutes=15)  # the cron's interval (data/crm_complaint_data.xml)
BACKLOG = timedelta(hours=2)
# the real clock, out of freezegun's reach: while frozen it replaces every module-level reference to it
REAL_CLOCK = (time.perf_counter,)


def clock():
    return REAL_CLOCK[0]()


GENERATE = """
WITH rows AS (
    SELECT n, random() * %(span)s AS age, n %% 10 <> 0 AS answers FROM generate_series(1, %(count)s) AS n
), facts AS (
    SELECT n, age, %(t0)s::timestamp - make_interval(secs => age * 3600) AS received,
           answers AND age >= 1 AS responded
      FROM rows
), states AS (
    -- what _sla_state_at gives at T0, and so what the last run left
    SELECT f.*,
           CASE WHEN (NOT responded AND age >= 8) OR age >= 40 THEN 'breached'
                WHEN (NOT responded AND age >= 6) OR age >= 30 THEN 'at_risk'
                ELSE 'on_track' END AS status
      FROM facts f
)
INSERT INTO crm_complaint (
    name, subject, request_date, partner_id, commercial_partner_id, complaint_type, category, severity,
    channel, user_id, team_id, company_id, stage_id, is_closed, review_state, sla_id, first_response_date,
    response_deadline, resolution_deadline, response_at_risk_date, resolution_at_risk_date,
    sla_status, sla_next_check, sla_warned, sla_escalated, create_uid, create_date, write_uid, write_date)
SELECT 'CMP/BENCH/' || lpad(n::text, 7, '0'), 'Bench complaint ' || n, received,
       (%(customers)s::int[])[1 + n %% array_length(%(customers)s::int[], 1)],
       (%(customers)s::int[])[1 + n %% array_length(%(customers)s::int[], 1)],
       'complaint', (ARRAY['service', 'price', 'product', 'delivery', 'other'])[1 + n %% 5], 'normal', 'email',
       (%(agents)s::int[])[1 + n %% array_length(%(agents)s::int[], 1)],
       %(team)s, %(company)s, %(stage)s, false, 'none', %(sla)s,
       CASE WHEN responded THEN received + interval '1 hour' END,
       received + interval '8 hours', received + interval '40 hours',
       received + interval '6 hours', received + interval '30 hours',
       status,
       CASE status
            WHEN 'breached' THEN NULL
            WHEN 'at_risk' THEN CASE WHEN responded THEN received + interval '40 hours'
                                     ELSE received + interval '8 hours' END
            ELSE CASE WHEN responded THEN received + interval '30 hours' ELSE received + interval '6 hours' END
       END,
       status IN ('at_risk', 'breached'), status = 'breached', 1, received, 1, received
  FROM states
"""


def generate(dbname, count, span, t0):
    """Open complaints as the ORM and the cron left them at T0: one transaction of set-based SQL."""
    with closing(connect(dbname)) as conn, conn.cursor() as cr:
        cr.execute("SELECT setseed(0.42)")
        cr.execute("SELECT id FROM crm_team WHERE use_complaints ORDER BY id LIMIT 1")
        team = cr.fetchone()[0]
        cr.execute("UPDATE crm_team SET user_id = 2 WHERE id = %s", [team])  # the administrator leads the desk
        cr.execute("SELECT id FROM crm_complaint_sla WHERE active AND team_id IS NULL AND severity IS NULL")
        sla = cr.fetchone()[0]
        cr.execute("SELECT id FROM crm_complaint_stage WHERE NOT COALESCE(is_closed, false) ORDER BY sequence LIMIT 1")
        stage = cr.fetchone()[0]
        cr.execute("SELECT id FROM res_company ORDER BY id LIMIT 1")
        company = cr.fetchone()[0]
        cr.execute("SELECT array_agg(id) FROM res_users WHERE active AND NOT share AND id > 2")
        agents = cr.fetchone()[0][:3]
        cr.execute(
            "SELECT array_agg(id) FROM res_partner WHERE active AND partner_share AND id = commercial_partner_id"
        )
        customers = cr.fetchone()[0]
        params = {"count": count, "span": span, "t0": t0, "customers": customers, "agents": agents}
        cr.execute(GENERATE, dict(params, team=team, company=company, stage=stage, sla=sla))
        # the owner follows the complaint, as assigning it through the ORM subscribes them
        cr.execute(
            """
            WITH followers AS (
                INSERT INTO mail_followers (res_model, res_id, partner_id)
                SELECT 'crm.complaint', c.id, u.partner_id
                  FROM crm_complaint c JOIN res_users u ON u.id = c.user_id
                 WHERE c.name LIKE 'CMP/BENCH/%%'
             RETURNING id
            )
            INSERT INTO mail_followers_mail_message_subtype_rel (mail_followers_id, mail_message_subtype_id)
            SELECT f.id, s.id FROM followers f, mail_message_subtype s
             WHERE s."default" AND NOT COALESCE(s.hidden, false) AND s.res_model IS NULL
            """
        )
        cr.execute(
            "SELECT sla_status, count(*) FROM crm_complaint WHERE name LIKE 'CMP/BENCH/%%' GROUP BY 1 ORDER BY 1"
        )
        statuses = dict(cr.fetchall())
        conn.commit()
    with closing(connect(dbname, autocommit=True)) as conn, conn.cursor() as cr:
        cr.execute("VACUUM ANALYZE crm_complaint, mail_followers, mail_followers_mail_message_subtype_rel")
    return statuses


def run_cron(env, counter, at):
    """The cron as ir.cron runs it at `at`: one batch per call, commit and a fresh cache between batches."""
    per_batch = []
    started = clock()
    with freeze_time(at):
        while True:
            before = counter.count
            remaining = env["crm.complaint"]._cron_check_sla(batch_size=BATCH_SIZE)
            env.cr.commit()  # pylint: disable=invalid-commit
            env.invalidate_all()
            per_batch.append(counter.count - before)
            if not remaining:
                return clock() - started, per_batch


def high_water(env):
    env.cr.execute("SELECT COALESCE(max(id), 0) FROM mail_activity")
    activity = env.cr.fetchone()[0]
    env.cr.execute("SELECT COALESCE(max(id), 0) FROM mail_message")
    return activity, env.cr.fetchone()[0]


def created(env, marks):
    """(warnings, escalations, messages) created since `marks`."""
    env.cr.execute(
        # the desk's leader is the administrator (generate), the owners are agents
        """SELECT count(*) FILTER (WHERE user_id <> 2), count(*) FILTER (WHERE user_id = 2)
             FROM mail_activity WHERE id > %s AND res_model = 'crm.complaint'""",
        [marks[0]],
    )
    warnings, escalations = env.cr.fetchone()
    env.cr.execute("SELECT count(*) FROM mail_message WHERE id > %s AND model = 'crm.complaint'", [marks[1]])
    return warnings, escalations, env.cr.fetchone()[0]


def measure(env, title, at, profile=False):
    counter = QueryCounter()
    marks = high_water(env)
    profiler = cProfile.Profile() if profile else None
    with counter.counting():
        if profiler:
            profiler.enable()
        seconds, per_batch = run_cron(env, counter, at)
        if profiler:
            profiler.disable()
    warnings, escalations, messages = made = created(env, marks)
    out(title)
    out(f"  wall time            {seconds:8.2f} s")
    out(f"  batches              {len(per_batch):8d}   (up to {BATCH_SIZE} complaints each)")
    out(f"  queries              {fmt_int(counter.count):>8}")
    out(f"  queries per batch    min {min(per_batch)}, median {statistics.median(per_batch):.0f}, max {max(per_batch)}")
    out(f"  owners warned        {fmt_int(warnings):>8}   (activity)")
    out(f"  escalations          {fmt_int(escalations):>8}   (activity for the leader)")
    out(f"  messages logged      {fmt_int(messages):>8}")
    if warnings + escalations:
        out(f"  per notice           {seconds / (warnings + escalations) * 1000:8.2f} ms")
    out(f"  slowest query kinds  {', '.join(f'{k} x{n} {s:.2f}s' for k, (n, s) in counter.top(4))}")
    if profiler:
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(25)
        out(stream.getvalue())
    return seconds, per_batch, made


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--span", type=float, default=48.0, help="hours over which the complaints were received")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--profile", action="store_true", help="print where the escalation run spends its time")
    args = parser.parse_args()

    out(f"PostgreSQL: {server_settings()}")
    copy_db(base_db(), BENCH_DB)
    install_addon(BENCH_DB)
    t0 = datetime.now().replace(microsecond=0)
    started = clock()
    statuses = generate(BENCH_DB, args.complaints, args.span, t0)
    out(
        f"{fmt_int(args.complaints)} open complaints written in {clock() - started:.1f} s: "
        + ", ".join(f"{fmt_int(n)} {status}" for status, n in statuses.items())
    )

    registry, make_env = load_odoo(BENCH_DB)
    with registry.cursor() as cr:
        env = make_env(cr)
        first = measure(env, "ESCALATION RUN (T0 + 15 minutes)", t0 + INTERVAL, profile=args.profile)
        again = measure(env, "SAME RUN AGAIN", t0 + INTERVAL)
        backlog = measure(env, "BACKLOG RUN (the cron stopped for 2 hours)", t0 + INTERVAL + BACKLOG)

    if not args.keep:
        drop_db(BENCH_DB)

    seconds, _per_batch, made = first
    busy = backlog[1][:-1] or backlog[1]
    checks = [
        (f"escalation run over {fmt_int(args.complaints)} open complaints <= {TARGET_SECONDS:.0f} s",
         seconds <= TARGET_SECONDS, f"{seconds:.2f} s, {made[0] + made[1]} notices"),
        ("queries per batch bounded (full batches of the backlog run)", max(busy) <= 2 * min(busy) + 10,
         f"min {min(busy)}, max {max(busy)} over {len(backlog[1])} batches"),
        ("run again: nothing created", again[2] == (0, 0, 0), f"{again[2]}"),
        ("every complaint warned or escalated once", made[0] + made[1] > 0 and made[1] == made[2],
         f"{made[1]} escalations, {made[2]} messages"),
    ]  # fmt: skip
    out(f"\n(no target) backlog run: {backlog[0]:.2f} s for {backlog[2][0] + backlog[2][1]} notices")
    out("\nSUMMARY")
    for label, ok, value in checks:
        out(f"  {'PASS' if ok else 'FAIL'}  {label}: {value}")


if __name__ == "__main__":
    main()
