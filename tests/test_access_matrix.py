"""Who may read and write what the addon adds, tried from each role's own side.

Every field the addon defines, on its own models and on Odoo's, and every model of its own has a
decision here: which roles read it, which write it, which create and delete records. The test tries
each operation as each role on the records that role would reach (its company's customer, handled by
the salesperson and the complaint desk; a portal user's own company), through the ORM as an RPC call
would, and compares. A field or a model added without a decision fails, as does a decision the code
does not keep.
"""

from datetime import date

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import LifecycleCase

PUBLIC, PORTAL_A, PORTAL_B = "public", "portal A", "portal B"
INTERNAL, SALESPERSON, SALES_MANAGER = "internal", "salesperson", "sales manager"
COMPLAINT_USER, COMPLAINT_MANAGER, OTHER_COMPANY = "complaint user", "complaint manager", "other company"
ROLES = (PUBLIC, PORTAL_A, PORTAL_B, INTERNAL, SALESPERSON, SALES_MANAGER, COMPLAINT_USER, COMPLAINT_MANAGER,
         OTHER_COMPANY)  # fmt: skip
STAFF = frozenset({INTERNAL, SALESPERSON, SALES_MANAGER, COMPLAINT_USER, COMPLAINT_MANAGER})
NOBODY = frozenset()
SALES = frozenset({SALESPERSON, SALES_MANAGER})  # lifecycle users: the salespeople and their managers
MANAGERS = frozenset({SALES_MANAGER})  # lifecycle managers (sales managers)
COMPLAINT_DESK = frozenset({COMPLAINT_USER, COMPLAINT_MANAGER})
# who handles customer A's complaint: the desk, and A's salesperson (own customers' complaints)
COMPLAINT_HANDLERS = COMPLAINT_DESK | {SALESPERSON}
# each portal user on their own company's records (and on the other's, test_portal_users_*)
OWN_PORTAL = frozenset({PORTAL_A, PORTAL_B})
NA = "-"  # a write that has no meaning (computed, relational lists)

# ---------------------------------------------------------------- fields the addon adds to Odoo's models
ENGINE = (STAFF, NOBODY)  # computed from the books: the seller's internal view, written by the engine only
SHOWN = (STAFF, NA)  # computed for display
PARTNER_WRITERS = frozenset({SALESPERSON, SALES_MANAGER})  # Odoo lets them edit customers
PARTNER = {
    **dict.fromkeys(
        [
            "ladder_stage", "ladder_since", "ladder_reason_data", "value_tier", "relationship_type",
            "lifecycle_stage", "lifecycle_currency_id", "lifecycle_first_order_date", "lifecycle_last_order_date",
            "lifecycle_order_count", "lifecycle_order_count_12m", "lifecycle_refund_count", "lifecycle_revenue",
            "lifecycle_revenue_12m", "lifecycle_margin", "lifecycle_margin_12m", "lifecycle_overdue_amount",
            "lifecycle_order_interval", "lifecycle_referral_count", "lifecycle_referral_customer_count",
            "lifecycle_contact_count", "lifecycle_open_complaint_count", "lifecycle_purchase_days", "churn_risk",
            "churn_risk_level", "churn_risk_data", "churn_warned", "churn_date", "churned", "won_back_date",
            "rfm_recency_score", "rfm_frequency_score", "rfm_monetary_score", "rfm_segment", "probability_alive",
            "expected_orders_12m", "projected_margin_12m", "lifetime_value", "birthday_month", "birthday_day",
        ],
        ENGINE,
    ),
    **dict.fromkeys(
        ["ladder_days_in_stage", "ladder_reason", "value_tier_reason", "relationship_reason", "churn_risk_reason",
         "referral_ids"],
        SHOWN,
    ),
    "care_log_ids": (SALES, NA),
    # a salesperson's input about the customer
    "referred_by_id": (STAFF, PARTNER_WRITERS),
    "lifecycle_targeted": (STAFF, PARTNER_WRITERS),
    "churn_reason": (STAFF, PARTNER_WRITERS),
    "churn_reason_manual": (STAFF, PARTNER_WRITERS),
    "care_opt_out": (STAFF, PARTNER_WRITERS),
    # the customer's own birthday: as OCA's partner_contact_birthdate has it, no group
    "birthdate_date": (STAFF | {PORTAL_A, PORTAL_B}, PARTNER_WRITERS),
    # a manager's decisions
    "ladder_locked": (STAFF, MANAGERS),
    "ladder_strategic": (STAFF, MANAGERS),
    # the rung history: lifecycle users
    "ladder_history_ids": (SALES, NA),
    # complaints of the customer: who handles complaints
    "complaint_count": (COMPLAINT_DESK, NA),
    "complaint_rating_avg": (COMPLAINT_DESK, NA),
    # what members' assignment rules read: a salesperson's input about the customer
    "company_size": (STAFF, PARTNER_WRITERS),
}  # fmt: skip
DECISIONS = {
    "res.partner": PARTNER,
    "crm.lead": {
        "partner_ladder_stage": (SALES, NA),
        "partner_value_tier": (SALES, NA),
        "lifecycle_targeted": (SALES, SALES),
        "lifecycle_stage": (SALES, NOBODY),
        # what assignment rules read, and the nurture pool: the salesperson's, on the leads the CRM lets them write
        "industry_id": (SALES, SALES),
        "company_size": (SALES, SALES),
        "region_id": (SALES, SALES),
        "nurture": (SALES, SALES),
        "nurture_next_date": (SALES, SALES),
        "nurture_plan_id": (SALES, SALES),
        # written by the stale lead reassignment; a sales manager may reset them
        "stale_reassign_count": (SALES, MANAGERS),
        "stale_reassigned_on": (SALES, MANAGERS),
        "stale_user_ids": (SALES, NA),
    },
    "sale.order": {"complaint_count": (COMPLAINT_DESK & SALES, NA)},
    "account.move": {
        "lifecycle_cost": (SALES, NOBODY),
        "lifecycle_from_order": (SALES, NOBODY),
        "lifecycle_order_id": (SALES, NOBODY),
        "complaint_count": (COMPLAINT_DESK & SALES, NA),
    },
    # lost reasons are every company's, read by all the staff
    "crm.lost.reason": {"churn_reason": (STAFF | {OTHER_COMPANY}, MANAGERS | {OTHER_COMPANY})},
    "crm.team": {
        "use_complaints": (STAFF, {SALES_MANAGER, COMPLAINT_MANAGER}),
        "complaint_alias_id": (STAFF, {SALES_MANAGER}),  # set through the alias name
        "complaint_alias_name": (STAFF, {SALES_MANAGER, COMPLAINT_MANAGER}),
        "complaint_alias_domain_id": (STAFF, NA),
        "complaint_alias_email": (STAFF, NA),
        "complaint_escalation_reassign": (STAFF, {SALES_MANAGER, COMPLAINT_MANAGER}),
        "complaint_follow_up_days": (STAFF, {SALES_MANAGER, COMPLAINT_MANAGER}),
        "complaint_default_user_id": (STAFF, {SALES_MANAGER, COMPLAINT_MANAGER}),
        "complaint_open_count": (STAFF - {INTERNAL}, NA),
        "complaint_rating_avg": (STAFF - {INTERNAL}, NA),
        # the assignment and follow-up settings: read by every internal user of its company (Odoo's crm.team
        # rights), set by sales managers only (not by complaints managers, who write the complaint settings)
        "assignment_strategy": (STAFF, MANAGERS),
        "assignment_mode": (STAFF, MANAGERS),
        "stale_days": (STAFF, MANAGERS),
        "stale_max_reassign": (STAFF, MANAGERS),
        "nurture_plan_id": (STAFF, MANAGERS),
        "nurture_interval_days": (STAFF, MANAGERS),
        "assignment_working_time": (STAFF, NA),
    },
    # members: read by every internal user, of any company (Odoo's crm.team.member has no company rule), whether
    # they are at work today included; their rotation and working hours set by sales managers, of any company as
    # Odoo's own member fields (assignment_max, assignment_domain)
    "crm.team.member": {
        "assignment_turn": (STAFF | {OTHER_COMPANY}, MANAGERS | {OTHER_COMPANY}),
        "resource_calendar_id": (STAFF | {OTHER_COMPANY}, MANAGERS | {OTHER_COMPANY}),
        "available_today": (STAFF | {OTHER_COMPANY}, NA),
        "off_reason": (STAFF | {OTHER_COMPANY}, NA),
    },
}
# res.company: the lifecycle rules, set by lifecycle managers; the rankings and models, computed
COMPANY_DEFAULT = (STAFF, MANAGERS)
COMPANY_COMPUTED = ("lifecycle_cutpoints", "lifecycle_cutpoints_date", "lifecycle_models", "lifecycle_models_date")
COMPANY_EXCEPTIONS = dict.fromkeys(COMPANY_COMPUTED, (MANAGERS, NOBODY))
COMPANY_EXCEPTIONS["lifecycle_churn_weight_total"] = SHOWN  # the churn points' sum, shown on the rules form

# ---------------------------------------------------------------- the addon's own models
# (read, write, create, delete) of a record each role would reach; every field of the model follows the
# model's decision but for the exceptions; `fields` lists them all, so that a new one needs a decision
COMPLAINT_PORTAL_READ = frozenset({"name", "subject", "description", "resolution", "request_date", "partner_id",
    "commercial_partner_id", "contact_name", "email_from", "partner_phone", "complaint_type", "category", "channel",
    "sale_order_id", "invoice_id", "product_id", "user_id", "team_id", "company_id", "stage_id", "is_closed",
    "first_response_date", "resolved_date", "display_name", "create_date", "create_uid", "write_date",
    "write_uid", "id"})  # fmt: skip
COMPLAINT_COMPUTED = frozenset({"commercial_partner_id", "is_closed", "display_name", "review_required",
    "response_deadline", "resolution_deadline", "response_at_risk_date", "resolution_at_risk_date", "create_date",
    "create_uid", "write_date", "write_uid", "id", "name"})  # fmt: skip
# recorded by the desk's work (answering, closing, the SLA run): not typed
COMPLAINT_SYSTEM = frozenset({"first_response_date", "resolved_date", "sla_status", "sla_next_check", "sla_warned",
    "sla_escalated", "response_hours", "resolution_hours", "sla_success", "follow_up_date", "review_state",
    "reviewer_id", "review_note"})  # fmt: skip
LOG_ACCESS = ("create_date", "create_uid", "write_date", "write_uid", "id", "display_name")
MODELS = {
    "crm.ladder.history": {
        "access": (SALES, NOBODY, NOBODY, NOBODY),
        "fields": ("partner_id", "from_stage", "to_stage", "direction", "date", "source", "user_id", "reason_data",
                   "reason", "company_id", "id", "display_name"),
        "write": "to_stage",
        "new": lambda case: {"partner_id": case.customer_a.id, "to_stage": "client", "company_id": case.company.id},
    },
    "crm.lifecycle.run": {
        # one run per job, for all companies
        "access": (MANAGERS | {OTHER_COMPANY}, NOBODY, NOBODY, NOBODY),
        "fields": ("name", "cursor", "remaining", "started_at", *LOG_ACCESS),
        "write": "cursor",
        "new": lambda case: {"name": "matrix"},
    },
    "crm.complaint": {
        # a sales manager may log a complaint (and then owns it), like a salesperson
        "access": (COMPLAINT_HANDLERS | OWN_PORTAL, COMPLAINT_HANDLERS, COMPLAINT_HANDLERS | {SALES_MANAGER},
                   {COMPLAINT_MANAGER}),
        "fields": None,  # all of the model's own fields, decided below
        "write": "subject",
        "new": lambda case: {"subject": "Matrix complaint", "partner_id": case.customer_a.id,
                             "company_id": case.company.id},
    },
    "crm.complaint.stage": {
        # every company's, read by whoever handles or logs complaints
        "access": (COMPLAINT_HANDLERS | OWN_PORTAL | {SALES_MANAGER, OTHER_COMPANY}, {COMPLAINT_MANAGER},
                   {COMPLAINT_MANAGER}, {COMPLAINT_MANAGER}),
        "fields": ("name", "sequence", "fold", "is_closed", "is_response", "rating_template_id", "description",
                   *LOG_ACCESS),
        "write": "name",
        "new": lambda case: {"name": "Matrix stage"},
    },
    "crm.complaint.sla": {
        "access": (COMPLAINT_HANDLERS | {SALES_MANAGER}, {COMPLAINT_MANAGER}, {COMPLAINT_MANAGER},
                   {COMPLAINT_MANAGER}),
        "fields": ("name", "sequence", "active", "company_id", "team_id", "complaint_type", "category", "severity",
                   "calendar_id", "response_hours", "resolution_hours", "at_risk_percent", *LOG_ACCESS),
        "write": "name",
        "new": lambda case: {"name": "Matrix SLA", "company_id": case.company.id},
    },
    "crm.care.rule": {
        "access": (SALES, MANAGERS, MANAGERS, MANAGERS),
        "fields": None,
        "write": "name",
        "new": lambda case: {"name": "Matrix rule", "trigger": "birthday", "company_id": case.company.id,
                             "mail_template_id": case.env.ref("crm_lifecycle.mail_template_care_birthday").id},
    },
    "crm.care.occasion": {
        "access": (SALES, MANAGERS, MANAGERS, MANAGERS),
        "fields": ("rule_id", "date", "name", "country_ids", "state_ids", *LOG_ACCESS),
        "write": "name",
        "new": lambda case: {"rule_id": case.records["a"]["crm.care.rule"].id, "date": "2027-01-01", "name": "X"},
    },
    "crm.care.holiday": {
        # public holidays by country: every company's
        "access": (SALES | {OTHER_COMPANY}, NOBODY, NOBODY, NOBODY),
        "fields": ("country_id", "key", "name_en", "name", "regional", *LOG_ACCESS),
        "write": "name_en",
        "new": lambda case: {"country_id": case.env.ref("base.fr").id, "key": "Matrix Day", "name_en": "Matrix Day"},
    },
    "crm.care.log": {
        # a salesperson reads the care of their own customers; written by the run only
        "access": (SALES, NOBODY, NOBODY, NOBODY),
        "fields": None,
        "write": "state",
        "new": lambda case: {"rule_id": case.records["a"]["crm.care.rule"].id, "partner_id": case.customer_a.id,
                             "occurrence": "2027-02-02", "date": "2027-02-02", "channel": "email", "state": "sent"},
    },
    "crm.complaint.report": {
        # the complaint desk, and lifecycle managers (the complaint figures of their dashboard)
        "access": (COMPLAINT_DESK | MANAGERS, NOBODY, NOBODY, NOBODY),
        "fields": None,
        "write": None,
        "new": None,
    },
    "crm.lifecycle.retention.report": {"access": (MANAGERS, NOBODY, NOBODY, NOBODY), "fields": None,
                                       "write": None, "new": None},
    "crm.lifecycle.cohort.report": {"access": (MANAGERS, NOBODY, NOBODY, NOBODY), "fields": None,
                                    "write": None, "new": None},
    # sales regions: shared by all companies (countries and states are); every internal user reads them (leads
    # and assignment domains show them), sales managers of any company set them
    "crm.region": {
        "access": (STAFF | {OTHER_COMPANY}, MANAGERS | {OTHER_COMPANY}, MANAGERS | {OTHER_COMPANY},
                   MANAGERS | {OTHER_COMPANY}),
        "fields": ("name", "sequence", "active", "country_ids", "state_ids", *LOG_ACCESS),
        "write": "name",
        "new": lambda case: {"name": "Matrix region", "country_ids": [Command.set(case.env.ref("base.fr").ids)]},
    },
    # the funnel: read by salespeople within the leads' own rules
    "crm.lifecycle.funnel.report": {"access": (SALES, NOBODY, NOBODY, NOBODY), "fields": None,
                                    "write": None, "new": None},
}  # fmt: skip
# the fields of own models that differ from their model's decision: (read, write)
OWN_EXCEPTIONS = {
    "crm.complaint": {
        **{name: (COMPLAINT_HANDLERS, NA if name in COMPLAINT_COMPUTED else COMPLAINT_HANDLERS)
           for name in ("severity", "root_cause", "action_type", "sla_id", "color", "review_required",
                        "response_deadline", "resolution_deadline", "response_at_risk_date",
                        "resolution_at_risk_date")},
        **{name: (COMPLAINT_HANDLERS | (OWN_PORTAL if name in COMPLAINT_PORTAL_READ else NOBODY), NOBODY)
           for name in COMPLAINT_SYSTEM},
        # a review is given with the manager's wizard only
    },
    "crm.care.rule": {},
}  # fmt: skip
WRITE_EXEMPT = {
    # fields whose write is a business step, tried in their own tests (closing needs a resolution...)
    "crm.complaint.sla": {"company_id"},
    "crm.complaint": {"stage_id", "partner_id", "sale_order_id", "invoice_id", "team_id", "company_id", "user_id"},
    "crm.care.rule": {"trigger", "company_id", "holiday_id", "holiday_country_id", "mail_template_id",
                      "sms_template_id", "activity_type_id", "activity_user", "activity_user_id", "active"},
}  # fmt: skip


# values where the default guess breaks a rule of the model (kept apart from the access being tried)
VALUES = {
    ("res.company", "lifecycle_churn_low_rating"): 3.0,
    ("res.company", "lifecycle_client_min_orders"): 3,
    ("crm.care.rule", "audience_domain"): "[('is_company', '=', True)]",
    # the weights add up to 100: one alone is written unchanged (the write is still checked)
    **{("res.company", f"lifecycle_churn_weight_{factor}"): lambda record, fname: record.sudo()[fname]
       for factor in ("recency", "trend", "overdue", "complaints", "rating", "no_contact")},
}  # fmt: skip


def _value(record, fname):
    """A value to write that differs from the record's and is valid for the field."""
    if (record._name, fname) in VALUES:
        value = VALUES[record._name, fname]
        return value(record, fname) if callable(value) else value
    field = record._fields[fname]
    current = record.sudo()[fname]
    match field.type:
        case "boolean":
            return not current
        case "integer":
            return (current or 0) + 3
        case "float" | "monetary":
            return 9.0 if ("percent" in fname or current == 9.0) else (current or 0.0) + 7.0
        case "char" | "text":
            return "written-by-the-matrix"
        case "html":
            return "<p>Written by the access matrix</p>"
        case "date":
            return date(2026, 1, 5)
        case "datetime":
            return fields.Datetime.to_datetime("2026-01-05 10:00:00")
        case "selection":
            keys = [key for key, _label in field._description_selection(record.env)]
            return next(key for key in keys if key != current)
        case "json":
            return {"written": True}
        case "many2one":
            domain = [("id", "!=", current.id)]
            comodel = record.env[field.comodel_name]
            company = record.sudo().company_id if "company_id" in record._fields else record.sudo().env.company
            if "company_id" in comodel._fields and field.comodel_name != "res.company":
                domain.append(("company_id", "in", [company.id, False]))
            # the same record again when there is no other: the write is still checked
            return comodel.sudo().search(domain, limit=1).id or current.id
    raise AssertionError(f"no value to try for {record._name}.{fname} ({field.type})")


class _RolledBack(Exception):
    """Undoes an operation that was allowed, so that the next one starts from the same records."""


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestAccessMatrix(LifecycleCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        own = {"company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)]}
        cls.customer_a = cls.customer("Matrix Customer A", user_id=cls.salesman.id)
        cls.customer_b = cls.customer("Matrix Customer B")
        contact_a = cls.env["res.partner"].create({"name": "Ann Portal", "parent_id": cls.customer_a.id})
        contact_b = cls.env["res.partner"].create({"name": "Ben Portal", "parent_id": cls.customer_b.id})
        other_company = cls.env["res.company"].create({"name": "Matrix Other Co"})
        cls.users = {
            PUBLIC: cls.env.ref("base.public_user"),
            PORTAL_A: new_test_user(cls.env, login="matrix_portal_a", groups="base.group_portal",
                                    partner_id=contact_a.id, **own),
            PORTAL_B: new_test_user(cls.env, login="matrix_portal_b", groups="base.group_portal",
                                    partner_id=contact_b.id, **own),
            INTERNAL: new_test_user(cls.env, login="matrix_internal", groups="base.group_user", **own),
            SALESPERSON: cls.salesman,
            SALES_MANAGER: cls.manager,
            COMPLAINT_USER: new_test_user(
                cls.env, login="matrix_cmp_user",
                groups="base.group_user,crm_lifecycle.crm_lifecycle_group_complaint_user", **own),
            COMPLAINT_MANAGER: new_test_user(
                cls.env, login="matrix_cmp_manager",
                groups="base.group_user,crm_lifecycle.crm_lifecycle_group_complaint_manager", **own),
            OTHER_COMPANY: new_test_user(
                cls.env, login="matrix_elsewhere", groups="base.group_user,sales_team.group_sale_manager",
                company_id=other_company.id, company_ids=[Command.set(other_company.ids)]),
        }  # fmt: skip
        team = cls.env["crm.team"].create(
            {"name": "Matrix Desk", "use_complaints": True, "company_id": cls.company.id,
             "crm_team_member_ids": [Command.create({"user_id": cls.users[COMPLAINT_USER].id})]}
        )  # fmt: skip
        rule = cls.env["crm.care.rule"].create(
            {"name": "Matrix birthday", "trigger": "birthday", "company_id": cls.company.id,
             "mail_template_id": cls.env.ref("crm_lifecycle.mail_template_care_birthday").id}
        )  # fmt: skip
        region = cls.env["crm.region"].create(
            {"name": "Matrix Region", "country_ids": [Command.set(cls.env.ref("base.be").ids)]}
        )
        cls.records = {}
        for key, customer in (("a", cls.customer_a), ("b", cls.customer_b)):
            lead = cls.env["crm.lead"].create(
                {"name": f"Lead of {customer.name}", "partner_id": customer.id, "user_id": cls.salesman.id}
            )
            order, invoice = cls._books(customer)
            complaint = cls.env["crm.complaint"].create(
                {"subject": f"Complaint of {customer.name}", "partner_id": customer.id, "team_id": team.id,
                 "user_id": cls.users[COMPLAINT_USER].id, "company_id": cls.company.id}
            )  # fmt: skip
            log = cls.env["crm.care.log"].sudo()._claim([(rule, customer.id, date(2027, 1, 1), "email", "sent",
                                                          False)], date(2027, 1, 1))  # fmt: skip
            cls.env["crm.lifecycle.retention.report"]._refresh_reports()  # stored: as the nightly run does
            cls.records[key] = {
                "res.partner": customer,
                "crm.lead": lead,
                "sale.order": order,
                "account.move": invoice,
                "res.company": cls.company,
                "crm.team": team,
                "crm.team.member": team.crm_team_member_ids,
                "crm.region": region,
                "crm.lost.reason": cls.env.ref("crm.lost_reason_1"),
                "crm.ladder.history": customer.ladder_history_ids[:1],
                "crm.lifecycle.run": cls.env["crm.lifecycle.run"]._for_job("ladder"),
                "crm.complaint": complaint,
                # no complaint in them: deleting them is an access decision, not a referenced record
                "crm.complaint.stage": cls.env["crm.complaint.stage"].create({"name": f"Matrix stage {key}"}),
                "crm.complaint.sla": cls.env["crm.complaint.sla"].create(
                    {"name": f"Matrix SLA {key}", "company_id": cls.company.id, "active": False}
                ),
                "crm.care.rule": rule,
                "crm.care.occasion": cls.env["crm.care.occasion"].create(
                    {"rule_id": rule.id, "date": "2027-05-01", "name": "Matrix occasion"}
                ),
                "crm.care.holiday": cls.env["crm.care.holiday"].search([], limit=1),
                "crm.care.log": log,
                "crm.complaint.report": cls.env["crm.complaint.report"].search([("complaint_id", "=", complaint.id)]),
                "crm.lifecycle.retention.report": cls.env["crm.lifecycle.retention.report"].search(
                    [("company_id", "=", cls.company.id)], limit=1
                ),
                "crm.lifecycle.cohort.report": cls.env["crm.lifecycle.cohort.report"].search(
                    [("company_id", "=", cls.company.id)], limit=1
                ),
            }
        cls.env.flush_all()
        cls.env.cr.flush()
        for key in ("a", "b"):
            lead = cls.records[key]["crm.lead"]
            cls.records[key]["crm.lifecycle.funnel.report"] = cls.env["crm.lifecycle.funnel.report"].browse(2 * lead.id)

    @classmethod
    def _books(cls, customer):
        order = cls.env["sale.order"].create(
            {"partner_id": customer.id, "user_id": cls.salesman.id,
             "order_line": [Command.create({"product_id": cls.product.id})]}
        )  # fmt: skip
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        cls.env.flush_all()
        cls.env.cr.flush()
        return order, invoice

    # ------------------------------------------------------------------ trying
    def _record(self, role, model):
        user = self.users[role]
        record = self.records["b" if role == PORTAL_B else "a"][model].with_user(user)
        # as a request of theirs would be: in their own companies (the test's env is in the test company only)
        return record.with_context(allowed_company_ids=user.company_ids.ids) if role == OTHER_COMPANY else record

    def _attempt(self, operation):
        try:
            with self.env.cr.savepoint():
                operation()
                self.env.flush_all()
                raise _RolledBack
        except _RolledBack:
            return True
        except (AccessError, UserError, ValidationError) as error:
            return error
        finally:
            self.env.invalidate_all()

    def _try_field(self, model, fname, read, write, mismatches):
        for role in ROLES:
            record = self._record(role, model)
            self.assertTrue(record, f"no {model} record for {role}")
            outcome = self._attempt(lambda record=record: record.read([fname]))
            if (outcome is True) != (role in read):
                mismatches.append(f"{model}.{fname} read by {role}: {'allowed' if outcome is True else outcome}")
            if write == NA:
                continue
            value = _value(record, fname)
            outcome = self._attempt(lambda record=record, value=value: record.write({fname: value}))
            if isinstance(outcome, ValidationError) and role in write:
                mismatches.append(f"{model}.{fname}: no valid value tried for {role}: {outcome}")
            elif (outcome is True) != (role in write):
                mismatches.append(f"{model}.{fname} write by {role}: {'allowed' if outcome is True else outcome}")

    def _added_fields(self, model):
        """The fields the addon itself declares on `model`, not those its mixins (mail, rating, ...) bring."""
        Model = self.env[model]
        parents = Model._inherit if isinstance(Model._inherit, list | tuple) else [Model._inherit]
        mixed_in = {
            name for parent in parents if parent and self.env[parent]._abstract for name in self.env[parent]._fields
        }
        return {
            name for name, field in Model._fields.items() if field._module == "crm_lifecycle" and name not in mixed_in
        }

    # ------------------------------------------------------------------ the decisions
    def test_every_model_and_field_of_the_addon_has_a_decision(self):
        extended = {
            m for m in self.env.registry if self._added_fields(m) and self.env[m]._original_module != "crm_lifecycle"
        }
        self.assertEqual(extended - set(DECISIONS) - {"res.company"}, set(), "Odoo models the addon adds fields to")
        for model, decided in DECISIONS.items():
            self.assertEqual(self._added_fields(model), set(decided), f"{model}: every added field needs a decision")
        own = {
            m
            for m in self.env.registry
            if self.env[m]._original_module == "crm_lifecycle" and not (self.env[m]._abstract or self.env[m]._transient)
        }
        self.assertEqual(own, set(MODELS), "every model of the addon needs a decision")
        for model, decision in MODELS.items():
            if decision["fields"] is not None:
                self.assertEqual(self._added_fields(model), set(decision["fields"]), f"{model}: fields to decide")

    def test_fields_added_to_odoos_models(self):
        mismatches = []
        for model, decided in DECISIONS.items():
            for fname, (read, write) in decided.items():
                self._try_field(model, fname, read, write, mismatches)
        for fname in self._added_fields("res.company"):
            read, write = COMPANY_EXCEPTIONS.get(fname, COMPANY_DEFAULT)
            self._try_field("res.company", fname, read, write, mismatches)
        self.assertFalse(mismatches, "\n".join(mismatches))

    def test_the_addons_own_models(self):
        mismatches = []
        for model, decision in MODELS.items():
            read, write, create, delete = decision["access"]
            Model = self.env[model]
            exceptions = OWN_EXCEPTIONS.get(model, {})
            exempt = WRITE_EXEMPT.get(model, set())
            for fname in sorted(self._added_fields(model)):
                field = Model._fields[fname]
                computed = field.compute and not field.inverse and field.readonly
                relational_list = field.type in ("one2many", "many2many")
                if fname in exceptions:
                    field_read, field_write = exceptions[fname]
                else:
                    field_read = (
                        read if model != "crm.complaint" or fname in COMPLAINT_PORTAL_READ else read - OWN_PORTAL
                    )
                    field_write = write
                if computed or relational_list or fname in exempt or fname in LOG_ACCESS or not decision["write"]:
                    field_write = NA
                self._try_field(model, fname, field_read, field_write, mismatches)
            for role in ROLES:
                record = self._record(role, model)
                if decision["new"]:
                    values = decision["new"](self)
                    outcome = self._attempt(lambda r=record, v=values: r.create(v))
                    if (outcome is True) != (role in create):
                        mismatches.append(f"{model} create by {role}: {'allowed' if outcome is True else outcome}")
                    outcome = self._attempt(lambda r=record: r.unlink())
                    if (outcome is True) != (role in delete):
                        mismatches.append(f"{model} delete by {role}: {'allowed' if outcome is True else outcome}")
        self.assertFalse(mismatches, "\n".join(mismatches))

    def test_portal_users_reach_only_their_own_company(self):
        """Each portal user reads their own records above; here, the other customer's: nothing."""
        reached = []
        for model in ("res.partner", "crm.lead", "sale.order", "account.move", "crm.complaint", "crm.care.log"):
            for role, other in ((PORTAL_A, "b"), (PORTAL_B, "a")):
                record = self.records[other][model].with_user(self.users[role])
                fnames = sorted(self._added_fields(model) & set(record._fields)) or ["display_name"]
                for fname in fnames:
                    if self._attempt(lambda r=record, f=fname: r.read([f])) is True:
                        reached.append(f"{model}.{fname} of {other.upper()} read by {role}")
        self.assertFalse(reached, "\n".join(reached))
