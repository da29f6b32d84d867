"""Benchmark of lead assignment and the stale lead scan: `bash tools/bench.sh bench/assign.py`.

1. Its own database: the template (Odoo's crm/sale/account with demo data) copied to
   `crm_lifecycle_bench_leads_assign`, the addon installed in it.
2. Through the ORM (small): 20 salespeople in 4 teams of 5, each team with Odoo's assignment domain
   (Europe by country, East China by region, Americas by country, Key accounts by company size) and
   in each team: three members working every day (a calendar of 7 days, 8 to 17), one without working
   hours whose own assignment domain takes only one industry, and one on time off today; all with the
   same capacity (Odoo's assignment_max, 60,000 a month: a daily quota of 2,000, which nobody reaches).
   Through set-based SQL (bench data, the rows the ORM writes without its logic): 10,000 new leads
   (`--leads N`), unassigned (no team, no salesperson), created in the last two days, each with its own
   e-mail, a country and state, an industry and a company size (and the region the addon computes);
   a few match no team.
3. The database is copied to `crm_lifecycle_bench_leads_odoo`; the teams there keep Odoo's own
   strategy (weighted), those of the first copy take round robin. Odoo loaded in-process, every query
   counted, the same ASSIGNMENT RUN in both: the scheduled action Lead Assignment
   (`crm.team._cron_assign_leads`: Odoo's allocation to teams, then the members' assignment and
   conversion), timed in all and for the members' part alone. Odoo commits as it goes, as in
   production. Then the LARGEST GAP between the counts of members of a team who may take the same
   leads, have the same capacity and are at work; then a SECOND RUN with 5 more leads per team, and
   the gap again (Odoo's order favours the oldest members from one run to the next).
4. In the first copy, 100,000 open opportunities (`--open-leads N`) of the salespeople, assigned
   1 to 60 days ago, a third with a note of a salesperson 1 to 30 days ago: the STALE SCAN
   (`crm.lead._lifecycle_stale_leads`, what the scheduled action looks at before each batch), then
   one batch of the scheduled action (500 reassignments) for its cost per lead.
It prints a PASS/FAIL summary of the targets of the issue: the assignment run no slower than Odoo's
own, the stale scan of 100,000 open leads in under 10 s, a gap of at most 1 after the run.
Options: `--leads`, `--open-leads`, `--keep` (keep the databases), `--profile` (where our run spends
its time).
"""

import argparse
import cProfile
import io
import pstats
import time
from collections import defaultdict
from contextlib import closing

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

OURS_DB = "crm_lifecycle_bench_leads_assign"
ODOOS_DB = "crm_lifecycle_bench_leads_odoo"
# a month: Odoo's daily quota is a thirtieth, 2,000, more than a member receives in both runs (a quota
# reached would hide the gap: every member at it)
CAPACITY = 60_000
TARGET_SCAN_SECONDS = 10.0
TEAMS = [
    # name, Odoo's team assignment domain (by fields of the lead), how the specialist's domain is built
    ("Bench Europe", "[('country_id.code', 'in', ['FR', 'DE', 'BE', 'NL'])]"),
    ("Bench East China", "[('region_id', '=', {east})]"),
    ("Bench Americas", "[('country_id.code', 'in', ['US', 'CA', 'BR'])]"),
    ("Bench Key accounts", "[('company_size', 'in', ['201_1000', '1000_plus']), ('country_id.code', '=', 'JP')]"),
]
INDUSTRIES = ["Bench Software", "Bench Machinery", "Bench Retail", "Bench Logistics"]
SIZES = ["1_10", "11_50", "51_200", "201_1000", "1000_plus"]
# Odoo's codes of Shanghai, Jiangsu and Zhejiang
EAST_CHINA = ["沪", "苏", "浙"]
# country code, state code (China) and weight of the leads
PLACES = [("FR", None, 2), ("DE", None, 2), ("BE", None, 1), ("NL", None, 1), ("CN", "沪", 2), ("CN", "苏", 1),
          ("CN", "浙", 1), ("US", None, 2), ("CA", None, 1), ("BR", None, 1), ("JP", None, 2),
          ("AU", None, 1)]  # fmt: skip

REAL_CLOCK = (time.perf_counter,)


def clock():
    return REAL_CLOCK[0]()


def setup(env):
    """Salespeople, teams, members, calendars, time off and the region, through the ORM."""
    Command = __import__("odoo").Command
    company = env.ref("base.main_company")
    env["ir.config_parameter"].sudo().set_param("crm.lead.auto.assignment", True)
    east = env["crm.region"].create(
        {"name": "Bench East China", "state_ids": [Command.set(
            env["res.country.state"].search([("country_id.code", "=", "CN"), ("code", "in", EAST_CHINA)]).ids)]}
    )  # fmt: skip
    industries = env["res.partner.industry"].create([{"name": name} for name in INDUSTRIES])
    every_day = env["resource.calendar"].create(
        {
            "name": "Bench every day",
            "company_id": company.id,
            "tz": "UTC",
            "attendance_ids": [Command.clear()] + [
                Command.create({"name": f"Day {day}", "dayofweek": str(day), "hour_from": 8, "hour_to": 17,
                                "day_period": "morning"}) for day in range(7)],
        }
    )  # fmt: skip
    salesman = env.ref("sales_team.group_sale_salesman")
    now = __import__("odoo").fields.Datetime.now()
    teams = env["crm.team"]
    for t, (name, domain) in enumerate(TEAMS):
        team = env["crm.team"].create(
            {"name": name, "company_id": company.id, "use_leads": True, "use_opportunities": True,
             "assignment_domain": domain.format(east=east.id), "user_id": env.ref("base.user_admin").id}
        )  # fmt: skip
        teams |= team
        for m in range(5):
            user = env["res.users"].create(
                {"name": f"Bench seller {t}.{m}", "login": f"bench_seller_{t}_{m}", "company_id": company.id,
                 "company_ids": [Command.set(company.ids)], "tz": "UTC",
                 "groups_id": [Command.set([env.ref("base.group_user").id, salesman.id])]}
            )  # fmt: skip
            values = {"crm_team_id": team.id, "user_id": user.id, "assignment_max": CAPACITY}
            if m == 3:
                values["assignment_domain"] = f"[('industry_id', '=', {industries[t].id})]"
            member = env["crm.team.member"].create(values)
            if m != 3:
                member.resource_calendar_id = every_day
            if m == 4:
                env["resource.calendar.leaves"].create(
                    {"name": "Bench holiday", "resource_id": user.resource_ids.id, "calendar_id": every_day.id,
                     "company_id": company.id, "date_from": now.replace(hour=0, minute=0, second=0),
                     "date_to": now.replace(hour=23, minute=59, second=59)}
                )  # fmt: skip
    return teams, east, industries


NEW_LEADS = """
WITH places AS (
    SELECT row_number() OVER () AS k, c.id AS country_id, s.id AS state_id, p.weight
      FROM unnest(%(codes)s::text[], %(states)s::text[], %(weights)s::int[]) AS p(code, state, weight)
      JOIN res_country c ON c.code = p.code
 LEFT JOIN res_country_state s ON s.country_id = c.id AND s.code = p.state
), slots AS (
    SELECT k, country_id, state_id FROM places, generate_series(1, weight)
), numbered AS (
    SELECT row_number() OVER () AS slot, country_id, state_id FROM slots
), rows AS (
    SELECT n, random() AS r, now() AT TIME ZONE 'UTC' - make_interval(secs => random() * 172800) AS created,
           1 + n %% (SELECT count(*) FROM numbered) AS slot
      FROM generate_series(%(first)s, %(first)s + %(count)s - 1) AS n
)
INSERT INTO crm_lead (name, type, active, probability, automated_probability, priority, company_id, stage_id,
                      email_from, email_normalized, country_id, state_id, industry_id, company_size, region_id,
                      lifecycle_stage, date_last_stage_update, create_date, write_date, create_uid, write_uid)
SELECT 'Bench new lead ' || n, 'lead', true, 10, 10, '0', %(company)s, %(stage)s,
       'buyer' || n || '@bench-' || (n %% 997) || '.example.com',
       'buyer' || n || '@bench-' || (n %% 997) || '.example.com',
       p.country_id, p.state_id,
       (%(industries)s::int[])[1 + (n / 7) %% array_length(%(industries)s::int[], 1)],
       (%(sizes)s::text[])[1 + (n / 3) %% 5],
       CASE WHEN p.state_id = ANY(%(east_states)s::int[]) THEN %(east)s END,
       'potential', created, created, created, 1, 1
  FROM rows JOIN numbered p ON p.slot = rows.slot
"""


def insert_new_leads(dbname, count, company, stage, industries, east, east_states, first=1):
    """`count` new leads numbered from `first` (a number is the lead's e-mail: the same number again is a
    duplicate, which Odoo's assignment merges into the first lead)."""
    with closing(connect(dbname)) as conn, conn.cursor() as cr:
        cr.execute("SELECT setseed(0.17)")
        codes, states, weights = zip(*PLACES, strict=True)
        cr.execute(
            NEW_LEADS,
            {"count": count, "first": first, "codes": list(codes), "states": list(states), "weights": list(weights),
             "company": company, "stage": stage, "industries": industries, "sizes": SIZES, "east": east,
             "east_states": east_states},
        )  # fmt: skip
        inserted = cr.rowcount
        conn.commit()
    return inserted


OPEN_LEADS = """
WITH sellers AS (
    SELECT array_agg(m.user_id ORDER BY m.id) AS users, array_agg(m.crm_team_id ORDER BY m.id) AS teams
      FROM crm_team_member m JOIN crm_team t ON t.id = m.crm_team_id WHERE t.name->>'en_US' LIKE 'Bench %%'
), rows AS (
    SELECT n, now() AT TIME ZONE 'UTC' - make_interval(secs => 86400 + random() * 59 * 86400) AS assigned,
           1 + n %% 20 AS k
      FROM generate_series(1, %(count)s) AS n
)
INSERT INTO crm_lead (name, type, active, probability, automated_probability, priority, company_id, stage_id,
                      user_id, team_id, date_open, date_last_stage_update, lifecycle_stage,
                      create_date, write_date, create_uid, write_uid)
SELECT 'Bench open deal ' || n, 'opportunity', true, 30, 30, '0', %(company)s, %(stage)s,
       s.users[k], s.teams[k], assigned, assigned, 'opportunity', assigned, assigned, 1, 1
  FROM rows, sellers s
RETURNING id
"""
NOTES = """
INSERT INTO mail_message (model, res_id, message_type, subtype_id, body, author_id, date, create_date, write_date,
                          create_uid, write_uid)
SELECT 'crm.lead', l.id, 'comment', %(note)s, '<p>Called</p>', u.partner_id,
       now() AT TIME ZONE 'UTC' - make_interval(secs => 86400 + random() * 29 * 86400),
       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', l.user_id, l.user_id
  FROM crm_lead l JOIN res_users u ON u.id = l.user_id
 WHERE l.name LIKE 'Bench open deal %%' AND l.id %% 3 = 0
"""


def insert_open_leads(dbname, count, company, stage, note):
    with closing(connect(dbname)) as conn, conn.cursor() as cr:
        cr.execute("SELECT setseed(0.29)")
        cr.execute(OPEN_LEADS, {"count": count, "company": company, "stage": stage})
        inserted = cr.rowcount
        cr.execute(NOTES, {"note": note})
        notes = cr.rowcount
        conn.commit()
    with closing(connect(dbname, autocommit=True)) as conn, conn.cursor() as cr:
        cr.execute("VACUUM ANALYZE crm_lead, mail_message")
    return inserted, notes


def run_assignment(registry, make_env, label, profile=False):
    """The scheduled action Lead Assignment, once, counted; its members' part timed on its own."""
    counter = QueryCounter()
    member_part = [0.0, 0]
    model = registry["crm.team"]  # the registry's class: every override runs inside the timing
    original = model._assign_and_convert_leads

    def timed(self, force_quota=False):
        started, before = clock(), counter.count
        try:
            return original(self, force_quota=force_quota)
        finally:
            member_part[0] += clock() - started
            member_part[1] += counter.count - before

    profiler = cProfile.Profile() if profile else None
    model._assign_and_convert_leads = timed
    try:
        with registry.cursor() as cr, counter.counting():
            env = make_env(cr)
            started = clock()
            if profiler:
                profiler.enable()
            env["crm.team"]._cron_assign_leads()
            cr.commit()  # pylint: disable=invalid-commit
            if profiler:
                profiler.disable()
            seconds = clock() - started
    finally:
        del model._assign_and_convert_leads
    out(f"{label}")
    out(f"  wall time            {seconds:8.2f} s   (members' part {member_part[0]:.2f} s)")
    out(f"  queries              {fmt_int(counter.count):>8}   (members' part {fmt_int(member_part[1])})")
    out(f"  slowest query kinds  {', '.join(f'{k} x{n} {s:.2f}s' for k, (n, s) in counter.top(4))}")
    if profiler:
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(35)
        out(stream.getvalue())
    return seconds, counter.count, member_part


def gaps(registry, make_env):
    """Per team, the largest difference between the leads held by members who may take the same leads
    (no domain of their own), have the same capacity and are at work today; and the counts."""
    with registry.cursor() as cr:
        env = make_env(cr)
        teams = env["crm.team"].search([("name", "like", "Bench %")])
        off = teams.crm_team_member_ids._lifecycle_off_today()
        groups = env["crm.lead"]._read_group(
            [("team_id", "in", teams.ids), ("name", "like", "Bench new lead%")], ["user_id", "team_id"], ["__count"]
        )
        counts = {(user.id, team.id): count for user, team, count in groups if user}
        result = {}
        for team in teams:
            peers = defaultdict(list)
            for member in team.crm_team_member_ids:
                if member.id not in off and not member._lifecycle_domain():
                    peers[member.assignment_max].append(counts.get((member.user_id.id, team.id), 0))
            result[team.name] = (
                max((max(c) - min(c) for c in peers.values() if c), default=0),
                [counts.get((m.user_id.id, team.id), 0) for m in team.crm_team_member_ids],
            )
        assigned = sum(counts.values())
        unassigned = env["crm.lead"].search_count([("name", "like", "Bench new lead%"), ("user_id", "=", False)])
    return result, assigned, unassigned


def show_gaps(label, result, assigned, unassigned):
    out(f"  {label}: {fmt_int(assigned)} leads assigned, {fmt_int(unassigned)} left (no team or member takes them)")
    for team, (gap, counts) in result.items():
        out(f"    {team:<20} gap {gap}   members' leads {counts}")
    return max(gap for gap, _counts in result.values())


def open_registry(dbname):
    """Another database in the Odoo already loaded (load_odoo parses the configuration, which Odoo does once)."""
    import odoo
    from odoo.modules.registry import Registry

    return Registry(dbname), lambda cr: odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def set_strategy(dbname, strategy):
    with closing(connect(dbname)) as conn, conn.cursor() as cr:
        cr.execute("UPDATE crm_team SET assignment_strategy = %s WHERE name->>'en_US' LIKE 'Bench %%'", [strategy])
        conn.commit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--open-leads", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--profile", action="store_true", help="profile the round robin run")
    args = parser.parse_args()
    out(f"PostgreSQL: {server_settings()}")
    copy_db(base_db(), OURS_DB)
    install_addon(OURS_DB)
    registry, make_env = load_odoo(OURS_DB)
    import odoo

    with registry.cursor() as cr:
        env = make_env(cr)
        teams, east, industries = setup(env)
        company = env.ref("base.main_company").id
        stage = env["crm.stage"].search([("is_won", "=", False)], order="sequence", limit=1).id
        note = env.ref("mail.mt_note").id
        cr.commit()  # pylint: disable=invalid-commit
        east_states = east.state_ids.ids
    started = clock()
    inserted = insert_new_leads(OURS_DB, args.leads, company, stage, industries.ids, east.id, east_states)
    with closing(connect(OURS_DB, autocommit=True)) as conn, conn.cursor() as cr:
        cr.execute("VACUUM ANALYZE crm_lead")
    out(f"{fmt_int(inserted)} new leads written in {clock() - started:.1f} s; 20 salespeople in {len(teams)} teams")
    odoo.sql_db.close_db(OURS_DB)
    copy_db(OURS_DB, ODOOS_DB)
    set_strategy(OURS_DB, "round_robin")
    odoos_registry, odoos_env = open_registry(ODOOS_DB)
    registry, make_env = open_registry(OURS_DB)

    odoos = run_assignment(odoos_registry, odoos_env, "ODOO'S OWN ASSIGNMENT RUN (weighted)")
    odoos_gap = show_gaps("Odoo's weighted", *gaps(odoos_registry, odoos_env))
    ours = run_assignment(registry, make_env, "ROUND ROBIN ASSIGNMENT RUN", profile=args.profile)
    ours_gap = show_gaps("round robin", *gaps(registry, make_env))

    # a second run: a few more leads for each team, assigned by the next run of the scheduled action
    for db, reg, envf in ((ODOOS_DB, odoos_registry, odoos_env), (OURS_DB, registry, make_env)):
        insert_new_leads(
            db, 5 * len(TEAMS) * 3, company, stage, industries.ids, east.id, east_states, first=args.leads + 1
        )
        with reg.cursor() as cr:
            envf(cr)["crm.team"]._cron_assign_leads()
            cr.commit()  # pylint: disable=invalid-commit
    out("SECOND RUN (60 more leads)")
    odoos_gap2 = show_gaps("Odoo's weighted", *gaps(odoos_registry, odoos_env))
    ours_gap2 = show_gaps("round robin", *gaps(registry, make_env))
    odoo.sql_db.close_db(ODOOS_DB)

    started = clock()
    open_leads, notes = insert_open_leads(OURS_DB, args.open_leads, company, stage, note)
    out(f"\n{fmt_int(open_leads)} open opportunities and {fmt_int(notes)} notes written in {clock() - started:.1f} s")
    counter = QueryCounter()
    with registry.cursor() as cr, counter.counting():
        env = make_env(cr)
        now = odoo.fields.Datetime.now()
        started = clock()
        stale = env["crm.lead"]._lifecycle_stale_leads(now)
        scan = clock() - started
        scan_queries = counter.count
        started = clock()
        before = counter.count
        env["crm.lead"]._cron_reassign_stale_leads(batch_size=500)
        cr.commit()  # pylint: disable=invalid-commit
        batch = clock() - started
        batch_queries = counter.count - before
    out("STALE SCAN")
    out(f"  stale leads found    {fmt_int(len(stale)):>8}   of {fmt_int(open_leads)} open (14 days without follow-up)")
    out(f"  wall time            {scan:8.2f} s   ({scan_queries} queries)")
    per_lead = batch / 500 * 1000
    out(f"  one batch of 500     {batch:8.2f} s   ({fmt_int(batch_queries)} queries, {per_lead:.1f} ms a lead)")
    odoo.sql_db.close_db(OURS_DB)
    if not args.keep:
        drop_db(OURS_DB)
        drop_db(ODOOS_DB)

    ratio = ours[0] / odoos[0]
    checks = [
        ("assignment run no slower than Odoo's own", ratio <= 1.0,
         f"{ours[0]:.2f} s against {odoos[0]:.2f} s: {ratio:.2f}x; members' part {ours[2][0]:.2f} s against "
         f"{odoos[2][0]:.2f} s ({ours[2][0] / odoos[2][0]:.2f}x); teams' part (Odoo's code in both) "
         f"{ours[0] - ours[2][0]:.2f} s against {odoos[0] - odoos[2][0]:.2f} s; queries {fmt_int(ours[1])} against "
         f"{fmt_int(odoos[1])}"),
        (f"stale scan over {fmt_int(open_leads)} open leads < {TARGET_SCAN_SECONDS:.0f} s", scan < TARGET_SCAN_SECONDS,
         f"{scan:.2f} s"),
        ("largest gap between equal-capacity members after the run <= 1", ours_gap <= 1,
         f"{ours_gap} (Odoo's weighted: {odoos_gap})"),
        ("the same after a second run", ours_gap2 <= 1, f"{ours_gap2} (Odoo's weighted: {odoos_gap2})"),
    ]  # fmt: skip
    out("\nSUMMARY")
    for label, ok, value in checks:
        out(f"  {'PASS' if ok else 'FAIL'}  {label}: {value}")


if __name__ == "__main__":
    main()
