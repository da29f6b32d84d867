#!/usr/bin/env bash
# `make test`: set-up, a fresh test database with the addon installed (install log must be clean),
# the whole pytest-odoo suite with an HTTP server for browser tests, then lint.
# Extra arguments go to pytest (e.g. `bash tools/test.sh tests/test_ladder.py -k refund`).
source "$(dirname "$0")/lib.sh"
ensure_all
ensure_base_db

# Browser tests are skipped by Odoo, not failed, when these are missing: refuse to start instead.
command -v chromium >/dev/null || command -v google-chrome >/dev/null || die "Chromium is not installed: browser tests cannot run"
"$PY" -c "import websocket" || die "websocket-client is missing from $VENV: browser tests cannot run"

say "Fresh test database $TEST_DB"
copy_db "$BASE_DB" "$TEST_DB"
install_addon "$TEST_DB" "$TEST_DB-install"

status=0
say "pytest-odoo"
junit=$BUILD/junit.xml
rm -f "$junit"
CRM_LIFECYCLE_CONF=$CONF CRM_LIFECYCLE_BASE_DB=$BASE_DB \
"$PY" -m pytest "$ROOT/tests" --odoo-config="$CONF" --odoo-database="$TEST_DB" --odoo-http \
    --odoo-log-level=warn -p no:cacheprovider -ra --junitxml="$junit" "$@" || status=1

# A skipped test is a test that did not run: Odoo skips browser tests when Chromium fails to
# start, so any skip fails the run.
if [ -f "$junit" ]; then
    skipped=$("$PY" - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
for case in ET.parse(sys.argv[1]).iter("testcase"):
    for skip in case.iter("skipped"):
        print(f"{case.get('classname')}.{case.get('name')}: {skip.get('message')}")
PY
)
    if [ -n "$skipped" ]; then
        echo "$skipped" >&2
        printf '\033[31mERROR: tests were skipped (above); every test must run\033[0m\n' >&2
        status=1
    fi
else
    status=1
fi

bash "$ROOT/tools/lint.sh" || status=1

# The whole run (no pytest arguments, as CI runs it) also checks that Odoo's own crm and
# sale_crm suites still pass with the addon installed.
if [ $# -eq 0 ]; then
    bash "$ROOT/tools/test_odoo.sh" || status=1
fi
[ $status -eq 0 ] && say "All tests and checks passed" || printf '\033[31mFAILED\033[0m\n' >&2
exit $status
