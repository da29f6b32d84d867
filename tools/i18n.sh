#!/usr/bin/env bash
# `make i18n`: exports crm_lifecycle.pot from a real database with the addon installed, then
# merges it into every .po file (new terms arrive untranslated; removed ones are dropped).
source "$(dirname "$0")/lib.sh"
ensure_all
ensure_base_db
DB=crm_lifecycle_i18n
hash=$(addon_hash)
if ! db_exists "$DB" || [ ! -f "$BUILD/$DB.hash" ]; then
    copy_db "$BASE_DB" "$DB"
    install_addon "$DB" "$DB-install"
elif [ "$(cat "$BUILD/$DB.hash")" != "$hash" ]; then
    install_addon "$DB" "$DB-update"
fi
echo "$hash" > "$BUILD/$DB.hash"

I18N=$ROOT/$ADDON/i18n
say "Exporting $I18N/$ADDON.pot"
odoo -d "$DB" --i18n-export="$I18N/$ADDON.pot" --modules="$ADDON" --stop-after-init --log-level=warn
for po in "$I18N"/*.po; do
    [ -f "$po" ] || continue
    say "Merging into $(basename "$po")"
    msgmerge --quiet --update --backup=none --no-fuzzy-matching --no-wrap "$po" "$I18N/$ADDON.pot"
    msgattrib --no-obsolete --no-wrap -o "$po" "$po"
    untranslated=$(msgattrib --untranslated "$po" | grep -c '^msgid ' || true)
    # msgattrib counts the header's empty msgid too
    [ "$untranslated" -gt 1 ] && echo "  $((untranslated - 1)) terms to translate in $(basename "$po")"
done
true
