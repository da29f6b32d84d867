"""SQL pieces shared by the models' queries."""

from odoo.tools import SQL


def ordered_groupby(order, groupby_terms, ranked, default):
    """ORDER BY for the groups of a read_group, selection fields in their own order rather than by
    key: rungs up the ladder, tiers up the pyramid (alphabetically, "advocate" would come first).

    `order` and `groupby_terms` as `_read_group_orderby` receives them ({groupby spec: SQL}),
    `ranked`: {field name: [keys in order]}, `default(part)`: Odoo's own SQL for one part of the
    order. None when no part orders by a ranked field (then Odoo's own order applies).
    """
    parts = [part.strip() for part in (order or ",".join(groupby_terms)).split(",") if part.strip()]
    if not any(part.split()[0] in ranked for part in parts):
        return None
    terms = []
    for part in parts:
        words = part.split()
        spec, direction = words[0], (words[1].upper() if len(words) > 1 else "ASC")
        if spec in ranked and spec in groupby_terms and len(words) <= 2 and direction in ("ASC", "DESC"):
            cases = SQL(" ").join(SQL("WHEN %s THEN %s", key, rank) for rank, key in enumerate(ranked[spec]))
            terms.append(SQL("CASE %s %s END %s", groupby_terms[spec], cases, SQL(direction)))
        else:
            terms.append(default(part))
    return SQL(", ").join(terms)
