#!/usr/bin/env bash
# Prepares the machine: Odoo source check, OS packages, PostgreSQL, the virtual environment.
source "$(dirname "$0")/lib.sh"
ensure_all
