#!/usr/bin/env bash
# `make clean`: drops the project's databases and removes .venv and .build.
source "$(dirname "$0")/lib.sh"
if pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null && psql -d postgres -tAc "SELECT 1" >/dev/null 2>&1; then
    for db in $(psql -d postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'crm_lifecycle%'"); do
        say "Dropping database $db"; dropdb --force "$db"
    done
fi
rm -rf "$BUILD" "$VENV" "$ROOT/.pytest_cache" "$ROOT/.ruff_cache"
say "Clean: the next make run or make test rebuilds everything"
