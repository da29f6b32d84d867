#!/usr/bin/env bash
# `make run`: the demo database with the addon and its demo data, served on 127.0.0.1.
source "$(dirname "$0")/lib.sh"
ensure_all
ensure_base_db

hash=$(addon_hash)
if ! db_exists "$DEMO_DB" || [ ! -f "$BUILD/$DEMO_DB.hash" ]; then
    say "Creating the database $DEMO_DB"
    copy_db "$BASE_DB" "$DEMO_DB"
    install_addon "$DEMO_DB" "$DEMO_DB-install"
    echo "$hash" > "$BUILD/$DEMO_DB.hash"
elif [ "$(cat "$BUILD/$DEMO_DB.hash")" != "$hash" ]; then
    install_addon "$DEMO_DB" "$DEMO_DB-update"   # the addon changed: update it in place
    echo "$hash" > "$BUILD/$DEMO_DB.hash"
fi

say "Starting Odoo on http://127.0.0.1:$HTTP_PORT (Ctrl-C stops it)"
# Not through the odoo() function: $! must be Odoo's own PID for the trap below to stop it.
"$PY" "$ODOO_BIN" -c "$CONF" -d "$DEMO_DB" --db-filter="^$DEMO_DB\$" --http-port="$HTTP_PORT" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' INT TERM EXIT
for _ in $(seq 60); do
    curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/web/static/img/favicon.ico" && break
    kill -0 $server 2>/dev/null || die "Odoo stopped while starting (see the log above)"
    sleep 1
done
# The single static request above also warms Odoo up before the browser's parallel requests
# (CPython 3.11's ast module is not thread-safe while the first requests compile templates).
cat <<MSG

  Customer Lifecycle is running:  http://127.0.0.1:$HTTP_PORT
  Log in as  admin / admin   (manager)   or   demo / demo   (salesperson)
  Database:  $DEMO_DB

MSG
wait $server
