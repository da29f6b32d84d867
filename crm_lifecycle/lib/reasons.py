"""Render the stored explanation data (see lib.ladder.classify) in the reader's language."""

from odoo.tools.misc import format_date, formatLang


def _money(env, amount, currency):
    return formatLang(env, amount, currency_obj=currency) if currency else formatLang(env, amount)


def _fact(env, code, p, currency):
    match code:
        case "no_sale":
            return env._("no confirmed sale or posted invoice yet")
        case "all_refunded":
            return env._("everything invoiced was refunded")
        case "order_one":
            return env._("1 order, on %(date)s", date=format_date(env, p["date"]))
        case "orders_months":
            return env._("%(count)s orders in %(months)s months", count=p["count"], months=p["months"])
        case "orders_days":
            return env._("%(count)s orders in %(days)s days", count=p["count"], days=p["days"])
        case "refunded":
            return env._("%(count)s refunded", count=p["count"])
        case "orders_12m":
            return env._("%(count)s in the last 12 months", count=p["count"])
        case "referrals":
            if p["count"] == 1:
                return env._("1 referral")
            return env._("%(count)s referrals", count=p["count"])
        case "complaints":
            if p["count"] == 1:
                return env._("1 open complaint")
            return env._("%(count)s open complaints", count=p["count"])
        case "overdue":
            return env._(
                "%(amount)s overdue more than %(days)s days", amount=_money(env, p["amount"], currency), days=p["days"]
            )
        case "paid_on_time":
            return env._("paid on time")
        case "strategic":
            return env._("strategic partner")
        case "top_revenue":
            return env._("top %(top)s%% revenue", top=p["top"])
        case "manual":
            return env._(
                "set by %(user)s on %(date)s: %(reason)s",
                user=p["user"],
                date=format_date(env, p["date"]),
                reason=p["reason"],
            )
    return code


def _need(env, code, p, currency):
    match code:
        case "need_sale":
            return env._("a confirmed sale or a posted invoice")
        case "need_orders":
            return env._("%(count)s orders on different days (now %(now)s)", count=p["count"], now=p["now"])
        case "need_tenure":
            return env._("%(months)s months as a customer (now %(now)s)", months=p["months"], now=p["now"])
        case "need_orders_12m":
            return env._("%(count)s orders in the last 12 months (now %(now)s)", count=p["count"], now=p["now"])
        case "need_no_overdue":
            return env._(
                "nothing overdue more than %(days)s days (now %(amount)s)",
                days=p["days"],
                amount=_money(env, p["amount"], currency),
            )
        case "need_no_complaints":
            return env._("no open complaint (now %(now)s)", now=p["now"])
        case "need_referrals":
            if p["count"] == 1:
                return env._("1 referral who became a customer (now %(now)s)", now=p["now"])
            return env._("%(count)s referrals who became customers (now %(now)s)", count=p["count"], now=p["now"])
        case "need_top_revenue":
            if p["now"] is None:
                return env._(
                    "top-%(percent)s%% revenue (now no revenue in 12 months) or the strategic flag",
                    percent=p["percent"],
                )
            return env._(
                "top-%(percent)s%% revenue (now top %(now)s%%) or the strategic flag",
                percent=p["percent"],
                now=p["now"],
            )
    return code


def _sentence(env, text):
    """Capitalized, with a full stop (both as the language writes them)."""
    return env._("%(sentence)s.", sentence=text[:1].upper() + text[1:])


def _listing(env, items, last_joiner=False):
    """ "a, b, c" (or "a, b and c"): punctuation-only terms cannot be translated in Odoo, so the
    separators are templates."""
    text = items[0]
    for index, item in enumerate(items[1:], start=2):
        if last_joiner and index == len(items):
            text = env._("%(list)s and %(item)s", list=text, item=item)
        else:
            text = env._("%(list)s, %(item)s", list=text, item=item)
    return text


def _sentences(env, parts):
    text = parts[0]
    for part in parts[1:]:
        text = env._("%(text)s %(sentence)s", text=text, sentence=part)
    return text


def render_ladder_reason(env, data, currency, stage_labels):
    """ "5 orders in 14 months, 1 referral, paid on time. Next: partner needs top-5% revenue (now top 22%)." """
    if not data:
        return ""
    parts = []
    if manual := data.get("manual"):
        parts.append(_sentence(env, _fact(env, "manual", manual, currency)))
        computed = data.get("computed_stage")
        if computed:
            parts.append(env._("The books alone say: %(stage)s.", stage=stage_labels.get(computed, computed)))
    facts = data.get("facts") or []
    if facts:
        parts.append(_sentence(env, _listing(env, [_fact(env, code, p, currency) for code, p in facts])))
    nxt = data.get("next")
    if nxt and nxt.get("needs"):
        needs = _listing(env, [_need(env, code, p, currency) for code, p in nxt["needs"]], last_joiner=True)
        stage = stage_labels.get(nxt["stage"], nxt["stage"]).lower()
        parts.append(env._("Next: %(stage)s needs %(needs)s.", stage=stage, needs=needs))
    elif facts and not data.get("manual"):
        parts.append(env._("Top rung."))
    return _sentences(env, parts) if parts else ""


def render_tier_reason(env, data, currency):
    tier = (data or {}).get("tier")
    if not tier:
        return ""
    code, p = tier
    if code == "tier_margin":
        return env._(
            "Margin over the last 12 months: %(amount)s (top %(top)s%% of customers).",
            amount=_money(env, p["amount"], currency),
            top=p["top"],
        )
    return env._("No positive margin over the last 12 months (%(amount)s).", amount=_money(env, p["amount"], currency))


def render_relationship_reason(env, data):
    checks = (data or {}).get("relationship")
    if not checks:
        return ""
    texts = []
    for code, p, ok in checks:
        match code:
            case "rel_tenure":
                text = env._("%(months)s months as a customer (needs %(min)s)", months=p["months"], min=p["min"])
            case "rel_rate":
                text = env._("%(rate)s orders a year (needs %(min)s)", rate=p["rate"], min=p["min"])
            case _:
                text = env._("%(count)s contacts engaged (needs %(min)s)", count=p["count"], min=p["min"])
        texts.append(("✓ " if ok else "✗ ") + text)
    return env._("Two of three make a relationship customer: %(checks)s.", checks=_listing(env, texts))
