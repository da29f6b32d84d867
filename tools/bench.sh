#!/usr/bin/env bash
# `make bench`: runs every benchmark in bench/, or one with its options:
#   bash tools/bench.sh bench/complaints.py --complaints 10000 --profile
# Each script builds its own database from the template, prints its figures, and drops it.
source "$(dirname "$0")/lib.sh"
ensure_all
ensure_base_db
export CRM_LIFECYCLE_CONF=$CONF CRM_LIFECYCLE_BASE_DB=$BASE_DB
if [ $# -gt 0 ]; then
    script=$1; shift
    [ -f "$script" ] || die "no benchmark $script"
    say "Benchmark $(basename "$script") $*"
    cd "$ROOT/bench" && exec "$PY" "$ROOT/$script" "$@"
fi
for script in "$ROOT"/bench/*.py; do
    case "$(basename "$script")" in benchlib.py) continue ;; esac
    say "Benchmark $(basename "$script")"
    (cd "$ROOT/bench" && "$PY" "$script") || exit 1
done
