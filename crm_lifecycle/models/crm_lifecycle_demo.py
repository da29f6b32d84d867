from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models

# (partner xml id, [(months ago, product key, quantity, paid?)], refund the last invoice?)
DEMO_BOOKS = [
    ("res_partner_blue_ridge_demo", [(2, "day", 2, True)], False),
    ("res_partner_northwind_demo", [(5, "day", 1, True), (2, "kit", 4, True)], False),
    (
        "res_partner_maple_leaf_demo",
        [(18, "kit", 6, True), (10, "day", 2, True), (7, "kit", 8, True), (4, "day", 3, True), (1, "kit", 5, True)],
        False,
    ),
    (
        "res_partner_sunrise_dental_demo",
        [(20, "day", 3, True), (11, "kit", 4, True), (6, "day", 2, True), (2, "kit", 6, True)],
        False,
    ),
    ("res_partner_riverbend_cafe_demo", [(3, "kit", 2, True)], False),
    (
        "res_partner_golden_gate_demo",
        [(24, "day", 20, True), (9, "day", 30, True), (5, "kit", 60, True), (2, "day", 40, True)],
        False,
    ),
    (
        "res_partner_crescent_demo",
        [(15, "day", 2, True), (8, "kit", 3, True), (5, "day", 2, True), (1, "kit", 2, True)],
        False,
    ),
    # a former supporter with an invoice unpaid for three months: held back at client
    (
        "res_partner_evergreen_demo",
        [(16, "day", 2, True), (9, "kit", 4, True), (6, "day", 2, True), (3, "kit", 5, False)],
        False,
    ),
    # bought once, then everything was refunded: back to prospect
    ("res_partner_pinecrest_demo", [(4, "day", 3, True)], True),
    # sold below cost: a customer on the lowest tier
    ("res_partner_silverline_demo", [(3, "promo", 40, True), (1, "promo", 30, True)], False),
]
DEMO_PRODUCTS = {
    "day": "crm_lifecycle.product_consulting_day_demo",
    "kit": "crm_lifecycle.product_equipment_kit_demo",
    "promo": "crm_lifecycle.product_promotional_bundle_demo",
}


# (customer, subject, type, category, severity, channel, working hours ago, outcome, rating)
DEMO_COMPLAINTS = [
    ("res_partner_silverline_demo", "Promotional bundles delivered with missing items", "complaint", "product",
     "critical", "email", 30, "open", None),
    ("res_partner_evergreen_demo", "Invoice received twice", "complaint", "price", "normal", "phone", 7, "open", None),
    ("res_partner_northwind_demo", "Consulting day cancelled at short notice", "complaint", "service", "high",
     "phone", 12, "review", None),
    ("res_partner_blue_ridge_demo", "Extra training session for new staff", "request", "service", "low", "portal",
     0, "open", None),
    ("res_partner_golden_gate_demo", "Equipment kit arrived a week late", "complaint", "delivery", "normal", "email",
     20, "resolved", 5),
    ("res_partner_maple_leaf_demo", "Wrong contact person on the invoices", "request", "other", "low", "phone", 30,
     "resolved", 3),
]  # fmt: skip


# where the demo customers are (their cities): the holiday care rules greet them by country and state
DEMO_PLACES = {
    "res_partner_harbor_bakery_demo": ("US", "OR"),
    "res_partner_lotus_tea_demo": ("CN", None),
    "res_partner_blue_ridge_demo": ("US", "NC"),
    "res_partner_northwind_demo": ("US", "WA"),
    "res_partner_maple_leaf_demo": ("CA", "ON"),
    "res_partner_sunrise_dental_demo": ("CN", None),
    "res_partner_riverbend_cafe_demo": ("CN", None),
    "res_partner_golden_gate_demo": ("US", "CA"),
    "res_partner_crescent_demo": ("CN", None),
}
DEMO_FIRST_NAMES = ["Emma", "Liam", "Wang Fang", "Noah", "Li Na", "Olivia", "Zhang Wei", "Ava", "Chen Jing", "Mason",
                    "Sophia", "Liu Yang", "Lucas", "Mia", "Zhao Lei", "Ethan", "Huang Min", "Amelia"]  # fmt: skip


class CrmLifecycleDemo(models.AbstractModel):
    _name = "crm.lifecycle.demo"
    _description = "Customer Lifecycle demo data"

    @api.model
    def _create_demo_books(self):
        """Real confirmed orders, posted invoices, payments and a refund, dated over two years; then the
        ladder as it moved over those two years (each move dated when the books made it)."""
        company = self.env.company
        if not self.env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1):
            return  # no chart of accounts: nothing can be invoiced
        today = fields.Date.context_today(self)
        self = self.with_context(lifecycle_defer=True)  # computed below, day by day, not per document
        products = {key: self.env.ref(xmlid) for key, xmlid in DEMO_PRODUCTS.items()}
        first_day, days = {}, {today}
        for xmlid, orders, refund in DEMO_BOOKS:
            partner = self.env.ref(f"crm_lifecycle.{xmlid}")
            first_day[partner] = today - relativedelta(months=max(months for months, *_rest in orders))
            buyer = partner.child_ids[:1]
            invoice = None
            for index, (months_ago, product_key, quantity, paid) in enumerate(orders):
                day = today - relativedelta(months=months_ago)
                order = self.env["sale.order"].create(
                    {
                        # a second contact buys now and then: a relationship with several people
                        "partner_id": (buyer if buyer and index % 2 else partner).id,
                        "order_line": [
                            Command.create({"product_id": products[product_key].id, "product_uom_qty": quantity})
                        ],
                    }
                )
                order.action_confirm()
                order.date_order = fields.Datetime.to_datetime(day)
                invoice = order._create_invoices()
                # without payment terms Odoo keeps the due date it had: set both, 30 days apart
                invoice.write({"invoice_date": day, "invoice_date_due": day + relativedelta(days=30)})
                invoice.action_post()
                days |= {day, day + relativedelta(days=61)}  # bought; and overdue, if it was not paid
                if paid:
                    wizard = (
                        self.env["account.payment.register"]
                        .with_context(active_model="account.move", active_ids=invoice.ids)
                        .create({"payment_date": day + relativedelta(days=10)})
                    )
                    wizard._create_payments()
                    wizard.unlink()  # nothing left pointing at the demo customer (see hooks.uninstall_hook)
            if refund and invoice:
                # a credit note for a whole order, three days ago: a move down the ladder
                refund_day = today - relativedelta(days=3)
                invoice._reverse_moves([{"invoice_date": refund_day}], cancel=True)
                days.add(refund_day)
        # the ladder through the two years: each day something happened, as the books stood that day
        engine = self.env["crm.lifecycle.engine"].with_context(lifecycle_defer=False)
        for day in sorted(d for d in days if d <= today):
            customers = self.env["res.partner"].union(*(p for p, first in first_day.items() if first <= day))
            engine._recompute(customers, as_of=day if day < today else None)
        # then everyone else, as the nightly run places them
        self.env["crm.lifecycle.run"]._for_job("ladder")._restart()
        while engine._cron_recompute():
            pass

    @api.model
    def _create_demo_complaints(self):
        """Complaints in every state: breached and escalated, on track, under review, resolved and rated."""
        team = self.env.ref("sales_team.team_sales_department")
        agent = self.env.ref("base.user_demo", raise_if_not_found=False) or self.env.user
        resolved = self.env.ref("crm_lifecycle.crm_complaint_stage_resolved")
        in_progress = self.env.ref("crm_lifecycle.crm_complaint_stage_in_progress")
        calendar = self.env.company.resource_calendar_id
        now = fields.Datetime.now()
        for xmlid, subject, ctype, category, severity, channel, hours_ago, outcome, rating in DEMO_COMPLAINTS:
            partner = self.env.ref(f"crm_lifecycle.{xmlid}")
            received = calendar.plan_hours(-hours_ago, now, compute_leaves=True) if hours_ago else now
            complaint = self.env["crm.complaint"].create(
                {
                    "subject": subject,
                    "partner_id": partner.id,
                    "complaint_type": ctype,
                    "category": category,
                    "severity": severity,
                    "channel": channel,
                    "request_date": received,
                    "team_id": team.id,
                    "user_id": agent.id,
                    "description": f"<p>{subject}.</p>",
                }
            )
            if outcome == "review":
                complaint.write({"stage_id": in_progress.id, "resolution": "<p>Rescheduled the day, at no cost.</p>"})
                complaint._mark_responded(received)
                complaint.action_request_review()
            elif outcome == "resolved":
                complaint._mark_responded(received)
                complaint.write({"resolution": "<p>Sorted out with the customer.</p>", "stage_id": resolved.id})
                complaint.rating_apply(rating, token=complaint._rating_get_access_token(), feedback="Thank you")
        # what the SLA cron would have done by now: warnings and escalations
        self.env["crm.complaint"]._cron_check_sla()

    @api.model
    def _create_demo_care(self):
        """Care rules of every kind, and demo contacts with birthdays spread over the year (one every
        five days or so), so that a rule's preview has someone on any day."""
        Partner = self.env["res.partner"].with_context(lifecycle_defer=True)
        customers = Partner
        for xmlid, (country_code, state_code) in DEMO_PLACES.items():
            partner = self.env.ref(f"crm_lifecycle.{xmlid}")
            country = self.env["res.country"].search([("code", "=", country_code)], limit=1)
            state = country.state_ids.filtered(lambda s, code=state_code: s.code == code)[:1] if state_code else False
            partner.write({"country_id": country.id, "state_id": state.id if state else False})
            customers |= partner
        start = fields.Date.context_today(self).replace(month=1, day=1)
        customers = customers.sorted("id")
        Partner.create(
            [
                {
                    "name": DEMO_FIRST_NAMES[index % len(DEMO_FIRST_NAMES)],
                    "parent_id": customers[index % len(customers)].id,
                    "email": f"care.demo.{index}@example.com",
                    "mobile": f"+1 555 01{index:02d}",
                    "birthdate_date": (start + relativedelta(days=5 * index)).replace(year=1970 + index % 30),
                }
                for index in range(74)  # 74 x 5 days: the whole year
            ]
        )
        Rule = self.env["crm.care.rule"]
        Holiday = self.env["crm.care.holiday"]
        china, usa = (self.env["res.country"].search([("code", "=", code)], limit=1) for code in ("CN", "US"))
        call = self.env.ref("mail.mail_activity_data_call")
        Rule.create(
            [
                {
                    "name": "Birthday greetings",
                    "trigger": "birthday",
                    "mail_template_id": self.env.ref("crm_lifecycle.mail_template_care_birthday").id,
                    "control_percent": 10.0,
                },
                {
                    "name": "Spring Festival greetings (China)",
                    "trigger": "holiday",
                    "holiday_country_id": china.id,
                    "holiday_id": Holiday.search(
                        [("country_id", "=", china.id), ("key", "=", "Chinese New Year (Spring Festival)")], limit=1
                    ).id,
                    "days_ahead": 2,
                    "audience_country_ids": [Command.set(china.ids)],
                    "mail_template_id": self.env.ref("crm_lifecycle.mail_template_care_spring_festival_demo").id,
                },
                {
                    "name": "Thanksgiving (United States)",
                    "trigger": "holiday",
                    "holiday_country_id": usa.id,
                    "holiday_id": Holiday.search(
                        [("country_id", "=", usa.id), ("key", "=", "Thanksgiving Day")], limit=1
                    ).id,
                    "audience_country_ids": [Command.set(usa.ids)],
                    "mail_template_id": self.env.ref("crm_lifecycle.mail_template_care_greetings").id,
                },
                {
                    "name": "Win back after 90 quiet days",
                    "trigger": "inactivity",
                    "inactivity_days": 90,
                    "inactivity_factor": 3.0,
                    "audience_min_rung": "customer",
                    "activity_type_id": call.id,
                    "activity_summary": "Call: we have not heard from them for a while",
                    "control_percent": 20.0,
                },
                {
                    "name": "Follow-up call a week after a complaint",
                    "trigger": "complaint_closed",
                    "delay_days": 7,
                    "activity_type_id": call.id,
                    "activity_summary": "Call: is everything fine since the complaint?",
                },
                {
                    "name": "Welcome to our clients",
                    "trigger": "rung_up",
                    "rung": "client",
                    "mail_template_id": self.env.ref("crm_lifecycle.mail_template_care_greetings").id,
                    "active": False,
                },
            ]
        )
