#!/usr/bin/env bash
# Lint: ruff (check and format) and pylint-odoo's mandatory checks (.pylintrc).
source "$(dirname "$0")/lib.sh"
[ -x "$VENV/bin/ruff" ] || { ensure_odoo; ensure_os_packages; ensure_venv; }
cd "$ROOT"
status=0
say "ruff check"; "$VENV/bin/ruff" check . || status=1
say "ruff format --check"; "$VENV/bin/ruff" format --check . || status=1
paths=$(for p in "$ADDON" tests bench; do ls "$p"/*.py >/dev/null 2>&1 && echo "$p"; done)
say "pylint-odoo"; "$VENV/bin/pylint" --rcfile=.pylintrc $paths || status=1
exit $status
