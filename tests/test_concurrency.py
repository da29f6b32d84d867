"""Faults and concurrency, with transactions that really commit: two recomputations at once, a prompt
update in the middle of a nightly batch, a second run at the same time, and Odoo's multi-process
server with two cron workers, requests in between and a kill in the middle of the run.

These run on a database of their own (a copy of the template with the addon installed), since a
test database's transaction is rolled back and its cursors cannot see each other's work.
"""

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from contextlib import closing, contextmanager

import pytest

import odoo
from odoo import SUPERUSER_ID, Command, api, fields
from odoo.modules.registry import Registry
from odoo.service.model import retrying

from .scratch import _scratch, assert_clean_log, odoo_command, odoo_run, odoo_shell, query


@pytest.fixture(scope="module")
def fault_db(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("faults")
    with _scratch("faults") as name:
        odoo_run(
            ["-d", name, "-i", "crm_lifecycle", "--without-demo=all", "--stop-after-init"], log_dir / "install.log"
        )
        yield name
        Registry.delete(name)


def _registry(db):
    """The database's registry in this process (without running Odoo's own tests as it loads)."""
    config = odoo.tools.config
    test_enable, config["test_enable"] = config["test_enable"], False
    try:
        return Registry(db)
    finally:
        config["test_enable"] = test_enable


@contextmanager
def _env(registry):
    """A transaction of its own, committed at the end (as a request or a cron batch is)."""
    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


def _customer(env, name, orders=1):
    """A company with confirmed orders on different days, left to the nightly run (as an import)."""
    product = env["product.product"].search([("name", "=", "Fault Test Service")], limit=1) or env[
        "product.product"
    ].create({"name": "Fault Test Service", "type": "service", "list_price": 10.0})
    deferred = env(context={"lifecycle_defer": True})
    partner = deferred["res.partner"].create({"name": name, "is_company": True})
    for day in range(orders):
        order = deferred["sale.order"].create(
            {"partner_id": partner.id, "order_line": [Command.create({"product_id": product.id})]}
        )
        order.action_confirm()
        order.date_order = f"2026-0{1 + day}-15 10:00:00"
    return partner.id


def _history(db, partner_id):
    return query(
        db, "SELECT from_stage, to_stage FROM crm_ladder_history WHERE partner_id = %s ORDER BY id", (partner_id,)
    )


def _run_to_the_end(registry):
    while True:
        with _env(registry) as env:
            if not env["crm.lifecycle.engine"]._cron_recompute(batch_size=500):
                return


def test_two_recomputations_at_once_record_the_move_once(fault_db):
    registry = _registry(fault_db)
    with _env(registry) as env:
        pid = _customer(env, "Computed Twice At Once", orders=1)
    _run_to_the_end(registry)
    assert _history(fault_db, pid) == [(None, "customer")]
    # a second day of orders (an import) and two computations at once: the nightly batch begins its
    # transaction, the manager presses Recompute on the customer and commits first
    with _env(registry) as env:
        product = env["product.product"].search([("name", "=", "Fault Test Service")], limit=1)
        env["sale.order"].with_context(lifecycle_defer=True).create(
            {"partner_id": pid, "order_line": [Command.create({"product_id": product.id})]}
        ).action_confirm()
        env["crm.lifecycle.run"]._for_job("ladder")._restart()
    with closing(registry.cursor()) as nightly_cr:
        nightly_cr.execute("SELECT 1")  # the nightly batch's snapshot of the database is taken here
        nightly = api.Environment(nightly_cr, SUPERUSER_ID, {})
        with _env(registry) as env:
            env["res.partner"].browse(pid).action_lifecycle_recompute()
        remaining = nightly["crm.lifecycle.engine"]._cron_recompute(batch_size=500)
        assert remaining, "the batch met the manager's update: it is to run again, not lost"
        nightly_cr.commit()
    _run_to_the_end(registry)
    assert _history(fault_db, pid) == [(None, "customer"), ("customer", "client")], "the move, once"
    assert query(fault_db, "SELECT lifecycle_order_count FROM res_partner WHERE id = %s", (pid,)) == [(2,)]


def test_a_prompt_update_in_the_middle_of_a_nightly_batch_is_not_lost(fault_db):
    registry = _registry(fault_db)
    with _env(registry) as env:
        pid = _customer(env, "Invoiced During The Night", orders=1)
        product = env["product.product"].search([("name", "=", "Fault Test Service")], limit=1)
    with closing(registry.cursor()) as nightly_cr:
        nightly_cr.execute("SELECT 1")  # the batch has begun: it reads the books as they were then
        nightly = api.Environment(nightly_cr, SUPERUSER_ID, {})
        nightly["crm.lifecycle.run"]._for_job("ladder")._restart()

        # meanwhile an invoice is posted for the customer, and its request commits (a retried request,
        # as Odoo's HTTP layer retries those that meet a concurrent update)
        def post_invoice():
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})

                def request():
                    move = env["account.move"].create(
                        {
                            "move_type": "out_invoice",
                            "partner_id": pid,
                            "invoice_date": "2026-11-20",
                            "invoice_line_ids": [Command.create({"product_id": product.id, "price_unit": 50.0})],
                        }
                    )
                    move.action_post()

                retrying(request, env)

        post_invoice()
        nightly["crm.lifecycle.engine"]._cron_recompute(batch_size=500)
        nightly_cr.commit()
    _run_to_the_end(registry)
    figures = query(fault_db, "SELECT lifecycle_order_count, ladder_stage FROM res_partner WHERE id = %s", (pid,))
    assert figures == [(2, "client")], "the invoice posted during the batch counts"
    assert _history(fault_db, pid) == [(None, "client")]


def test_a_second_run_at_the_same_time_leaves_the_work_to_the_first(fault_db):
    registry = _registry(fault_db)
    with _env(registry) as env:
        _customer(env, "Waiting For The First Run")
        env["crm.lifecycle.run"]._for_job("ladder")._restart()
    history = query(fault_db, "SELECT count(*) FROM crm_ladder_history")
    with closing(registry.cursor()) as first_cr:
        first = api.Environment(first_cr, SUPERUSER_ID, {})
        assert first["crm.lifecycle.run"]._for_job("ladder")._lock()  # the first run holds it
        with _env(registry) as env:
            assert env["crm.lifecycle.engine"]._cron_recompute(batch_size=500) == 0
        assert query(fault_db, "SELECT count(*) FROM crm_ladder_history") == history, "the second did nothing"
        first_cr.rollback()
    _run_to_the_end(registry)
    assert query(fault_db, "SELECT count(*) FROM crm_ladder_history")[0][0] > history[0][0]


def _care_run_to_the_end(registry, start, errors):
    """Daily care runs as the cron runner calls them: a batch, a commit, again while some remain."""
    start.wait()
    try:
        while True:
            with _env(registry) as env:
                if not env["crm.care.rule"]._cron_run_care(batch_size=7):
                    return
    except Exception as error:  # the cron runner would log it as a failed job
        errors.append(error)


def test_two_care_runs_at_once_send_each_greeting_once(fault_db):
    """Two cron workers on the same day's birthdays: each partner gets one e-mail, none is skipped."""
    registry = _registry(fault_db)
    with _env(registry) as env:
        today = fields.Date.context_today(env["res.partner"])
        partners = env["res.partner"].create(
            [{"name": f"Twice Greeted {i:02d}", "email": f"twice{i}@example.com",
              "birthdate_date": today.replace(year=1980)} for i in range(40)]
        )  # fmt: skip
        env["crm.care.rule"].search([]).active = False  # the rules the addon ships stay out of it
        env["crm.care.rule"].create(
            {"name": "Birthdays, two workers", "trigger": "birthday", "company_id": env.company.id,
             "control_percent": 0, "mail_template_id": env.ref("crm_lifecycle.mail_template_care_birthday").id}
        )  # fmt: skip
        ids = partners.ids
    start, errors = threading.Barrier(2), []
    workers = [threading.Thread(target=_care_run_to_the_end, args=(registry, start, errors)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not any(worker.is_alive() for worker in workers)
    assert not errors, "a run that meets the other's claims runs again, it does not fail"
    mails = query(
        fault_db,
        "SELECT msg.res_id, count(*) FROM mail_mail mail JOIN mail_message msg ON msg.id = mail.mail_message_id"
        " WHERE msg.model = 'res.partner' AND msg.res_id = ANY(%s) GROUP BY msg.res_id",
        (ids,),
    )
    assert sorted(mails) == [(pid, 1) for pid in ids], "one e-mail each, none twice, none left out"
    logs = query(
        fault_db, "SELECT count(*), count(DISTINCT partner_id) FROM crm_care_log WHERE partner_id = ANY(%s)", (ids,)
    )
    assert logs == [(40, 40)]


# ---------------------------------------------------------------------------------------------- multi-process
def _free_port():
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    """odoo-bin with --workers=2 --max-cron-threads=2 on the database, as in production."""

    def __init__(self, db, log):
        self.db, self.log = db, log
        self.port = _free_port()
        self.process = None

    def start(self):
        args = ["-d", self.db, "--workers=2", "--max-cron-threads=2", f"--http-port={self.port}",
                f"--gevent-port={_free_port()}", f"--db-filter=^{self.db}$", "--limit-time-real=600"]  # fmt: skip
        self.process = subprocess.Popen(
            odoo_command(args, self.log), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/web/login", timeout=5)
                return
            except OSError:
                time.sleep(1)
        raise AssertionError("the server did not start")

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)


class _Client:
    """JSON-RPC as the web client sends it, logged in as a user."""

    def __init__(self, server, login, password):
        self.url = f"http://127.0.0.1:{server.port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        self.rpc("/web/session/authenticate", {"db": server.db, "login": login, "password": password})

    def rpc(self, path, params):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode()
        request = urllib.request.Request(self.url + path, body, {"Content-Type": "application/json"})
        with self.opener.open(request, timeout=120) as response:
            reply = json.loads(response.read())
        assert "error" not in reply, reply["error"]
        return reply["result"]

    def call(self, model, method, args, **kwargs):
        return self.rpc("/web/dataset/call_kw", {"model": model, "method": method, "args": args, "kwargs": kwargs})


SETUP = """
env['res.users'].browse(2).write({'password': 'admin'})
partners = env['res.partner'].with_context(lifecycle_defer=True).create(
    [{'name': f'Night Shift {i:04d}', 'is_company': True} for i in range(3000)])
product = env['product.product'].create({'name': 'Night Shift Service', 'type': 'service', 'list_price': 10.0})
order = env['sale.order'].with_context(lifecycle_defer=True).create(
    {'partner_id': partners[-1].id, 'order_line': [(0, 0, {'product_id': product.id})]})
order.action_confirm()
cron = env.ref('crm_lifecycle.ir_cron_lifecycle_recompute')
cron.ir_actions_server_id.code = 'model._cron_recompute_lifecycle(batch_size=50)'
# the other scheduled actions stay out of it (some call Odoo's online services, unreachable here)
env['ir.cron'].search([('id', '!=', cron.id)]).active = False
env['crm.lifecycle.run']._for_job('ladder')._restart()
env.cr.execute("UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'UTC' - interval '1 minute' WHERE id = %s", [cron.id])
env.cr.commit()
"""


def _wait(condition, seconds, message):
    for _ in range(seconds * 4):
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(message)


def test_multi_process_server_with_requests_during_the_run_and_a_kill(fault_db, tmp_path):
    odoo_shell(fault_db, SETUP, tmp_path / "setup.log")
    night = dict(query(fault_db, "SELECT name, id FROM res_partner WHERE name LIKE 'Night Shift %%'"))
    invoiced, pressed = night["Night Shift 0007"], night["Night Shift 2999"]
    server = _Server(fault_db, tmp_path / "server.log")
    server.start()
    try:
        run = "SELECT cursor FROM crm_lifecycle_run WHERE name = 'ladder'"
        _wait(lambda: query(fault_db, run)[0][0] > 0, 120, "the cron workers did not start the nightly run")
        server.kill()  # the server dies in the middle of the run
        assert query(fault_db, run)[0][0] > 0, "killed in the middle of the run"
        server.start()
        admin = _Client(server, "admin", "admin")
        # requests while the run goes on: an invoice posted for a customer, a manager's Recompute on another
        product = admin.call("product.product", "search", [[("name", "=", "Night Shift Service")]])
        move = admin.call(
            "account.move",
            "create",
            [{"move_type": "out_invoice", "partner_id": invoiced, "invoice_date": "2026-11-25",
              "invoice_line_ids": [(0, 0, {"product_id": product[0], "price_unit": 30.0})]}],
        )  # fmt: skip
        admin.call("account.move", "action_post", [[move]])
        admin.call("res.partner", "action_lifecycle_recompute", [[pressed]])
        placed = "SELECT count(*) FROM res_partner WHERE name LIKE 'Night Shift %%' AND ladder_since IS NOT NULL"
        _wait(lambda: query(fault_db, placed)[0][0] == 3000 and query(fault_db, run)[0][0] == 0, 240,
              "the run did not resume to its end after the restart")  # fmt: skip
    finally:
        server.stop()
    assert_clean_log(tmp_path / "server.log")
    # nothing lost, nothing doubled: every customer placed, the two who bought once each (staying a
    # prospect is no move), nobody twice
    rows = query(
        fault_db,
        "SELECT p.name, count(h.id) FROM res_partner p JOIN crm_ladder_history h ON h.partner_id = p.id"
        " WHERE p.name LIKE 'Night Shift %%' GROUP BY p.name ORDER BY p.name",
    )
    assert rows == [("Night Shift 0007", 1), ("Night Shift 2999", 1)], rows
    assert query(
        fault_db, "SELECT ladder_stage, lifecycle_order_count FROM res_partner WHERE id IN %s ORDER BY id",
        (tuple(sorted((invoiced, pressed))),),
    ) == [("customer", 1), ("customer", 1)], "the invoice and the order, whenever they came, count"  # fmt: skip
