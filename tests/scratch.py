"""Databases of their own for the tests that must commit: install, uninstall and upgrade in separate
Odoo processes, concurrent transactions, Odoo's multi-process server. Each is a copy of the
template database (`make test` names it), dropped afterwards."""

import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest

import odoo

ERROR_LINE = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", re.M)
ODOO_BIN = Path(odoo.tools.config["root_path"]).parent / "odoo-bin"


def connect(dbname):
    cfg = odoo.tools.config
    return psycopg2.connect(
        dbname=dbname, host=cfg["db_host"], port=cfg["db_port"], user=cfg["db_user"], password=cfg["db_password"]
    )


def query(dbname, sql, params=()):
    with connect(dbname) as conn, conn.cursor() as cr:
        cr.execute(sql, params)
        rows = cr.fetchall() if cr.description else []
    conn.close()
    return rows


def odoo_command(args, log, command=(), addons_path=None):
    cmd = [sys.executable, str(ODOO_BIN), *command, "-c", os.environ["CRM_LIFECYCLE_CONF"]]
    if addons_path:
        cmd.append(f"--addons-path={addons_path}")
    return [*cmd, "--logfile", str(log), "--log-level=info", *args]


def assert_clean_log(log):
    text = log.read_text() if log.exists() else ""
    errors = [line for line in text.splitlines() if ERROR_LINE.match(line)]
    assert not errors, "errors in the Odoo log:\n" + "\n".join(errors[:20])


def odoo_run(args, log, stdin=None, command=(), addons_path=None):
    """Run odoo-bin (or one of its commands, e.g. shell) to its end; its log must hold no error."""
    cmd = odoo_command(args, log, command, addons_path)
    result = subprocess.run(cmd, input=stdin, text=True, capture_output=True, timeout=900, check=False)
    text = log.read_text() if log.exists() else ""
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stderr[-3000:]}\n{text[-3000:]}"
    assert_clean_log(log)
    return result


def odoo_shell(db, script, log, addons_path=None):
    """Run a Python script in `odoo-bin shell` on `db` (the script commits what it keeps)."""
    return odoo_run(["-d", db, "--no-http"], log, stdin=script, command=["shell"], addons_path=addons_path)


@contextmanager
def _scratch(suffix):
    base = os.environ.get("CRM_LIFECYCLE_BASE_DB")
    if not base or not os.environ.get("CRM_LIFECYCLE_CONF"):
        pytest.fail("run through `make test`, which names the template database")
    # named after the test database, so that two checkouts can run their suites at the same time
    name = f"{odoo.tools.config['db_name']}_{suffix}"
    filestore = Path(odoo.tools.config["data_dir"]) / "filestore"
    subprocess.run(["dropdb", "--if-exists", "--force", name], check=True)
    subprocess.run(["createdb", "-T", base, name], check=True)
    shutil.rmtree(filestore / name, ignore_errors=True)
    if (filestore / base).is_dir():
        shutil.copytree(filestore / base, filestore / name)
    try:
        yield name
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", name], check=True)
        shutil.rmtree(filestore / name, ignore_errors=True)


def scratch_database():
    """A copy of the template database (crm, sale, account... installed, not the addon)."""
    with _scratch("scratch") as name:
        yield name
