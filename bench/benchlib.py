"""What the benchmarks share: their databases, Odoo loaded in-process, query counting, output."""

import configparser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg2
from psycopg2 import sql as pgsql

ROOT = Path(__file__).resolve().parent.parent
ODOO_PATH = Path(os.environ.get("ODOO_PATH", "/opt/odoo18"))
CONF = os.environ.get("CRM_LIFECYCLE_CONF", str(ROOT / ".build" / "odoo.conf"))
ADDON = "crm_lifecycle"
BENCH_PREFIX = "crm_lifecycle_bench"  # every database a benchmark creates, and only those, starts so


def out(line=""):
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def fmt_int(value):
    return f"{value:,}"


def mib(size):
    return f"{size / 2**20:,.1f} MiB"


# ---------------------------------------------------------------------------------------------- databases
def db_params():
    parser = configparser.ConfigParser()
    parser.read(CONF)
    options = parser["options"]
    return {
        "host": options.get("db_host") or os.environ.get("PGHOST", "127.0.0.1"),
        "port": options.get("db_port") or os.environ.get("PGPORT", "5432"),
        "user": options.get("db_user") or os.environ.get("PGUSER"),
        "password": options.get("db_password") or os.environ.get("PGPASSWORD"),
        "data_dir": options.get("data_dir"),
    }


def connect(dbname, autocommit=False):
    params = {k: v for k, v in db_params().items() if k != "data_dir"}
    conn = psycopg2.connect(dbname=dbname, **params)
    conn.autocommit = autocommit
    return conn


def filestore(dbname):
    return Path(db_params()["data_dir"]) / "filestore" / dbname


def base_db():
    """The template database with Odoo's crm, sale and account (built by `make test` or `make bench`)."""
    name = os.environ.get("CRM_LIFECYCLE_BASE_DB")
    if name:
        return name
    with closing(connect("postgres", autocommit=True)) as conn, conn.cursor() as cr:
        cr.execute("SELECT datname FROM pg_database WHERE datname LIKE 'crm_lifecycle_base_%%' ORDER BY datname")
        rows = cr.fetchall()
    if not rows:
        sys.exit("No template database crm_lifecycle_base_*: run `make test` or `make bench` once to build it.")
    return rows[0][0]


def drop_db(name):
    assert name.startswith(BENCH_PREFIX), name  # only the databases the benchmarks create
    if "odoo.sql_db" in sys.modules:
        sys.modules["odoo.sql_db"].close_db(name)  # this process's own connections
    for attempt in range(10):
        conn = connect("postgres", autocommit=True)
        try:
            with conn.cursor() as cr:
                cr.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))
            break
        except psycopg2.errors.InsufficientPrivilege:
            # an autovacuum worker (the server's own) may still be on it after a VACUUM: it ends soon
            if attempt == 9:
                raise
            time.sleep(3)
        finally:
            conn.close()
    shutil.rmtree(filestore(name), ignore_errors=True)


def copy_db(source, target):
    drop_db(target)
    conn = connect("postgres", autocommit=True)
    with conn.cursor() as cr:
        cr.execute(
            pgsql.SQL("CREATE DATABASE {} TEMPLATE {}").format(pgsql.Identifier(target), pgsql.Identifier(source))
        )
    conn.close()
    if filestore(source).is_dir():
        shutil.copytree(filestore(source), filestore(target))


def install_addon(dbname):
    log = Path(tempfile.gettempdir()) / f"{dbname}-install.log"
    command = [sys.executable, str(ODOO_PATH / "odoo-bin"), "-c", CONF, "-d", dbname, "-i", ADDON]
    command += ["--stop-after-init", "--log-level=warn", f"--logfile={log}"]
    if subprocess.run(command, check=False).returncode:
        sys.exit(f"Installing {ADDON} on {dbname} failed: see {log}")


def load_odoo(dbname):
    """Odoo in this process, on `dbname`: returns (registry, a function giving a superuser env on a cursor)."""
    sys.path.insert(0, str(ODOO_PATH))
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", CONF, "-d", dbname, "--log-level=warn"])
    registry = Registry(dbname)
    return registry, lambda cr: odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def server_settings():
    with closing(connect("postgres", autocommit=True)) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings"
            " WHERE name IN ('server_version', 'work_mem', 'jit', 'shared_buffers', 'random_page_cost')"
        )
        return cr.fetchone()[0]


# ---------------------------------------------------------------------------------------------- measuring
class QueryCounter:
    """Counts the queries of Odoo cursors through the thread's query hooks (odoo.sql_db.Cursor.execute).

    `classify(text)` may name special queries; others are counted as "<VERB> <table>".
    """

    TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)

    def __init__(self, classify=None):
        self.count = 0
        self.seconds = 0.0
        self.kinds = defaultdict(lambda: [0, 0.0])
        self.rows_written = defaultdict(int)
        self.classify = classify or (lambda text: None)

    def __call__(self, cr, query, params, start, delay):
        self.count += 1
        self.seconds += delay
        text = query.decode() if isinstance(query, bytes) else str(query)
        head = text.lstrip().split(None, 1)[0].upper() if text.strip() else "?"
        match = self.TABLE.search(text)
        kind = self.classify(text) or f"{head} {match.group(1) if match else ''}".strip()
        self.kinds[kind][0] += 1
        self.kinds[kind][1] += delay
        if head in ("UPDATE", "INSERT", "DELETE") and cr.rowcount > 0:
            self.rows_written[f"{head} {match.group(1) if match else '?'}"] += cr.rowcount

    @contextmanager
    def counting(self):
        thread = threading.current_thread()
        previous = getattr(thread, "query_hooks", ())
        thread.query_hooks = (*previous, self)
        try:
            yield self
        finally:
            thread.query_hooks = previous

    def top(self, limit=6):
        return sorted(self.kinds.items(), key=lambda item: -item[1][1])[:limit]


def rss():
    """(current, peak) resident memory of this process, in bytes."""
    status = Path("/proc/self/status").read_text()
    values = dict(re.findall(r"^(Vm\w+):\s+(\d+) kB", status, re.MULTILINE))
    return int(values["VmRSS"]) * 1024, int(values["VmHWM"]) * 1024
