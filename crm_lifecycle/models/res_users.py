from collections import defaultdict

from markupsafe import Markup

from odoo import _, api, models
from odoo.exceptions import AccessError, UserError

SALES_MANAGER = "sales_team.group_sale_manager"
# what a portfolio holds, in the order the previews and summaries list it
KINDS = ("leads", "opportunities", "customers", "complaints", "activities")


class ResUsers(models.Model):
    _inherit = "res.users"

    def action_archive(self):
        # before Odoo's mail deletes the activities of the users archived: they go with the portfolio
        self._lifecycle_leaving()._lifecycle_hand_over_all()
        # Odoo's action_archive writes active: the portfolio is not looked for a second time there
        return super(ResUsers, self.with_context(lifecycle_handed_over=True)).action_archive()

    def write(self, vals):
        leaving = self._lifecycle_leaving() if "active" in vals and not vals["active"] else None
        result = super().write(vals)
        if leaving:
            # a salesperson who leaves leaves nothing behind: their portfolio goes to their team, and
            # they receive no lead any more
            if not self.env.context.get("lifecycle_handed_over"):
                leaving._lifecycle_hand_over_all()
            leaving.sudo().crm_team_member_ids.write({"active": False})
        return result

    def _lifecycle_leaving(self):
        return self.filtered(lambda user: user.active and not user.share)

    def _lifecycle_hand_over_all(self):
        for user in self:
            user._lifecycle_hand_over(team=user.sale_team_id, automatic=True)

    def action_open_portfolio_handover(self):
        self.ensure_one()
        if not self.env.user.has_group(SALES_MANAGER):
            raise AccessError(_("Only sales managers hand over a salesperson's portfolio."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Hand over portfolio"),
            "res_model": "crm.portfolio.handover",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_user_id": self.id,
                "default_team_id": self.env.context.get("default_team_id") or self.sale_team_id.id,
            },
        }

    # ------------------------------------------------------------------ the portfolio
    def _lifecycle_portfolio(self):
        """What this user holds that must not stay with them when they leave: open leads and
        opportunities, the customers they are salesperson of, open complaints, and open activities
        (on those, and the care activities of the care rules). Read in sudo."""
        self.ensure_one()
        env = self.env(su=True)
        leads = env["crm.lead"].search([("user_id", "=", self.id), ("probability", "<", 100)])
        partners = env["res.partner"].search([("user_id", "=", self.id)])
        complaints = env["crm.complaint"].search([("user_id", "=", self.id), ("is_closed", "=", False)])
        care = (
            env["crm.care.log"]
            .search([("channel", "=", "activity"), ("activity_id.user_id", "=", self.id)])
            .activity_id
        )
        on_records = env["mail.activity"].search(
            [
                ("user_id", "=", self.id),
                "|",
                "|",
                "&",
                ("res_model", "=", "crm.lead"),
                ("res_id", "in", leads.ids),
                "&",
                ("res_model", "=", "res.partner"),
                ("res_id", "in", partners.ids),
                "&",
                ("res_model", "=", "crm.complaint"),
                ("res_id", "in", complaints.ids),
            ]
        )
        return {"leads": leads, "partners": partners, "complaints": complaints, "activities": on_records | care}

    @api.model
    def _lifecycle_bundles(self, portfolio):
        """The portfolio by customer: a customer goes with their contacts, leads, complaints and the
        activities on them to one person. {key: {"leads":, "partners":, "complaints":, "activities":}}"""
        env = self.env(su=True)
        bundles = defaultdict(
            lambda: {
                "leads": env["crm.lead"],
                "partners": env["res.partner"],
                "complaints": env["crm.complaint"],
                "activities": env["mail.activity"],
            }
        )
        for partner in portfolio["partners"]:
            bundles[("customer", partner.commercial_partner_id.id)]["partners"] |= partner
        for lead in portfolio["leads"]:
            key = ("customer", lead.partner_id.commercial_partner_id.id) if lead.partner_id else ("lead", lead.id)
            bundles[key]["leads"] |= lead
        for complaint in portfolio["complaints"]:
            customer = complaint.commercial_partner_id
            key = ("customer", customer.id) if customer else ("complaint", complaint.id)
            bundles[key]["complaints"] |= complaint
        where = {}
        for key, bundle in bundles.items():
            for kind in ("leads", "partners", "complaints"):
                for record in bundle[kind]:
                    where[(record._name, record.id)] = key
        Partner = env["res.partner"]
        for activity in portfolio["activities"]:
            key = where.get((activity.res_model, activity.res_id))
            if key is None and activity.res_model == "res.partner":
                # a care activity on a customer of someone else: with that customer's bundle
                key = ("customer", Partner.browse(activity.res_id).commercial_partner_id.id)
            bundles[key or ("activity", activity.id)]["activities"] |= activity
        return dict(bundles)

    def _lifecycle_handover_plan(self, team=None, target=None, automatic=False, preview=False):
        """{bundle key: (bundle, receiving user or an empty recordset)}: everything to `target`, else
        spread across `team` by its strategy (a customer and what goes with them to one member, at work
        today when someone is, whose assignment domain takes its leads when someone's does). Nobody to
        receive: the team leader; else nobody (the leads go back to their team's assignment).

        A receiver who may not have a record (another company) raises, unless `automatic` (archiving),
        where the record goes to nobody instead."""
        self.ensure_one()
        bundles = self._lifecycle_bundles(self._lifecycle_portfolio())
        Users = self.env["res.users"].sudo()
        if target:
            plan = {key: (bundle, target) for key, bundle in bundles.items()}
        else:
            plan = self._lifecycle_spread(bundles, team, store_turns=not preview)
        for key, (bundle, receiver) in plan.items():
            wrong = receiver and self._lifecycle_foreign_record(bundle, receiver)
            if wrong and not automatic:
                raise UserError(
                    _(
                        "%(user)s cannot receive %(record)s: it belongs to %(company)s, which is not one of their "
                        "companies. Choose someone of that company, or give them access to it first.",
                        user=receiver.name,
                        record=wrong.display_name,
                        company=wrong.company_id.name,
                    )
                )
            if wrong:
                plan[key] = (bundle, Users)
        return plan

    def _lifecycle_spread(self, bundles, team, store_turns=True):
        Users = self.env["res.users"].sudo()
        if not team:
            return {key: (bundle, Users) for key, bundle in bundles.items()}
        team = team.sudo()
        members, _off = team._lifecycle_receivers(exclude_users=self)
        if not members:
            # everybody is off today: a portfolio is for the months to come, they still take it
            members = team.crm_team_member_ids.filtered(lambda m: m.user_id.active and m.user_id != self)
        leader = team.user_id if team.user_id.active and team.user_id != self else Users
        if not members:
            return {key: (bundle, leader) for key, bundle in bundles.items()}
        allocator = team._lifecycle_allocator(members)
        plan = {}
        for key, bundle in bundles.items():
            takes = {
                member.id
                for member in members
                if not bundle["leads"]
                or len(bundle["leads"].filtered_domain(member._lifecycle_domain())) == len(bundle["leads"])
            }
            size = max(1, len(bundle["leads"]) + len(bundle["partners"]))
            picked = allocator.pick(takes or None, size=size)
            plan[key] = (bundle, members.browse(picked).user_id)
        if store_turns:
            team._lifecycle_store_turns(members, allocator)
        return plan

    @api.model
    def _lifecycle_foreign_record(self, bundle, user):
        """The first record of the bundle of a company the user is not in, or None."""
        for kind in ("leads", "partners", "complaints"):
            for record in bundle[kind]:
                if record.company_id and record.company_id not in user.company_ids:
                    return record
        return None

    @api.model
    def _lifecycle_plan_counts(self, plan):
        """{receiver: {kind: count}} of a plan (an empty recordset: nobody)."""
        counts = defaultdict(lambda: dict.fromkeys(KINDS, 0))
        for bundle, receiver in plan.values():
            row = counts[receiver]
            row["leads"] += len(bundle["leads"].filtered(lambda lead: lead.type == "lead"))
            row["opportunities"] += len(bundle["leads"].filtered(lambda lead: lead.type == "opportunity"))
            row["customers"] += len(bundle["partners"])
            row["complaints"] += len(bundle["complaints"])
            row["activities"] += len(bundle["activities"])
        return dict(counts)

    @api.model
    def _lifecycle_counts_table(self, counts):
        """The counts of a plan as an HTML table: one row per receiver."""
        headers = {
            "leads": _("Leads"),
            "opportunities": _("Open opportunities"),
            "customers": _("Customers"),
            "complaints": _("Complaints"),
            "activities": _("Activities"),
        }
        head = Markup("").join(Markup("<th class='text-end'>%s</th>") % headers[kind] for kind in KINDS)
        rows = Markup("")
        for receiver, row in sorted(counts.items(), key=lambda item: (not item[0], item[0].name or "")):
            name = receiver.name if receiver else _("Nobody: back to the team's assignment")
            cells = Markup("").join(Markup("<td class='text-end'>%s</td>") % row[kind] for kind in KINDS)
            rows += Markup("<tr><td>%s</td>%s</tr>") % (name, cells)
        return Markup(
            "<table class='table table-sm o_crm_lifecycle_handover'><thead><tr><th>%s</th>%s</tr></thead>"
            "<tbody>%s</tbody></table>"
        ) % (_("Goes to"), head, rows)

    def _lifecycle_hand_over(self, team=None, target=None, automatic=False):
        """Hand this user's portfolio over (to `target`, else across `team`), then say on each team
        concerned what moved where. Returns the counts per receiver."""
        self.ensure_one()
        plan = self._lifecycle_handover_plan(team=team, target=target, automatic=automatic)
        if not plan:
            return {}
        counts = self._lifecycle_plan_counts(plan)
        self._lifecycle_apply_plan(plan)
        self._lifecycle_post_summary(counts, team, target, automatic)
        return counts

    def _lifecycle_apply_plan(self, plan):
        env = self.env(su=True)
        by_receiver = defaultdict(list)
        for bundle, receiver in plan.values():
            by_receiver[receiver].append(bundle)
        for receiver, bundles in by_receiver.items():
            leads = env["crm.lead"].union(*(b["leads"] for b in bundles))
            partners = env["res.partner"].union(*(b["partners"] for b in bundles))
            complaints = env["crm.complaint"].union(*(b["complaints"] for b in bundles))
            activities = env["mail.activity"].union(*(b["activities"] for b in bundles))
            leads.with_context(mail_auto_subscribe_no_notify=True).write({"user_id": receiver.id})
            partners.write({"user_id": receiver.id})
            if receiver:
                complaints.write({"user_id": receiver.id})
            else:
                for complaint in complaints:
                    complaint.user_id = complaint._choose_owner(
                        complaint.team_id, complaint.partner_id, complaint.company_id
                    )
            # an activity needs someone: else the person who archived the user
            acting = self.env.user if self.env.user.active and self.env.user != self else env["res.users"]
            if receiver or acting:
                activities.write({"user_id": (receiver or acting).id})

    def _lifecycle_post_summary(self, counts, team, target, automatic):
        teams = self.crm_team_member_ids.crm_team_id | (team or self.env["crm.team"])
        if not teams:
            return
        by = self.env.user.name
        if target:
            how = _("to %(user)s", user=target.name)
        elif team:
            how = _(
                "across team %(team)s by %(strategy)s",
                team=team.name,
                strategy=dict(team._fields["assignment_strategy"]._description_selection(self.env))[
                    team.assignment_strategy
                ],
            )
        else:
            how = _("to nobody: the user has no team")
        if automatic:
            intro = _("%(user)s was archived: their portfolio went %(how)s.", user=self.name, how=how)
        else:
            intro = _("%(by)s handed over the portfolio of %(user)s %(how)s.", by=by, user=self.name, how=how)
        body = Markup("<p>%s</p>%s") % (intro, self._lifecycle_counts_table(counts))
        receivers = self.env["res.users"].union(*(receiver for receiver in counts if receiver))
        for each in teams.sudo():
            each.message_post(body=body, partner_ids=receivers.partner_id.ids, subtype_xmlid="mail.mt_note")
