"""Render the stored explanation data (see lib.ladder.classify) in the reader's language.

The functions take a renderer `r` with three methods: `r._(source, **params)` translates and fills a
template, `r.money(amount)` and `r.date(iso_date)` format values. `Renderer` is the plain English one
(for tests without a database); models/res_partner.py hands in one built on the environment.
Odoo has no plural forms: where a count can be 1, the singular has a template of its own.
"""

from odoo.tools.misc import format_date, formatLang


class Renderer:
    """English, no translation: what the templates say as written."""

    def _(self, source, **params):
        return source % params if params else source

    def money(self, amount):
        return f"{amount:,.2f}"

    def date(self, iso_date):
        return iso_date


class EnvRenderer(Renderer):
    """In the environment's language, amounts in `currency` (the figures' currency)."""

    def __init__(self, env, currency):
        self.env, self.currency = env, currency

    def _(self, source, **params):
        return self.env._(source, **params)

    def money(self, amount):
        if self.currency:
            return formatLang(self.env, amount, currency_obj=self.currency)
        return formatLang(self.env, amount)

    def date(self, iso_date):
        return format_date(self.env, iso_date)


def _fact(r, code, p):
    match code:
        case "no_sale":
            return r._("no confirmed sale or posted invoice yet")
        case "all_refunded":
            return r._("everything bought was refunded")
        case "order_one":
            return r._("1 order, on %(date)s", date=r.date(p["date"]))
        case "orders_months":
            if p["months"] == 1:
                return r._("%(count)s orders in 1 month", count=p["count"])
            return r._("%(count)s orders in %(months)s months", count=p["count"], months=p["months"])
        case "orders_days":
            if p["days"] == 0:
                return r._("%(count)s orders on one day", count=p["count"])
            if p["days"] == 1:
                return r._("%(count)s orders in 1 day", count=p["count"])
            return r._("%(count)s orders in %(days)s days", count=p["count"], days=p["days"])
        case "refunded":
            return r._("%(count)s refunded (not counted)", count=p["count"])
        case "since_kept":
            return r._("customer since %(date)s (an earlier purchase was refunded)", date=r.date(p["date"]))
        case "orders_12m":
            return r._("%(count)s in the last 12 months", count=p["count"])
        case "referrals":
            if p["count"] == 1:
                return r._("1 referral who became a customer")
            return r._("%(count)s referrals who became customers", count=p["count"])
        case "referrals_waiting":
            if p["count"] == 1:
                return r._("1 referral without a purchase kept yet")
            return r._("%(count)s referrals without a purchase kept yet", count=p["count"])
        case "complaints":
            if p["count"] == 1:
                return r._("1 open complaint")
            return r._("%(count)s open complaints", count=p["count"])
        case "overdue":
            return r._("%(amount)s overdue more than %(days)s days", amount=r.money(p["amount"]), days=p["days"])
        case "paid_on_time":
            return r._("paid on time")
        case "strategic":
            return r._("strategic partner")
        case "top_revenue":
            return r._("top %(top)s%% revenue", top=p["top"])
        case "manual":
            return r._(
                "set by %(user)s on %(date)s: %(reason)s",
                user=p["user"],
                date=r.date(p["date"]),
                reason=p["reason"],
            )
    return code


def _need(r, code, p):
    match code:
        case "need_sale":
            return r._("a confirmed sale or a posted invoice")
        case "need_orders":
            return r._("%(count)s orders on different days (now %(now)s)", count=p["count"], now=p["now"])
        case "need_tenure":
            if p["months"] == 1:
                return r._("1 month as a customer (now %(now)s)", now=p["now"])
            return r._("%(months)s months as a customer (now %(now)s)", months=p["months"], now=p["now"])
        case "need_orders_12m":
            return r._("%(count)s orders in the last 12 months (now %(now)s)", count=p["count"], now=p["now"])
        case "need_no_overdue":
            return r._(
                "nothing overdue more than %(days)s days (now %(amount)s)",
                days=p["days"],
                amount=r.money(p["amount"]),
            )
        case "need_no_complaints":
            return r._("no open complaint (now %(now)s)", now=p["now"])
        case "need_referrals":
            if p["count"] == 1:
                return r._("1 referral who became a customer (now %(now)s)", now=p["now"])
            return r._("%(count)s referrals who became customers (now %(now)s)", count=p["count"], now=p["now"])
        case "need_top_revenue":
            now = p["now"]
            if not now:
                return r._(
                    "top-%(percent)s%% revenue (now no revenue in 12 months) or the strategic flag",
                    percent=p["percent"],
                )
            if "bottom" in now:
                return r._(
                    "top-%(percent)s%% revenue (now bottom %(now)s%%) or the strategic flag",
                    percent=p["percent"],
                    now=now["bottom"],
                )
            return r._(
                "top-%(percent)s%% revenue (now top %(now)s%%) or the strategic flag",
                percent=p["percent"],
                now=now["top"],
            )
    return code


def _sentence(r, text):
    """Capitalized, with a full stop (both as the language writes them)."""
    return r._("%(sentence)s.", sentence=text[:1].upper() + text[1:])


def _listing(r, items, last_joiner=False):
    """ "a, b, c" (or "a, b and c"): punctuation-only terms cannot be translated in Odoo, so the
    separators are templates."""
    text = items[0]
    for index, item in enumerate(items[1:], start=2):
        if last_joiner and index == len(items):
            text = r._("%(list)s and %(item)s", list=text, item=item)
        else:
            text = r._("%(list)s, %(item)s", list=text, item=item)
    return text


def _sentences(r, parts):
    text = parts[0]
    for part in parts[1:]:
        text = r._("%(text)s %(sentence)s", text=text, sentence=part)
    return text


def render_ladder_reason(r, data, stage_labels):
    """ "5 orders in 14 months, 1 referral who became a customer, paid on time. Next rung, Partner:
    top-5% revenue (now top 22%) or the strategic flag." """
    if not data:
        return ""
    parts = []
    if manual := data.get("manual"):
        parts.append(_sentence(r, _fact(r, "manual", manual)))
        computed = data.get("computed_stage")
        if computed:
            parts.append(r._("The books alone say: %(stage)s.", stage=stage_labels.get(computed, computed)))
    facts = data.get("facts") or []
    if facts:
        parts.append(_sentence(r, _listing(r, [_fact(r, code, p) for code, p in facts])))
    nxt = data.get("next")
    if nxt and nxt.get("needs"):
        needs = _listing(r, [_need(r, code, p) for code, p in nxt["needs"]], last_joiner=True)
        stage = stage_labels.get(nxt["stage"], nxt["stage"])
        parts.append(r._("Next rung, %(stage)s: %(needs)s.", stage=stage, needs=needs))
    elif facts and not data.get("manual"):
        parts.append(r._("Top rung."))
    return _sentences(r, parts) if parts else ""


def render_tier_reason(r, data):
    tier = (data or {}).get("tier")
    if not tier:
        return ""
    code, p = tier
    amount = r.money(p["amount"])
    if code == "tier_margin" and "bottom" in p:
        text = r._(
            "Margin over the last 12 months: %(amount)s (bottom %(bottom)s%% of customers).",
            amount=amount,
            bottom=p["bottom"],
        )
    elif code == "tier_margin":
        text = r._(
            "Margin over the last 12 months: %(amount)s (top %(top)s%% of customers).", amount=amount, top=p["top"]
        )
    elif code == "tier_margin_unranked":
        text = r._("Margin over the last 12 months: %(amount)s (not ranked among the customers yet).", amount=amount)
    else:
        text = r._("No positive margin over the last 12 months (%(amount)s).", amount=amount)
    credits = p.get("credits")
    if credits:
        rule = (
            r._("1 credit note in 12 months: a price reduction lowers the margin, a return gives the cost back.")
            if credits == 1
            else r._(
                "%(count)s credit notes in 12 months: a price reduction lowers the margin, a return gives the cost"
                " back.",
                count=credits,
            )
        )
        text = _sentences(r, [text, rule])
    return text


def render_relationship_reason(r, data):
    checks = (data or {}).get("relationship")
    if not checks:
        return ""
    texts = []
    for code, p, ok in checks:
        match code:
            case "rel_tenure":
                if p["months"] == 1:
                    text = r._("1 month as a customer (needs %(min)s)", min=p["min"])
                else:
                    text = r._("%(months)s months as a customer (needs %(min)s)", months=p["months"], min=p["min"])
            case "rel_rate":
                text = r._("%(rate)s orders a year (needs %(min)s)", rate=p["rate"], min=p["min"])
            case _:
                if p["count"] == 1:
                    text = r._("1 contact engaged (needs %(min)s)", min=p["min"])
                else:
                    text = r._("%(count)s contacts engaged (needs %(min)s)", count=p["count"], min=p["min"])
        texts.append(("✓ " if ok else "✗ ") + text)
    return r._("Two of three make a relationship customer: %(checks)s.", checks=_listing(r, texts))


def _churn_factor(r, code, p):
    match code:
        case "recency":
            return r._("no order for %(days)s days, usually every %(usual)s", days=p["days"], usual=p["usual"])
        case "trend":
            return r._("revenue down %(drop)s%% on the 6 months before", drop=p["drop"])
        case "overdue":
            return r._("%(amount)s overdue", amount=r.money(p["amount"]))
        case "complaints":
            parts = []
            if p["open"]:
                parts.append(
                    r._("1 open complaint") if p["open"] == 1 else r._("%(count)s open complaints", count=p["open"])
                )
            if p["serious"]:
                parts.append(
                    r._("1 serious complaint in 12 months")
                    if p["serious"] == 1
                    else r._("%(count)s serious complaints in 12 months", count=p["serious"])
                )
            return _listing(r, parts)
        case "rating":
            return r._("satisfaction %(rating)s of 5", rating=p["rating"])
        case "no_contact":
            if p["days"] is None:
                return r._("no contact from us yet")
            return r._("no contact from us for %(days)s days", days=p["days"])
    return code


def render_churn_reason(r, data):
    """ "No order for 120 days, usually every 30 (35 points), 1 open complaint... (8 points)." """
    factors = (data or {}).get("factors")
    if not factors:
        return r._("Nothing points to the customer leaving.")
    items = [
        r._("%(factor)s (1 point)", factor=_churn_factor(r, code, p))
        if p["points"] == 1
        else r._("%(factor)s (%(points)s points)", factor=_churn_factor(r, code, p), points=p["points"])
        for code, p in factors
    ]
    return _sentence(r, _listing(r, items))
