"""Shared pytest fixtures for the crm_lifecycle suite (run by pytest-odoo, see README.md)."""

import logging
import shutil

import pytest
import requests

import odoo
from odoo.modules import module as odoo_module

# pytest-odoo imports Odoo's test framework before it switches test mode on (it does so per test
# module, see its enable_odoo_test_flag fixture); Odoo then logs a misleading ERROR with a stack.
logging.getLogger("odoo.tests.common").addFilter(lambda record: "Importing test framework" not in record.msg)


@pytest.fixture(scope="session", autouse=True)
def odoo_test_mode():
    """Tell Odoo a test is running, as its own test loader does.

    pytest-odoo sets this only for Odoo 19; without it mail.mail and ir.mail_server try to reach
    an SMTP server.
    """
    odoo_module.current_test = True
    yield
    odoo_module.current_test = False


@pytest.fixture(scope="session", autouse=True)
def http_warm_up(request, load_http):
    """Serve one static file before any browser test sends parallel requests.

    The first requests compile templates; on CPython 3.11 that races in the `ast` module when
    several arrive at once.
    """
    if not request.config.getoption("--odoo-http"):
        return
    if not (shutil.which("chromium") or shutil.which("google-chrome")):
        pytest.fail("Chromium is not installed: browser tests would be skipped")
    try:
        import websocket  # noqa: F401  (Odoo's browser tests skip silently without it)
    except ImportError:
        pytest.fail("websocket-client is not installed: browser tests would be skipped")
    port = odoo.tools.config["http_port"]
    response = requests.get(f"http://127.0.0.1:{port}/web/static/img/favicon.ico", timeout=120)
    response.raise_for_status()
