# crm_lifecycle developer commands. Odoo is found through ODOO_PATH (default /opt/odoo18).
.PHONY: run test test-odoo lint i18n bench clean help
SHELL := /bin/bash

help:
	@echo "make run    set up everything, then serve the demo database on http://127.0.0.1:8069"
	@echo "make test   set up everything, fresh test database, whole test suite (browser tests included) and lint"
	@echo "make test-odoo  Odoo's crm, sale_crm, invoice, refund and payment tests with the addon (about 10 minutes)"
	@echo "make lint   ruff, ruff-format and pylint-odoo's mandatory checks"
	@echo "make i18n   export crm_lifecycle.pot from a real database and merge it into zh_CN.po"
	@echo "make bench  run the benchmarks under bench/ (large data, minutes)"
	@echo "make clean  drop the databases and remove the virtual environment and build files"

run:
	@bash tools/run.sh

test:
	@bash tools/test.sh

test-odoo:
	@bash tools/test_odoo.sh

lint:
	@bash tools/lint.sh

i18n:
	@bash tools/i18n.sh

bench:
	@bash tools/bench.sh

clean:
	@bash tools/clean.sh
