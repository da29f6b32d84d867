#!/usr/bin/env bash
# `make bench`: runs every benchmark in bench/ (or those named: `bash tools/bench.sh bench/ladder.py`).
# Each script builds its own database from the template, prints its figures, and drops it.
source "$(dirname "$0")/lib.sh"
ensure_all
ensure_base_db
scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || scripts=("$ROOT"/bench/*.py)
for script in "${scripts[@]}"; do
    [ -f "$script" ] || continue
    say "Benchmark $(basename "$script")"
    CRM_LIFECYCLE_CONF=$CONF CRM_LIFECYCLE_BASE_DB=$BASE_DB "$PY" "$script"
done
