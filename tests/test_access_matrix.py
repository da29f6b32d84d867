"""Who may read and write what the addon adds, tried from each role's own side.

Every field the addon defines (on its own models and on Odoo's) and every model of its own has a
decision here: which roles read it, which write it, which create and delete records. The test tries
each operation as each role, on the records that role would reach (its own company's customer; a
portal user's own company), and compares. A field or model added without a decision fails, as does
a decision the code does not keep.
"""

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
SALES = frozenset({SALESPERSON, SALES_MANAGER})
MANAGERS = frozenset({SALES_MANAGER})
COMPLAINTS = frozenset({COMPLAINT_USER, COMPLAINT_MANAGER})

# (read, write) per field; "-" where a write has no meaning (computed, one2many)
ENGINE = (STAFF, NOBODY)  # computed from the books, the seller's internal view
SALES_INPUT = (STAFF, SALES)  # a salesperson's input about a customer
MANAGER_DECISION = (STAFF, MANAGERS)
SHOWN = (STAFF, "-")  # computed for display, internal users

DECISIONS = {
    "res.partner": {
        "referred_by_id": SALES_INPUT,
        "referral_ids": SHOWN,
        "ladder_stage": ENGINE,
        "ladder_locked": MANAGER_DECISION,
        "ladder_strategic": MANAGER_DECISION,
        "ladder_since": ENGINE,
        "ladder_days_in_stage": SHOWN,
        "ladder_reason_data": ENGINE,
        "ladder_reason": SHOWN,
        "ladder_history_ids": (STAFF - {INTERNAL, COMPLAINT_USER, COMPLAINT_MANAGER}, "-"),
        "value_tier": ENGINE,
        "value_tier_reason": SHOWN,
        "relationship_type": ENGINE,
        "relationship_reason": SHOWN,
        "lifecycle_stage": ENGINE,
        "lifecycle_targeted": SALES_INPUT,
        "lifecycle_currency_id": ENGINE,
        "lifecycle_first_order_date": ENGINE,
        "lifecycle_last_order_date": ENGINE,
        "lifecycle_order_count": ENGINE,
        "lifecycle_order_count_12m": ENGINE,
        "lifecycle_refund_count": ENGINE,
        "lifecycle_revenue": ENGINE,
        "lifecycle_revenue_12m": ENGINE,
        "lifecycle_margin": ENGINE,
        "lifecycle_margin_12m": ENGINE,
        "lifecycle_overdue_amount": ENGINE,
        "lifecycle_order_interval": ENGINE,
        "lifecycle_referral_count": ENGINE,
        "lifecycle_referral_customer_count": ENGINE,
        "lifecycle_contact_count": ENGINE,
        "lifecycle_open_complaint_count": ENGINE,
        "complaint_count": (COMPLAINTS, "-"),
        "complaint_rating_avg": (COMPLAINTS, "-"),
    },
    "crm.lead": {
        "partner_ladder_stage": (SALES, "-"),
        "partner_value_tier": (SALES, "-"),
        "lifecycle_targeted": (SALES, SALES),
        "lifecycle_stage": (SALES, NOBODY),
    },
    "sale.order": {
        "complaint_count": (COMPLAINTS & SALES, "-"),
    },
    "account.move": {
        "lifecycle_cost": (SALES, NOBODY),
        "lifecycle_from_order": (SALES, NOBODY),
        "lifecycle_order_id": (SALES, NOBODY),
        "complaint_count": (COMPLAINTS & SALES, "-"),
    },
}
# res.company: the lifecycle rules, set by lifecycle managers; the ranking, computed
RULES = (STAFF, MANAGERS)
COMPANY_DECISIONS = {
    "lifecycle_cutpoints": (MANAGERS, NOBODY),
    "lifecycle_cutpoints_date": (MANAGERS, NOBODY),
}
LADDER_READERS = SALES  # lifecycle users: the salespeople and their managers
DECISIONS["crm.ladder.history"] = {
    name: (LADDER_READERS, "-" if name in ("reason", "direction") else NOBODY)
    for name in ("partner_id", "from_stage", "to_stage", "direction", "date", "source", "user_id", "reason_data",
                 "reason", "company_id")
}  # fmt: skip
DECISIONS["crm.lifecycle.run"] = dict.fromkeys(("name", "cursor", "remaining", "started_at"), (MANAGERS, NOBODY))

# the addon's own models: (read, write, create, delete) of a record each role would reach, the field
# written and the values of a new record
MODEL_DECISIONS = {
    "crm.ladder.history": (LADDER_READERS, NOBODY, NOBODY, NOBODY),
    "crm.lifecycle.run": (MANAGERS, NOBODY, NOBODY, NOBODY),
}
MODEL_SAMPLES = {
    "crm.ladder.history": ("to_stage", lambda case: {
        "partner_id": case.customer_a.id, "to_stage": "client", "company_id": case.company.id}),
    "crm.lifecycle.run": ("cursor", lambda case: {"name": "matrix"}),
}  # fmt: skip
ALLOWED = object()


def _value(record, fname):
    """A value to write that differs from the record's and is valid for the field."""
    field = record._fields[fname]
    current = record.sudo()[fname]
    match field.type:
        case "boolean":
            return not current
        case "integer":
            return (current or 0) + 3
        case "float" | "monetary":
            return (current or 0.0) + 7.0 if "percent" not in fname else 9.0
        case "char" | "text":
            return "Written by the access matrix"
        case "date":
            return fields.Date.to_date("2026-01-05")
        case "datetime":
            return fields.Datetime.to_datetime("2026-01-05 10:00:00")
        case "selection":
            keys = [key for key, _label in field._description_selection(record.env)]
            return next(key for key in keys if key != current)
        case "json":
            return {"written": True}
        case "many2one":
            others = record.env[field.comodel_name].sudo().search([("id", "!=", current.id)], limit=1)
            return others.id
    raise AssertionError(f"no value to try for {record._name}.{fname} ({field.type})")


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
                cls.env, login="matrix_elsewhere", groups="base.group_user,sales_team.group_sale_salesman",
                company_id=other_company.id, company_ids=[Command.set(other_company.ids)]),
        }  # fmt: skip
        cls.records = {}
        for customer in (cls.customer_a, cls.customer_b):
            cls.env["crm.lead"].create({"name": f"Lead of {customer.name}", "partner_id": customer.id})
        order, invoice = cls._books(cls.customer_a)
        order_b, invoice_b = cls._books(cls.customer_b)
        cls.records["a"] = {
            "res.partner": cls.customer_a,
            "crm.lead": cls.env["crm.lead"].search([("partner_id", "=", cls.customer_a.id)]),
            "sale.order": order,
            "account.move": invoice,
            "res.company": cls.company,
            "crm.ladder.history": cls.customer_a.ladder_history_ids[:1],
            "crm.lifecycle.run": cls.env["crm.lifecycle.run"]._for_job("ladder"),
        }
        cls.records["b"] = dict(cls.records["a"], **{
            "res.partner": cls.customer_b,
            "crm.lead": cls.env["crm.lead"].search([("partner_id", "=", cls.customer_b.id)]),
            "sale.order": order_b,
            "account.move": invoice_b,
            "crm.ladder.history": cls.customer_b.ladder_history_ids[:1],
        })  # fmt: skip
        cls.env["crm.lead"].search([("partner_id", "in", (cls.customer_a | cls.customer_b).ids)]).user_id = cls.salesman

    @classmethod
    def _books(cls, customer):
        order = cls.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "user_id": cls.salesman.id,
                "order_line": [Command.create({"product_id": cls.product.id})],
            }
        )
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        cls.env.flush_all()
        cls.env.cr.flush()
        return order, invoice

    def _record(self, role, model):
        return self.records["b" if role == PORTAL_B else "a"][model].with_user(self.users[role])

    def _outcome(self, operation):
        try:
            with self.env.cr.savepoint():
                operation()
                self.env.flush_all()
                raise _RolledBack
        except _RolledBack:
            return ALLOWED
        except (AccessError, UserError, ValidationError) as error:
            return error

    def _check_field(self, model, fname, read, write, mismatches):
        for role in ROLES:
            record = self._record(role, model)
            self.env.invalidate_all()
            outcome = self._outcome(lambda record=record: record.read([fname]))
            if (outcome is ALLOWED) != (role in read):
                mismatches.append(f"{model}.{fname}: read by {role}: {'allowed' if outcome is ALLOWED else outcome}")
            if write == "-":
                continue
            value = _value(record, fname)
            outcome = self._outcome(lambda record=record, value=value: record.write({fname: value}))
            if isinstance(outcome, ValidationError) and role in write:
                mismatches.append(f"{model}.{fname}: no valid value tried for {role}: {outcome}")
            elif (outcome is ALLOWED) != (role in write):
                mismatches.append(f"{model}.{fname}: write by {role}: {'allowed' if outcome is ALLOWED else outcome}")

    def _added_fields(self, model):
        return {
            name
            for name, field in self.env[model]._fields.items()
            if field._module == "crm_lifecycle" and not name.startswith(("message_", "activity_", "rating_"))
        }

    def test_every_added_field_has_a_decision_that_the_code_keeps(self):
        mismatches = []
        company_fields = self._added_fields("res.company")
        decisions = dict(DECISIONS)
        decisions["res.company"] = {f: COMPANY_DECISIONS.get(f, RULES) for f in company_fields}
        extended = {model for model in self.env.registry if self._added_fields(model)} - set(MODEL_DECISIONS)
        self.assertEqual(
            extended - set(decisions) - {m for m in extended if self.env[m]._original_module == "crm_lifecycle"},
            set(),
            "an Odoo model the addon adds fields to has no decisions",
        )
        for model, fields_decided in decisions.items():
            self.assertEqual(
                self._added_fields(model), set(fields_decided), f"{model}: every added field needs a decision"
            )
            for fname, (read, write) in fields_decided.items():
                self._check_field(model, fname, read, write, mismatches)
        self.assertFalse(mismatches, "\n".join(mismatches))

    def test_every_own_model_has_a_decision_that_the_code_keeps(self):
        own = {
            model
            for model in self.env.registry
            if self.env[model]._original_module == "crm_lifecycle"
            and not self.env[model]._abstract
            and not self.env[model]._transient
        }
        self.assertEqual(own - set(MODEL_DECISIONS), set(), "every model of the addon needs a decision")
        mismatches = []
        for model, (read, write, create, delete) in MODEL_DECISIONS.items():
            fname, new_values = MODEL_SAMPLES[model]
            for role in ROLES:
                record = self._record(role, model)
                operations = {
                    "read": (read, lambda r=record: r.read(["id"])),
                    "write": (write, lambda r=record, f=fname: r.write({f: _value(r, f)})),
                    "create": (create, lambda r=record, v=new_values: r.create(v(self))),
                    "delete": (delete, lambda r=record: r.unlink()),
                }
                for operation, (allowed, action) in operations.items():
                    outcome = self._outcome(action)
                    if (outcome is ALLOWED) != (role in allowed):
                        verdict = "allowed" if outcome is ALLOWED else outcome
                        mismatches.append(f"{model} {operation} by {role}: {verdict}")
        self.assertFalse(mismatches, "\n".join(mismatches))


class _RolledBack(Exception):
    """Undoes an operation that was allowed, so that the next one starts from the same records."""
