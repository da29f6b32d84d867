"""Shared set-up: a company of its own with a chart of accounts, users, products, and helpers that
write real books (confirmed orders, posted invoices, payments, credit notes) through Odoo's flows."""

from datetime import datetime

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import TransactionCase, new_test_user

GROUP_SALESMAN = "sales_team.group_sale_salesman"
GROUP_LIFECYCLE_MANAGER = "crm_lifecycle.crm_lifecycle_group_manager"


class LifecycleCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A company of its own: the rankings (top 5%...) then depend only on the test's customers.
        usd = cls.env.ref("base.USD")
        cls.company = cls.env["res.company"].create({"name": "Ladder Test Co", "currency_id": usd.id})
        cls.env.user.company_ids |= cls.company
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))
        cls.env["account.chart.template"].try_loading("generic_coa", company=cls.company, install_demo=False)
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        cls.product = cls._product("Ladder Widget", price=100.0, cost=60.0)
        cls.salesman = new_test_user(
            cls.env,
            login="ladder_salesman",
            name="Sam Salesman",
            groups=f"base.group_user,{GROUP_SALESMAN}",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.manager = new_test_user(
            cls.env,
            login="ladder_manager",
            name="Mia Manager",
            groups=f"base.group_user,sales_team.group_sale_manager,{GROUP_LIFECYCLE_MANAGER}",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.market = cls._create_market()

    @classmethod
    def _create_market(cls):
        """Twenty customers invoiced 1,000 to 20,000 over the last months, at no cost: the company's
        ranking, against which the test customers are placed (top 5% = the best 2 of 21)."""
        free = cls._product("Ladder Licence", price=1.0, cost=0.0)
        Move = cls.env["account.move"].with_context(lifecycle_defer=True)
        partners = cls.env["res.partner"].create(
            [
                {"name": f"Market Customer {i:02d}", "is_company": True, "company_id": cls.company.id}
                for i in range(1, 21)
            ]
        )
        moves = Move.create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": cls.today - relativedelta(months=2),
                    "invoice_line_ids": [
                        Command.create({"product_id": free.id, "price_unit": 1000.0 * i, "tax_ids": [Command.clear()]})
                    ],
                }
                for i, partner in enumerate(partners, start=1)
            ]
        )
        moves.action_post()
        cls.company._lifecycle_refresh_cutpoints()
        partners._lifecycle_recompute()
        cls.env.flush_all()
        cls.env.cr.flush()
        return partners

    # ------------------------------------------------------------------ helpers
    def flush_tracking(self):
        """What the end of a request does before it commits: Odoo runs its pre-commit hooks (the
        chatter's tracking, and the prompt recomputation of the customers the request touched)."""
        self.env.flush_all()
        self.env.cr.flush()

    @classmethod
    def _product(cls, name, price, cost):
        return (
            cls.env["product.product"]
            .with_company(cls.company)
            .create(
                {
                    "name": name,
                    "type": "service",
                    "list_price": price,
                    "standard_price": cost,
                    "invoice_policy": "order",
                    "taxes_id": [Command.clear()],
                }
            )
        )

    @classmethod
    def customer(cls, name, **values):
        return cls.env["res.partner"].create({"name": name, "is_company": True, "company_id": cls.company.id, **values})

    def ago(self, months=0, days=0):
        return self.today - relativedelta(months=months, days=days)

    def order(
        self,
        partner,
        months_ago=0,
        days_ago=0,
        qty=1,
        price=None,
        invoice=True,
        paid=True,
        due_days=30,
        defer=False,
        on=None,
    ):
        """A confirmed sale order dated in the past (or `on` that day), invoiced and paid unless told
        otherwise.

        `defer`: as a bulk import would, leave the lifecycle to the next computation.
        """
        env = self.env(context=dict(self.env.context, lifecycle_defer=True)) if defer else self.env
        day = on or self.ago(months_ago, days_ago)
        line = {"product_id": self.product.id, "product_uom_qty": qty}
        if price is not None:
            line["price_unit"] = price
        order = env["sale.order"].create({"partner_id": partner.id, "order_line": [Command.create(line)]})
        order.action_confirm()
        order.date_order = datetime.combine(day, datetime.min.time())
        if not invoice:
            self.flush_tracking()
            return order, None
        move = order._create_invoices()
        move.write({"invoice_date": day, "invoice_date_due": day + relativedelta(days=due_days)})
        move.action_post()
        if paid:
            self.pay(move.with_env(env), day + relativedelta(days=5))
        self.flush_tracking()
        return order, move

    def direct_invoice(self, partner, amount, months_ago=0, days_ago=0, currency=None, post=True, product=None):
        """A customer invoice typed in Invoicing, without a sale order."""
        day = self.ago(months_ago, days_ago)
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": day,
                "invoice_date_due": day + relativedelta(days=30),
                "currency_id": (currency or self.company.currency_id).id,
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": (product or self.product).id, "price_unit": amount, "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )
        if post:
            move.action_post()
        self.flush_tracking()
        return move

    def pay(self, move, day=None, amount=None):
        values = {"payment_date": day or self.today}
        if amount is not None:
            values["amount"] = amount
        payments = (
            move.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create(values)
            ._create_payments()
        )
        self.flush_tracking()
        return payments

    def refund(self, move, days_ago=0):
        """A credit note for the whole invoice, posted."""
        credit = move._reverse_moves([{"invoice_date": self.ago(days=days_ago)}], cancel=True)
        self.flush_tracking()
        return credit

    def recompute(self, *partners):
        """What the nightly run does for these partners (fresh rankings, then the engine)."""
        self.company._lifecycle_refresh_cutpoints()
        return self.env["res.partner"].union(*partners)._lifecycle_recompute()


class AssignmentCase(LifecycleCase):
    """A sales team of three salespeople of equal capacity (Alice, Bob, Carol: 90 leads a month, 3 a
    day), whose team takes no lead without a team (its assignment domain matches nothing), so that
    only the test's own leads are assigned."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sellers = ()
        cls.alice, cls.bob, cls.carol = (
            cls.salesperson(login, name) for login, name in (("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol"))
        )
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Europe",
                "company_id": cls.company.id,
                "use_leads": True,
                "use_opportunities": True,
                "user_id": cls.manager.id,
                "assignment_domain": "[('id', '=', 0)]",
            }
        )
        cls.members = cls.env["crm.team.member"].create(
            [{"crm_team_id": cls.team.id, "user_id": user.id, "assignment_max": 90} for user in cls.sellers]
        )
        cls.member_of = dict(zip(cls.sellers, cls.members, strict=True))

    @classmethod
    def salesperson(cls, login, name):
        user = new_test_user(
            cls.env,
            login=f"leads_{login}",
            name=name,
            groups=f"base.group_user,{GROUP_SALESMAN}",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
            tz="UTC",
        )
        cls.sellers = (*cls.sellers, user)
        return user

    def new_leads(self, count, team=None, **values):
        """Unassigned leads of the team, as a web form or an import leaves them (in a request of its own:
        the chatter tracks what happens to them afterwards)."""
        leads = self.env["crm.lead"].create(
            [
                {"name": f"Lead {i}", "type": "lead", "team_id": (team or self.team).id, "user_id": False, **values}
                for i in range(count)
            ]
        )
        self.flush_tracking()
        return leads

    def assign(self, team=None):
        """What a sales manager's Assign Leads on the team does."""
        (team or self.team).with_user(self.manager)._action_assign_leads(force_quota=True, creation_delta_days=0)
        self.flush_tracking()

    def held(self, leads):
        """{salesperson: how many of these leads they hold}."""
        return {user: len(leads.filtered(lambda lead, user=user: lead.user_id == user)) for user in self.sellers}

    def assignment_note(self, lead):
        """The body of the lead's message that gave it its salesperson."""
        message = lead.message_ids.filtered(lambda m: "user_id" in m.tracking_value_ids.field_id.mapped("name"))[:1]
        return message.body or ""
