"""Benchmark of the care rules' daily run: `bash tools/bench.sh bench/care.py`.

The targets of issue 11: "On 100,000 partners (the ladder bench's books, with birthdays and
countries): selecting today's due partners for all rules prints its time and queries (target under
1 s); a run that queues 5,000 e-mails prints its time (target under 60 s); a rerun of the same day
queues nothing."

1. Its own database (`--db`, default `crm_lifecycle_bench_care`): the template (Odoo's crm, sale
   and account with their demo data) copied, the addon installed with its demo data, so with the
   demo's care rules (`_create_demo_care`): birthday e-mail (10% control group), Spring Festival
   e-mail for China (2 days ahead), Thanksgiving e-mail for the United States, win-back call
   activity after 90 quiet days or 3 usual intervals (customers and above, 20% control group),
   follow-up call 7 days after a closed complaint; the rung-up rule is inactive as in the demo.
   The company's cap: one care message per 7 days across rules (the default).
2. The books of bench/ladder.py (its generator, imported: `--partners` companies, 10 orders each
   by default), ending on the day of the run, DAY (`--day`, by default the last Thanksgiving up to
   today: its e-mails are the run of about 5,000), then placed by the engine's nightly run with the
   clock at DAY. Then, with set-based SQL: each bench partner gets a birthday (uniform over the
   year, born 1950-1999), a country (CN 30%, FR 12%, DE 10%, GB 10%, US `--us-share` 5.3%, CA 5%,
   JP 5%, the rest none), a language (zh_CN in China, fr_FR in France, in the United States 10%
   zh_CN and 5% fr_FR, else en_US), a salesperson for 80% of them (one of the internal users);
   5% have no e-mail, 3% a blacklisted one (mail.blacklist), 2% asked for no care messages
   (care_opt_out). 3,000 complaints received over the last 30 days (bench/complaints.py's
   generator), 60% of them closed 0-5 days after they came. The birthday and season's greetings
   templates get French and Chinese translations (subject and body), the languages activated.
3. Measures, Odoo loaded in-process, the clock frozen (freezegun) at 06:00 of the day run (the
   cron's hour), every query counted:
   - SELECTION: `rule._due(day)` for every active rule, the day before DAY (an ordinary day) and
     on DAY (a holiday), nothing logged yet: time and queries per rule and in all;
   - THE DAY BEFORE through the cron path (`_cron_run_care()` with its batch size, commit and a
     fresh cache after each call, as ir.cron runs it), so that DAY's run finds what a daily cron
     leaves (the grace days caught up, the cap of the messages sent);
   - THE RUN ON DAY, the same way: wall time, batches, queries per batch, log rows by state and
     reason, mail.mail rows queued, activities created, RSS; then a sample of the e-mails checked
     to be in their partner's language (subject and body);
   - THE SAME DAY AGAIN: no log row, no mail.mail;
   - TWO RUNS AT ONCE: DAY's logs, e-mails and activities removed, then two processes (two
     cron workers) run DAY together from a common start: each partner must get the e-mails of
     the single run, once each (no e-mail without its log, no log without its e-mail).
   and prints a PASS/FAIL summary of the targets.

Options: `--partners N` (100000), `--orders-per-partner` (10), `--us-share` (0.053), `--day
YYYY-MM-DD`, `--batch-size` (the cron's, 500), `--db`, `--keep` (keep the database), `--profile`
(where DAY's run spends its time), `--skip-concurrent`.
Environment: CRM_LIFECYCLE_CONF, CRM_LIFECYCLE_BASE_DB, ODOO_PATH (see benchlib.py).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import complaints as complaints_bench
import ladder
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
    load_odoo,
    mib,
    out,
    rss,
    server_settings,
)
from freezegun import freeze_time

TARGET_SELECTION_SECONDS = 1.0
TARGET_RUN_SECONDS = 60.0
CRON_BATCH_SIZE = 500  # crm.care.rule._cron_run_care's default, as the cron calls it
RUN_HOUR = 6  # the cron's nextcall (data/crm_care_data.xml)
# the real clock, out of freezegun's reach (it replaces module-level references while frozen)
REAL_CLOCK = (time.perf_counter,)
# (country code, share) of the bench partners; the US share is an option
COUNTRIES = [("CN", 0.30), ("FR", 0.12), ("DE", 0.10), ("GB", 0.10), ("CA", 0.05), ("JP", 0.05)]
NO_EMAIL, BLACKLISTED, OPTED_OUT = 0.05, 0.03, 0.02
SALESPERSON_SHARE = 0.80
COMPLAINTS, COMPLAINT_SPAN_DAYS, CLOSED_SHARE = 3000, 30, 0.60
LANGUAGES = ("fr_FR", "zh_CN")
# translations of the demo's e-mail templates, and what tells each language in a rendered e-mail
# (subject, body)
TRANSLATIONS = {
    "crm_lifecycle.mail_template_care_birthday": {
        "fr_FR": (
            "Joyeux anniversaire, {{ object.name }} !",
            "<div><p>Cher <t t-out=\"object.name or ''\">client</t>,</p><p>Toute l'équipe de "
            "<t t-out=\"(object.company_id or user.company_id).name or ''\">notre société</t> vous souhaite un "
            "très joyeux anniversaire.</p><p>Merci de votre confiance.</p></div>",
        ),
        "zh_CN": (
            "生日快乐，{{ object.name }}！",
            "<div><p>尊敬的 <t t-out=\"object.name or ''\">客户</t>：</p><p>"
            "<t t-out=\"(object.company_id or user.company_id).name or ''\">我们</t>全体同仁祝您生日快乐！</p>"
            "<p>感谢您的信任。</p></div>",
        ),
    },
    "crm_lifecycle.mail_template_care_greetings": {
        "fr_FR": (
            "Meilleurs vœux de la part de {{ (object.company_id or user.company_id).name }}",
            "<div><p>Cher <t t-out=\"object.name or ''\">client</t>,</p><p>En ce jour de fête, nous vous souhaitons, "
            "à vous et à votre famille, bonheur et réussite.</p><p>Merci de votre confiance.</p></div>",
        ),
        "zh_CN": (
            "{{ (object.company_id or user.company_id).name }} 恭祝节日快乐",
            "<div><p>尊敬的 <t t-out=\"object.name or ''\">客户</t>：</p>"
            "<p>值此佳节，我们祝您和家人幸福美满、事业成功。</p>"
            "<p>感谢您的信任。</p></div>",
        ),
    },
}
MARKERS = {
    "en_US": (("Happy birthday", "Best wishes from"), ("very happy birthday", "On this holiday")),
    "fr_FR": (("Joyeux anniversaire", "Meilleurs vœux"), ("joyeux anniversaire", "En ce jour de fête")),
    "zh_CN": (("生日快乐", "恭祝节日快乐"), ("祝您生日快乐", "值此佳节")),
}


def clock():
    return REAL_CLOCK[0]()


def last_thanksgiving(today):
    """The fourth Thursday of November of this year if it has come, else of the last year."""
    for year in (today.year, today.year - 1):
        first = date(year, 11, 1)
        day = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
        if day <= today:
            return day
    raise AssertionError("unreachable")


def at_run_hour(day):
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=RUN_HOUR)


# ---------------------------------------------------------------------------------------------- the data
CARE_DATA = """
CREATE TEMP TABLE bench_care ON COMMIT DROP AS
SELECT id, random() AS r_country, random() AS r_lang, random() AS r_mail, random() AS r_user,
       date '1950-01-01' + floor(random() * (date '2000-01-01' - date '1950-01-01'))::int AS birthdate
  FROM res_partner WHERE id BETWEEN %(first)s AND %(last)s;

UPDATE res_partner p
   SET country_id = (%(country_ids)s::int[])[
           (SELECT count(*) + 1 FROM unnest(%(bounds)s::float8[]) AS b WHERE b <= c.r_country)::int],
       birthdate_date = c.birthdate,
       birthday_month = extract(month FROM c.birthdate), birthday_day = extract(day FROM c.birthdate),
       email = CASE WHEN c.r_mail < %(no_email)s THEN NULL ELSE p.email END,
       email_normalized = CASE WHEN c.r_mail < %(no_email)s THEN NULL ELSE p.email_normalized END,
       care_opt_out = c.r_mail >= %(no_email)s + %(blacklisted)s
                      AND c.r_mail < %(no_email)s + %(blacklisted)s + %(opted_out)s,
       user_id = CASE WHEN c.r_user < %(salesperson)s
                      THEN (%(users)s::int[])[1 + floor(c.r_user * 1000)::int %% array_length(%(users)s::int[], 1)]
                 END
  FROM bench_care c WHERE c.id = p.id;

UPDATE res_partner p
   SET lang = CASE WHEN p.country_id = %(cn)s THEN 'zh_CN' WHEN p.country_id = %(fr)s THEN 'fr_FR'
                   WHEN p.country_id = %(us)s AND c.r_lang < 0.10 THEN 'zh_CN'
                   WHEN p.country_id = %(us)s AND c.r_lang < 0.15 THEN 'fr_FR' ELSE 'en_US' END
  FROM bench_care c WHERE c.id = p.id;

INSERT INTO mail_blacklist (email, active, create_uid, create_date, write_uid, write_date)
SELECT p.email_normalized, true, 1, now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC'
  FROM res_partner p JOIN bench_care c ON c.id = p.id
 WHERE c.r_mail >= %(no_email)s AND c.r_mail < %(no_email)s + %(blacklisted)s
ON CONFLICT DO NOTHING;
"""

CLOSE_COMPLAINTS = """
UPDATE crm_complaint c
   SET stage_id = %(stage)s, is_closed = true,
       resolved_date = LEAST(c.request_date + make_interval(secs => random() * 5 * 86400), %(before)s::timestamp),
       first_response_date = COALESCE(c.first_response_date, c.request_date + interval '1 hour'),
       sla_status = 'met', sla_next_check = NULL
 WHERE c.name LIKE 'CMP/BENCH/%%' AND random() < %(share)s
"""


def prepare(dbname, books, day, us_share):
    """Birthdays, countries, languages, e-mails, salespeople and closed complaints (module docstring)."""
    conn = connect(dbname)
    cr = conn.cursor()
    cr.execute("SELECT setseed(0.11)")
    codes = [code for code, _share in COUNTRIES] + ["US"]
    cr.execute("SELECT code, id FROM res_country WHERE code = ANY(%s)", [codes])
    country = dict(cr.fetchall())
    shares = [*(share for _code, share in COUNTRIES), us_share]
    bounds, total = [], 0.0
    for share in shares:
        total += share
        bounds.append(total)
    assert total <= 1, "the countries' shares exceed 100%"
    cr.execute("SELECT array_agg(id ORDER BY id) FROM res_users WHERE active AND NOT share AND id > 1")
    users = cr.fetchone()[0]
    cr.execute(
        CARE_DATA,
        {
            "first": books["partner_base"] + 1,
            "last": books["partner_last"],
            "country_ids": [country[code] for code in codes] + [None],
            "bounds": bounds,
            "no_email": NO_EMAIL,
            "blacklisted": BLACKLISTED,
            "opted_out": OPTED_OUT,
            "salesperson": SALESPERSON_SHARE,
            "users": users,
            "cn": country["CN"],
            "fr": country["FR"],
            "us": country["US"],
        },
    )
    conn.commit()
    # complaints of the last 30 days on all customers (bench/complaints.py's generator), most closed
    t0 = datetime.combine(day, datetime.min.time()) - timedelta(hours=1)
    complaints_bench.generate(dbname, COMPLAINTS, COMPLAINT_SPAN_DAYS * 24.0, t0)
    cr.execute("SELECT id FROM crm_complaint_stage WHERE is_closed ORDER BY sequence, id LIMIT 1")
    stage = cr.fetchone()[0]
    cr.execute(CLOSE_COMPLAINTS, {"stage": stage, "before": t0, "share": CLOSED_SHARE})
    closed = cr.rowcount
    cr.execute(
        "SELECT c.code, count(*), count(*) FILTER (WHERE p.email IS NULL),"
        " count(*) FILTER (WHERE bl.id IS NOT NULL), count(*) FILTER (WHERE p.care_opt_out)"
        " FROM res_partner p LEFT JOIN res_country c ON c.id = p.country_id"
        " LEFT JOIN mail_blacklist bl ON bl.email = p.email_normalized"
        " WHERE p.id BETWEEN %s AND %s GROUP BY 1 ORDER BY 2 DESC",
        [books["partner_base"] + 1, books["partner_last"]],
    )
    by_country = cr.fetchall()
    conn.commit()
    conn.autocommit = True
    cr.execute("VACUUM ANALYZE res_partner, mail_blacklist, crm_complaint")
    conn.close()
    out(
        "care data: "
        + ", ".join(f"{code or 'no country'} {fmt_int(n)}" for code, n, *_rest in by_country)
        + f"; without e-mail {fmt_int(sum(r[2] for r in by_country))}, blacklisted "
        f"{fmt_int(sum(r[3] for r in by_country))}, opted out {fmt_int(sum(r[4] for r in by_country))}; "
        f"{fmt_int(COMPLAINTS)} complaints over {COMPLAINT_SPAN_DAYS} days, {fmt_int(closed)} closed"
    )


def translate_templates(env):
    for code in LANGUAGES:
        env["res.lang"]._activate_lang(code)
    for xmlid, languages in TRANSLATIONS.items():
        template = env.ref(xmlid)
        for code, (subject, body) in languages.items():
            template.with_context(lang=code).write({"subject": subject, "body_html": body})
    env.cr.commit()  # pylint: disable=invalid-commit


# ---------------------------------------------------------------------------------------------- measuring
def select_due(env, day):
    """{rule name: (partners due, seconds, queries)} of `_due` for every active rule, cold cache."""
    rules = env["crm.care.rule"].search([("trigger", "!=", "manual")])
    env.invalidate_all()
    result = {}
    with freeze_time(at_run_hour(day)):
        for rule in rules:
            counter = QueryCounter()
            with counter.counting():
                started = clock()
                due = rule._due(day)
                elapsed = clock() - started
            result[rule.name] = (len(due), elapsed, counter.count)
    env.cr.rollback()
    return result


def high_water(env):
    marks = {}
    for table in ("crm_care_log", "mail_mail", "mail_activity"):
        env.cr.execute(f"SELECT COALESCE(max(id), 0) FROM {table}")
        marks[table] = env.cr.fetchone()[0]
    return marks


def run_day(env, day, batch_size, profile=False):
    """The cron on `day` as ir.cron runs it: one batch per call, commit and a fresh cache between
    batches. Returns (seconds, [(queries, seconds, done, remaining)] per batch, peak RSS)."""
    Rule = env["crm.care.rule"]
    counter = QueryCounter()
    batches = []
    profiler = cProfile.Profile() if profile else None
    peak = rss()[0]
    started = clock()
    with freeze_time(at_run_hour(day)):
        while True:
            before = high_water(env)["crm_care_log"]
            queries, batch_started = counter.count, clock()
            if profiler:
                profiler.enable()
            with counter.counting():
                remaining = Rule._cron_run_care(batch_size=batch_size)
                env.cr.commit()  # pylint: disable=invalid-commit
                env.invalidate_all()
            if profiler:
                profiler.disable()
            elapsed = clock() - batch_started
            done = high_water(env)["crm_care_log"] - before
            batches.append((counter.count - queries, elapsed, done, remaining))
            peak = max(peak, rss()[0])
            if not remaining:
                break
    seconds = clock() - started
    if profiler:
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(35)
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(20)
        out(stream.getvalue())
    return seconds, batches, peak, counter


def created(env, marks):
    """What a run created since `marks`: log rows by (rule, channel, state, reason), e-mails per partner,
    activities."""
    cr = env.cr
    cr.execute(
        "SELECT r.name, l.channel, l.state, COALESCE(l.reason, ''), count(*) FROM crm_care_log l"
        " JOIN crm_care_rule r ON r.id = l.rule_id WHERE l.id > %s GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        [marks["crm_care_log"]],
    )
    logs = cr.fetchall()
    cr.execute(
        "SELECT msg.res_id, count(*) FROM mail_mail mm JOIN mail_message msg ON msg.id = mm.mail_message_id"
        " WHERE mm.id > %s AND msg.model = 'res.partner' GROUP BY msg.res_id",
        [marks["mail_mail"]],
    )
    mails = dict(cr.fetchall())
    cr.execute("SELECT count(*) FROM mail_activity WHERE id > %s", [marks["mail_activity"]])
    activities = cr.fetchone()[0]
    # e-mails without the log that claimed them, and e-mail logs sent without their e-mail
    cr.execute(
        "SELECT count(*) FROM mail_mail mm JOIN mail_message msg ON msg.id = mm.mail_message_id"
        " WHERE mm.id > %s AND msg.model = 'res.partner'"
        " AND NOT EXISTS (SELECT 1 FROM crm_care_log l WHERE l.mail_id = mm.id)",
        [marks["mail_mail"]],
    )
    orphans = cr.fetchone()[0]
    cr.execute(
        "SELECT count(*) FROM crm_care_log WHERE id > %s AND channel = 'email' AND state = 'sent' AND mail_id IS NULL",
        [marks["crm_care_log"]],
    )
    unsent = cr.fetchone()[0]
    return {"logs": logs, "mails": mails, "activities": activities, "orphans": orphans, "unsent": unsent}


def print_run(title, seconds, batches, peak, rss_before, made, counter):
    queries = [b[0] for b in batches]
    log_count = sum(n for *_key, n in made["logs"])
    out(title)
    out(f"  wall time            {seconds:8.2f} s")
    out(f"  batches              {len(batches):8d}   (up to the batch size each)")
    out(
        f"  queries              {fmt_int(sum(queries)):>8}   per batch min {min(queries)}, "
        f"median {statistics.median(queries):.0f}, max {max(queries)}"
    )
    out(f"  seconds per batch    min {min(b[1] for b in batches):.2f}, max {max(b[1] for b in batches):.2f}")
    out(f"  log rows             {fmt_int(log_count):>8}")
    out(
        f"  e-mails queued       {fmt_int(sum(made['mails'].values())):>8}   (mail.mail, to "
        f"{fmt_int(len(made['mails']))} partners)"
    )
    out(f"  activities           {fmt_int(made['activities']):>8}")
    if made["mails"]:
        out(f"  per e-mail           {seconds / sum(made['mails'].values()) * 1000:8.2f} ms (the whole run)")
    out(f"  RSS                  {mib(rss_before)} at the start, {mib(peak)} at the most")
    out(f"  slowest query kinds  {', '.join(f'{k} x{n} {s:.2f}s' for k, (n, s) in counter.top(5))}")
    by_rule = defaultdict(list)
    for rule, channel, state, reason, count in made["logs"]:
        by_rule[rule].append(f"{channel} {state}{' (' + reason + ')' if reason else ''} {fmt_int(count)}")
    for rule, parts in by_rule.items():
        out(f"    {rule}: {', '.join(parts)}")


def check_languages(env, marks, sample):
    """(checked, right, {lang: (checked, right)}, examples of wrong ones) for a sample of the e-mails."""
    env.cr.execute(
        "SELECT p.lang, msg.subject, mm.body_html FROM mail_mail mm"
        " JOIN mail_message msg ON msg.id = mm.mail_message_id JOIN res_partner p ON p.id = msg.res_id"
        " WHERE mm.id > %s AND msg.model = 'res.partner' ORDER BY md5(mm.id::text) LIMIT %s",
        [marks["mail_mail"], sample],
    )
    per_lang, wrong = defaultdict(lambda: [0, 0]), []
    for lang, subject, body in env.cr.fetchall():
        subjects, bodies = MARKERS.get(lang, MARKERS["en_US"])
        right = any(m in (subject or "") for m in subjects) and any(m in (body or "") for m in bodies)
        per_lang[lang][0] += 1
        per_lang[lang][1] += right
        if not right and len(wrong) < 3:
            wrong.append((lang, subject))
    checked = sum(v[0] for v in per_lang.values())
    return checked, sum(v[1] for v in per_lang.values()), dict(per_lang), wrong


def remove_day(env, marks):
    """Remove what a run created since `marks` (its logs, e-mails and their messages, activities)."""
    cr = env.cr
    cr.execute("DELETE FROM crm_care_log WHERE id > %s", [marks["crm_care_log"]])
    cr.execute(
        "DELETE FROM mail_message WHERE id IN (SELECT mail_message_id FROM mail_mail WHERE id > %s)",
        [marks["mail_mail"]],
    )
    cr.execute("DELETE FROM mail_activity WHERE id > %s", [marks["mail_activity"]])
    cr.commit()  # pylint: disable=invalid-commit
    env.invalidate_all()


def concurrent_runs(args, day):
    """Two worker processes run `day` at once, from a common start: their reports."""
    workdir = Path(tempfile.mkdtemp(prefix="care-bench-"))
    go = workdir / "go"
    procs = []
    for index in range(2):
        command = [sys.executable, __file__, "--worker", "--db", args.db, "--day", day.isoformat()]
        command += ["--batch-size", str(args.batch_size), "--ready", str(workdir / f"ready{index}"), "--go", str(go)]
        procs.append(
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        )
    deadline = time.monotonic() + 300
    while not all((workdir / f"ready{i}").exists() for i in range(2)):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError("a worker did not start")
        time.sleep(0.2)
    go.touch()
    reports = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=1800)
        if proc.returncode:
            raise RuntimeError(f"a worker failed ({proc.returncode}): {stdout[-2000:]} {stderr[-2000:]}")
        report = json.loads(stdout.strip().splitlines()[-1])
        # Odoo logs each query that fails (its whole text): counted, not shown
        errors = [line for line in stderr.splitlines() if line.startswith("ERROR: ")]
        report["errors"] = Counter(errors)
        reports.append(report)
    return reports


def worker(args):
    """One cron worker running `--day` until done; prints a JSON report as its last line."""
    from psycopg2.extensions import TransactionRollbackError

    registry, make_env = load_odoo(args.db)
    Path(args.ready).touch()
    while not Path(args.go).exists():
        time.sleep(0.01)
    day = date.fromisoformat(args.day)
    calls, retries = 0, 0
    started = clock()
    with registry.cursor() as cr:
        env = make_env(cr)
        with freeze_time(at_run_hour(day)):
            while True:
                try:
                    remaining = env["crm.care.rule"]._cron_run_care(batch_size=args.batch_size)
                    cr.commit()  # pylint: disable=invalid-commit
                except TransactionRollbackError:
                    # a deadlock or a serialization failure: ir.cron rolls back and calls again
                    cr.rollback()
                    env.invalidate_all()
                    retries += 1
                    continue
                env.invalidate_all()
                calls += 1
                if not remaining:
                    break
    report = {"calls": calls, "retries": retries, "seconds": clock() - started}
    sys.stdout.write(json.dumps(report) + "\n")


# ---------------------------------------------------------------------------------------------- main
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--orders-per-partner", type=int, default=10)
    parser.add_argument("--us-share", type=float, default=0.053, help="share of the partners in the US")
    parser.add_argument("--day", help="the day of the run (default: the last Thanksgiving up to today)")
    parser.add_argument("--batch-size", type=int, default=CRON_BATCH_SIZE)
    parser.add_argument("--db", default=f"{BENCH_PREFIX}_care")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--profile", action="store_true", help="print where the run spends its time")
    parser.add_argument("--skip-concurrent", action="store_true", help="skip the two runs at once")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    parser.add_argument("--go", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    assert args.db.startswith(BENCH_PREFIX), f"a bench database is named {BENCH_PREFIX}..."

    day = date.fromisoformat(args.day) if args.day else last_thanksgiving(date.today())
    before = day - timedelta(days=1)
    out(f"PostgreSQL {server_settings()}; config {CONF}")
    out(f"the day of the run: {day} ({day:%A}); the ordinary day before it: {before}")
    started = clock()
    copy_db(base_db(), args.db)
    install_addon(args.db)
    out(f"template copied to {args.db} and {ladder.ADDON} installed in {clock() - started:.0f} s")
    results = {}
    try:
        now = datetime.combine(day, datetime.min.time()) + timedelta(hours=RUN_HOUR - 1)
        books = ladder.generate_books(args.db, args.partners, args.orders_per_partner, day, now.isoformat(" "))
        registry, make_env = load_odoo(args.db)
        with registry.cursor() as cr:
            env = make_env(cr)
            started = clock()
            with freeze_time(now - timedelta(hours=3)):
                env["crm.lifecycle.run"]._for_job("ladder")._restart()
                ladder.run_cron(env, 2000)
            out(f"the engine placed the partners (nightly run at {day}) in {clock() - started:.1f} s")
        prepare(args.db, books, day, args.us_share)
        with registry.cursor() as cr:
            env = make_env(cr)
            translate_templates(env)
            measure(env, args, day, before, results)
            if not args.skip_concurrent:
                measure_concurrent(env, args, day, results)
        registry.delete(args.db)
    finally:
        if not args.keep:
            drop_db(args.db)
    summary(results)
    return 0


def measure(env, args, day, before, results):
    rules = env["crm.care.rule"].search([("trigger", "!=", "manual")])
    out(
        "active rules: "
        + "; ".join(
            f"{r.name} ({r.trigger}, {', '.join(r._channels())}, control {r.control_percent:g}%)" for r in rules
        )
    )
    for label, when in (("ORDINARY DAY", before), ("HOLIDAY", day)):
        selection = select_due(env, when)
        total = sum(s for _n, s, _q in selection.values())
        queries = sum(q for _n, _s, q in selection.values())
        results[label] = (total, queries)
        out(
            f"SELECTION on {when} ({label.lower()}), `_due` of every active rule, nothing logged yet: "
            f"{total * 1000:.0f} ms, {queries} queries"
        )
        for name, (count, seconds, q) in selection.items():
            out(f"    {name}: {fmt_int(count)} due, {seconds * 1000:.0f} ms, {q} queries")

    rss_before = rss()[0]
    marks = high_water(env)
    seconds, batches, peak, counter = run_day(env, before, args.batch_size)
    print_run(f"THE DAY BEFORE ({before}), cron path", seconds, batches, peak, rss_before, created(env, marks), counter)

    rss_before = rss()[0]
    marks = high_water(env)
    seconds, batches, peak, counter = run_day(env, day, args.batch_size, profile=args.profile)
    made = created(env, marks)
    print_run(f"THE RUN ON {day}, cron path", seconds, batches, peak, rss_before, made, counter)
    results["run"] = (seconds, sum(made["mails"].values()), batches, made)
    results["marks"] = marks
    checked, right, per_lang, wrong = check_languages(env, marks, 300)
    results["languages"] = (checked, right)
    out(
        f"  languages: {right} of {checked} sampled e-mails in their partner's language ("
        + ", ".join(f"{lang} {r}/{n}" for lang, (n, r) in sorted(per_lang.items()))
        + ")"
        + (f"; wrong: {wrong}" if wrong else "")
    )

    marks_again = high_water(env)
    seconds, batches, peak, counter = run_day(env, day, args.batch_size)
    again = created(env, marks_again)
    results["again"] = (seconds, sum(n for *_k, n in again["logs"]), sum(again["mails"].values()))
    out(
        f"THE SAME DAY AGAIN: {seconds:.2f} s, {len(batches)} batch(es), {sum(b[0] for b in batches)} queries, "
        f"{results['again'][1]} log rows, {results['again'][2]} e-mails, {again['activities']} activities"
    )


def measure_concurrent(env, args, day, results):
    marks = results["marks"]
    single = results["run"][3]
    remove_day(env, marks)
    started = clock()
    reports = concurrent_runs(args, day)
    seconds = clock() - started
    made = created(env, marks)
    differing = {
        pid for pid in set(single["mails"]) | set(made["mails"]) if single["mails"].get(pid) != made["mails"].get(pid)
    }
    doubled = sum(1 for n in made["mails"].values() if n > 1)
    single_doubled = sum(1 for n in single["mails"].values() if n > 1)
    same_logs = Counter({k[:4]: k[4] for k in made["logs"]}) == Counter({k[:4]: k[4] for k in single["logs"]})
    results["concurrent"] = (differing, made, same_logs)
    out(f"TWO RUNS AT ONCE (two processes, from a common start): {seconds:.1f} s in all (each loads Odoo)")
    for index, report in enumerate(reports, 1):
        out(
            f"  worker {index}: {report['calls']} calls, {report['retries']} rolled back and called again, "
            f"{report['seconds']:.1f} s; PostgreSQL errors: "
            + (", ".join(f"{n} x {e[7:]!r}" for e, n in report["errors"].items()) or "none")
        )
    out(
        f"  e-mails {fmt_int(sum(made['mails'].values()))} to {fmt_int(len(made['mails']))} partners "
        f"(single run: {fmt_int(sum(single['mails'].values()))} to {fmt_int(len(single['mails']))}); partners "
        f"with more than one e-mail {doubled} (single run {single_doubled}); partners whose e-mails differ "
        f"from the single run {len(differing)}; log rows by rule, channel, state and reason "
        f"{'equal to' if same_logs else 'DIFFERENT from'} the single run's; e-mails without a log "
        f"{made['orphans']}, sent logs without their e-mail {made['unsent']}"
    )
    if differing:
        sample = sorted(differing)[:5]
        out(
            f"  e.g. partners {sample}: single {[single['mails'].get(p) for p in sample]}, "
            f"two at once {[made['mails'].get(p) for p in sample]}"
        )


def summary(results):
    rows = []
    for label in ("ORDINARY DAY", "HOLIDAY"):
        if label in results:
            seconds, queries = results[label]
            rows.append(
                (
                    f"selection of the due partners of all rules, {label.lower()} < {TARGET_SELECTION_SECONDS:g} s",
                    seconds < TARGET_SELECTION_SECONDS,
                    f"{seconds * 1000:.0f} ms, {queries} queries",
                )
            )
    if "run" in results:
        seconds, mails, batches, _made = results["run"]
        rows.append(
            (
                f"a run that queues about 5,000 e-mails < {TARGET_RUN_SECONDS:g} s",
                seconds < TARGET_RUN_SECONDS,
                f"{seconds:.1f} s, {fmt_int(mails)} e-mails, {len(batches)} batches",
            )
        )
    if "again" in results:
        _s, logs, mails = results["again"]
        rows.append(("a rerun of the same day queues nothing", not logs and not mails, f"{logs} logs, {mails} e-mails"))
    if "languages" in results:
        checked, right = results["languages"]
        rows.append(("sampled e-mails in their partner's language", checked and right == checked, f"{right}/{checked}"))
    if "concurrent" in results:
        differing, made, same_logs = results["concurrent"]
        ok = not differing and same_logs and not made["orphans"] and not made["unsent"]
        rows.append(
            (
                "two runs at once: every partner gets the e-mails of one run, once",
                ok,
                f"{len(differing)} partners differ, orphans {made['orphans']}",
            )
        )
    out()
    out("SUMMARY")
    width = max(len(r[0]) for r in rows) if rows else 0
    for label, ok, value in rows:
        out(f"  {'PASS' if ok else 'FAIL'}  {label:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
