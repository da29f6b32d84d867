"""SQL pieces shared by the models' queries."""

from odoo.tools import SQL


def ordered_groupby(groupby_terms, ranked):
    """ORDER BY for the groups of a read_group, selection fields in their own order rather than by
    key: rungs up the ladder, tiers up the pyramid (alphabetically, "advocate" would come first).

    `groupby_terms`: {groupby spec: SQL expression} as `_read_group_orderby` receives them;
    `ranked`: {field name: [keys in order]}. None when no ranked field is grouped (then Odoo's
    own order applies).
    """
    if not ranked.keys() & groupby_terms.keys():
        return None
    terms = []
    for spec, expression in groupby_terms.items():
        keys = ranked.get(spec)
        if keys:
            cases = SQL(" ").join(SQL("WHEN %s THEN %s", key, rank) for rank, key in enumerate(keys))
            terms.append(SQL("CASE %s %s END", expression, cases))
        else:
            terms.append(expression)
    return SQL(", ").join(terms)
