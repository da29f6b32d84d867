# Shared set-up steps for `make run`, `make test` and `make i18n`. Sourced, not executed.
# Every step is idempotent: it checks what exists and does only what is missing, so a second run
# with nothing changed costs a few seconds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_PATH=${ODOO_PATH:-/opt/odoo18}
BUILD=${BUILD:-$ROOT/.build}
VENV=${VENV:-$ROOT/.venv}
PY=$VENV/bin/python
ODOO_BIN=$ODOO_PATH/odoo-bin
CONF=$BUILD/odoo.conf
ADDON=crm_lifecycle

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-crm_lifecycle}
PGPASSWORD=${PGPASSWORD:-crm_lifecycle}
export PGHOST PGPORT PGUSER PGPASSWORD

DEMO_DB=${DEMO_DB:-crm_lifecycle_demo}
TEST_DB=${TEST_DB:-crm_lifecycle_test}
HTTP_PORT=${HTTP_PORT:-8069}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# As the postgres superuser over the local socket (peer auth), without the project's PG* settings.
as_postgres() {
    local clean=(env -u PGHOST -u PGUSER -u PGPASSWORD)
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "${clean[@]}" "$@"; else sudo -u postgres "${clean[@]}" "$@"; fi
}

# --- Odoo source -------------------------------------------------------------------------------
ensure_odoo() {
    if [ ! -x "$ODOO_BIN" ] && [ ! -f "$ODOO_BIN" ]; then
        if command -v git >/dev/null && timeout 15 git ls-remote --heads https://github.com/odoo/odoo 18.0 >/dev/null 2>&1; then
            say "No Odoo at $ODOO_PATH: shallow-cloning the official 18.0 branch there"
            git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo "$ODOO_PATH"
        else
            die "Odoo 18.0 source not found at $ODOO_PATH and GitHub is unreachable: set ODOO_PATH to the directory of an Odoo 18.0 checkout (the one containing odoo-bin)."
        fi
    fi
    grep -q "^version_info = (18, 0" "$ODOO_PATH/odoo/release.py" \
        || die "$ODOO_PATH is not Odoo 18.0 (see $ODOO_PATH/odoo/release.py): set ODOO_PATH to an Odoo 18.0 checkout."
}

# --- OS packages -------------------------------------------------------------------------------
# postgresql: the database; libpq/ldap/sasl headers: psycopg2 and python-ldap build from source;
# chromium: browser tests; gettext: msgmerge for `make i18n`.
OS_PACKAGES="postgresql libpq-dev libldap2-dev libsasl2-dev chromium gettext"

ensure_os_packages() {
    local missing=""
    for pkg in $OS_PACKAGES; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
        command -v apt-get >/dev/null || die "Missing OS packages:$missing. Install them with your package manager (the tooling knows apt only)."
        say "Installing OS packages:$missing"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
}

# --- PostgreSQL --------------------------------------------------------------------------------
ensure_postgres() {
    if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
        say "Creating a PostgreSQL cluster"
        local ver
        ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
        as_root pg_createcluster "$ver" main -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    fi
    # Start the first cluster if it is down (Debian's default listens on localhost only).
    read -r ver name port status _ < <(pg_lsclusters -h | head -1)
    if [ "$status" != "online" ]; then
        say "Starting PostgreSQL $ver/$name"
        as_root pg_ctlcluster "$ver" "$name" start
    fi
    PGPORT=$port
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p "$PGPORT" && break; sleep 1; done
    pg_isready -q -h 127.0.0.1 -p "$PGPORT" || die "PostgreSQL does not answer on 127.0.0.1:$PGPORT"
    if ! as_postgres psql -p "$PGPORT" -tAc "SELECT 1 FROM pg_roles WHERE rolname='$PGUSER'" | grep -q 1; then
        say "Creating PostgreSQL role $PGUSER"
        as_postgres psql -q -p "$PGPORT" -c "CREATE ROLE \"$PGUSER\" LOGIN CREATEDB PASSWORD '$PGPASSWORD'"
    fi
}

# --- Python virtual environment ------------------------------------------------------------------
ensure_venv() {
    local stamp want
    want=$({ echo "$ODOO_PATH"; cat "$ODOO_PATH/requirements.txt" "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" "$ROOT/tools/build-constraints.txt"; } | sha256sum | cut -c1-16)
    stamp=$VENV/.crm_lifecycle-stamp
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
    say "Building the virtual environment $VENV (Odoo 18 requirements + test tools, a few minutes)"
    mkdir -p "$BUILD"
    local log=$BUILD/pip.log
    [ -x "$PY" ] || python3 -m venv "$VENV"
    if ! { "$PY" -m pip install --disable-pip-version-check -U "pip>=25.3" \
        && "$PY" -m pip install --disable-pip-version-check \
            --build-constraint "$ROOT/tools/build-constraints.txt" \
            -r "$ODOO_PATH/requirements.txt" -r "$ROOT/requirements.txt" -r "$ROOT/requirements-dev.txt"; } >"$log" 2>&1; then
        grep -v "^WARNING: Location" "$log" | tail -30
        die "installing the Python requirements failed (full output in $log)"
    fi
    # Odoo is imported from its source tree (pytest, scripts); nothing is installed into it.
    "$PY" -c "import site; print('$ODOO_PATH', file=open(site.getsitepackages()[0] + '/odoo-source.pth', 'w'))"
    "$PY" -c "import odoo, websocket, phonenumbers, pytest_odoo, holidays, numpy, scipy, lifetimes" || die "the virtual environment is incomplete (see $log)"
    echo "$want" > "$stamp"
}

# --- Odoo configuration ----------------------------------------------------------------------------
write_conf() {
    mkdir -p "$BUILD/data"
    cat > "$CONF.tmp" <<EOF
[options]
addons_path = $ODOO_PATH/addons,$ODOO_PATH/odoo/addons,$ROOT
data_dir = $BUILD/data
db_host = $PGHOST
db_port = $PGPORT
db_user = $PGUSER
db_password = $PGPASSWORD
http_interface = 127.0.0.1
http_port = $HTTP_PORT
gevent_port = $((HTTP_PORT + 3))
list_db = False
max_cron_threads = 1
EOF
    if ! cmp -s "$CONF.tmp" "$CONF"; then mv "$CONF.tmp" "$CONF"; else rm "$CONF.tmp"; fi
}

ensure_all() {
    ensure_odoo
    ensure_os_packages
    ensure_postgres
    ensure_venv
    write_conf
}

odoo() { "$PY" "$ODOO_BIN" -c "$CONF" "$@"; }

# --- Databases -------------------------------------------------------------------------------------
db_exists() { psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$1'" | grep -q 1; }

drop_db() {
    if db_exists "$1"; then dropdb --force "$1"; fi
    rm -rf "$BUILD/data/filestore/$1"
}

copy_db() { # copy_db SOURCE TARGET: a database and its filestore
    drop_db "$2"
    # PostgreSQL refuses to copy a template another session is copying at the same moment
    local try
    for try in 1 2 3 4 5 6; do
        createdb -T "$1" "$2" 2>/dev/null && break
        [ "$try" -eq 6 ] && createdb -T "$1" "$2"  # last try: show the error
        sleep 5
    done
    if [ -d "$BUILD/data/filestore/$1" ]; then
        mkdir -p "$BUILD/data/filestore"
        cp -a "$BUILD/data/filestore/$1" "$BUILD/data/filestore/$2"
    fi
}

# The Odoo modules the addon depends on, read from its manifest.
addon_depends() { "$PY" -c "import ast,sys; print(','.join(ast.literal_eval(open(sys.argv[1]).read())['depends']))" "$ROOT/$ADDON/__manifest__.py"; }

# Fingerprint of the addon's files: decides whether a database must be updated.
addon_hash() { (cd "$ROOT" && find "$ADDON" -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16; }

# A template database with the addon's Odoo dependencies (and their demo data) installed. It is
# the slow part of every set-up (about 2 minutes), so it is built once per Odoo source and
# dependency list and copied from then on.
ensure_base_db() {
    local deps odoo_rev key
    deps=$(addon_depends)
    odoo_rev=$(cat "$ODOO_PATH/odoo/release.py" | sha256sum | cut -c1-8)
    key=$(echo "$deps $odoo_rev $(ls "$ODOO_PATH/addons" | sha256sum)" | sha256sum | cut -c1-10)
    BASE_DB=crm_lifecycle_base_$key
    if db_exists "$BASE_DB" && [ -f "$BUILD/$BASE_DB.ok" ]; then return; fi
    # Drop stale templates of other dependency lists.
    for old in $(psql -d postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'crm_lifecycle_base_%'"); do
        drop_db "$old"; rm -f "$BUILD/$old.ok"
    done
    say "Building the template database $BASE_DB with $deps (about 2 minutes, once)"
    local log=$BUILD/$BASE_DB.log
    : > "$log"
    if ! odoo -d "$BASE_DB" -i "$deps" --stop-after-init --log-level=info --logfile="$log"; then
        tail -40 "$log"; die "installing $deps failed, see $log"
    fi
    check_log "$log"
    touch "$BUILD/$BASE_DB.ok"
}

# Fails on any ERROR or CRITICAL line in an Odoo log; with "strict", on any WARNING too (used for
# the addon's own install, whose log holds nothing but the addon's loading).
check_log() {
    local levels="ERROR|CRITICAL"
    [ "${2:-}" = strict ] && levels="WARNING|ERROR|CRITICAL"
    local bad
    bad=$(grep -E "^[0-9-]+ [0-9:,]+ [0-9]+ ($levels) " "$1" || true)
    if [ -n "$bad" ]; then
        echo "$bad" | cut -c1-400 | head -40 >&2
        die "the Odoo log $1 has errors or warnings (above)"
    fi
}

# install_addon DB LOGNAME: installs the addon on DB (or updates it if already installed).
install_addon() {
    local db=$1 log=$BUILD/$2.log action=-i
    if psql -d "$db" -tAc "SELECT 1 FROM ir_module_module WHERE name='$ADDON' AND state='installed'" 2>/dev/null | grep -q 1; then
        action=-u
    fi
    say "Installing $ADDON on $db"
    : > "$log"  # Odoo appends to a log file: start empty so that old errors are not read again
    if ! odoo -d "$db" $action "$ADDON" --stop-after-init --log-level=info --logfile="$log"; then
        tail -40 "$log"; die "installing $ADDON on $db failed, see $log"
    fi
    check_log "$log" strict
}
