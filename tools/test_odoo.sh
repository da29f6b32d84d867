#!/usr/bin/env bash
# `make test-odoo`: Odoo's own crm and sale_crm test suites, and its sale and account tests of
# invoices, credit notes and payments (the books the addon reads and hooks into), run with
# crm_lifecycle installed: installing the addon must not change how Odoo behaves. About 10 minutes.
source "$(dirname "$0")/lib.sh"
ensure_all
# A new database: Odoo runs the tests of the modules installed in the same run, so crm and
# sale_crm must be installed here, together with the addon (not copied from the template).
DB=crm_lifecycle_odoo_tests
drop_db "$DB"
log=$BUILD/$DB.log
: > "$log"
BOOKS="/account:TestAccountMoveOutInvoiceOnchanges,/account:TestAccountMoveOutRefundOnchanges"
BOOKS+=",/account:TestAccountPayment,/account:TestAccountPaymentRegister,/account:TestAccountMovePaymentsWidget"
BOOKS+=",/sale:TestSaleToInvoice,/sale:TestSaleRefund"
say "Odoo's crm and sale_crm suites, its invoice, refund and payment tests, with $ADDON installed (log: $log)"
status=0
odoo -d "$DB" -i "$ADDON,sale_crm" --test-enable --test-tags "/crm,/sale_crm,$BOOKS" --stop-after-init \
    --log-level=test --logfile="$log" || status=1
result=$(grep -E "odoo.tests.result: " "$log" | tail -1)
echo "${result#* odoo.tests.result: }"
ran=$(echo "$result" | grep -oE "of [0-9]+ tests" | grep -oE "[0-9]+" || echo 0)
echo "$result" | grep -q "0 failed, 0 error(s)" || status=1
[ "${ran:-0}" -ge 280 ] || { echo "expected Odoo's crm and sale_crm suites and the books' tests (289 tests), ran ${ran:-0}" >&2; status=1; }
if grep -qE "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$log"; then
    grep -E "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$log" | cut -c1-300 | head -20 >&2
    status=1
fi
drop_db "$DB"
[ $status -eq 0 ] && say "Odoo's crm, sale_crm and books' tests pass with $ADDON installed" || printf '\033[31mFAILED\033[0m\n' >&2
exit $status
