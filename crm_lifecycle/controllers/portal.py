"""Customer portal for complaints: /my/complaints.

A customer sees the complaints of their company (record rule crm_complaint_rule_portal), reads and answers
their thread, and files new ones. Whose complaint it is never comes from the form: it is always the
logged-in user's contact.
"""

from odoo import _, http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request
from odoo.tools import format_date, plaintext2html

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..lib.complaints import control_character

SUBJECT_MAX = 200
DESCRIPTION_MAX = 10_000
# the confirmed orders offered in the form's select, newest first
ORDERS_OFFERED = 100


class ComplaintPortal(CustomerPortal):
    # ------------------------------------------------------------------ home counter
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "complaint_count" in counters:
            Complaint = request.env["crm.complaint"]
            values["complaint_count"] = (
                Complaint.search_count(self._complaint_domain()) if Complaint.has_access("read") else 0
            )
        return values

    def _complaint_domain(self):
        """The complaints of the user's company (or their own, for a private customer).

        Searched with the user's rights: the record rules apply on top of it.
        """
        return [("commercial_partner_id", "=", request.env.user.partner_id.commercial_partner_id.id)]

    def _complaint_searchbar_sortings(self):
        return {
            "date": {"label": _("Newest"), "order": "request_date desc, id desc"},
            "name": {"label": _("Reference"), "order": "name, id"},
            "stage": {"label": _("Stage"), "order": "stage_id, request_date desc, id desc"},
        }

    def _complaint_searchbar_filters(self):
        return {
            "all": {"label": _("All"), "domain": []},
            "open": {"label": _("Open"), "domain": [("is_closed", "=", False)]},
            "closed": {"label": _("Closed"), "domain": [("is_closed", "=", True)]},
        }

    # ------------------------------------------------------------------ list
    @http.route(["/my/complaints", "/my/complaints/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_complaints(self, page=1, sortby=None, filterby=None, **kw):
        Complaint = request.env["crm.complaint"]
        sortings = self._complaint_searchbar_sortings()
        filters = self._complaint_searchbar_filters()
        sortby = sortby if sortby in sortings else "date"
        filterby = filterby if filterby in filters else "all"
        domain = self._complaint_domain() + filters[filterby]["domain"]

        readable = Complaint.has_access("read")
        total = Complaint.search_count(domain) if readable else 0
        pager = portal_pager(
            url="/my/complaints",
            url_args={"sortby": sortby, "filterby": filterby},
            total=total,
            page=page,
            step=self._items_per_page,
        )
        complaints = (
            Complaint.search(
                domain, order=sortings[sortby]["order"], limit=self._items_per_page, offset=pager["offset"]
            )
            if readable
            else Complaint
        )
        request.session["my_complaints_history"] = complaints.ids[:100]

        values = self._prepare_portal_layout_values()
        values.update(
            {
                "complaints": complaints,
                "page_name": "complaint",
                "default_url": "/my/complaints",
                "pager": pager,
                "searchbar_sortings": sortings,
                "sortby": sortby,
                "searchbar_filters": filters,
                "filterby": filterby,
            }
        )
        return request.render("crm_lifecycle.portal_my_complaints", values)

    # ------------------------------------------------------------------ one complaint
    @http.route(["/my/complaints/<int:complaint_id>"], type="http", auth="public", website=True)
    def portal_my_complaint(self, complaint_id, access_token=None, **kw):
        # another customer's complaint is refused exactly as a missing one
        try:
            complaint_sudo = self._document_check_access("crm.complaint", complaint_id, access_token=access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")

        order_sudo = complaint_sudo.sale_order_id
        order_url = False
        if order_sudo and order_sudo.with_user(request.env.user).has_access("read"):
            order_url = order_sudo.access_url
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "complaint": complaint_sudo,
                "page_name": "complaint",
                "sale_order_url": order_url,
                "backend_url": f"/odoo/action-crm_lifecycle.crm_complaint_action/{complaint_sudo.id}",
            }
        )
        # the chatter's values (object, token) and the previous / next record of the list
        chatter_kw = {key: kw[key] for key in ("pid", "hash") if kw.get(key)}
        values = self._get_page_view_values(
            complaint_sudo, access_token, values, "my_complaints_history", False, **chatter_kw
        )
        return request.render("crm_lifecycle.portal_my_complaint", values)

    # ------------------------------------------------------------------ new complaint
    @http.route(["/my/complaints/new"], type="http", auth="user", website=True, methods=["GET", "POST"])
    def portal_new_complaint(self, **post):
        form, error_message, error_fields = {}, "", set()
        if request.httprequest.method == "POST":
            form = {
                key: post.get(key) or ""
                for key in ("subject", "complaint_type", "category", "description", "sale_order_id")
            }
            create_values, error_message, error_fields = self._complaint_form_validate(form)
            if not error_message:
                # portal users may not create complaints: sudo, only once every value is checked
                complaint = request.env["crm.complaint"].sudo().create(create_values)
                return request.redirect(complaint.access_url)
        values = self._prepare_portal_layout_values()
        values.update(self._complaint_form_render_values(form))
        values.update({"error_message": error_message, "error_fields": error_fields})
        return request.render("crm_lifecycle.portal_new_complaint", values)

    def _complaint_selection(self, field_name):
        """[(value, label)] of a selection field of complaints, labels in the user's language."""
        field = request.env["crm.complaint"]._fields[field_name]
        return field._description_selection(request.env)

    def _complaint_customer_orders(self):
        """The confirmed sale orders of the user's company, offered in the form."""
        customer = request.env.user.partner_id.commercial_partner_id
        return (
            request.env["sale.order"]
            .sudo()
            .search(
                [("partner_id", "child_of", customer.id), ("state", "=", "sale")],
                order="date_order desc, id desc",
                limit=ORDERS_OFFERED,
            )
        )

    def _complaint_customer_order(self, order_id):
        """The posted sale order, sudoed: an empty recordset when none was chosen, None when it is not a
        confirmed order of the user's company (or not an order at all)."""
        Order = request.env["sale.order"].sudo()
        if not order_id:
            return Order
        if not order_id.isdecimal() or int(order_id) >= 2**31:
            return None
        order = Order.browse(int(order_id)).exists()
        customer = request.env.user.partner_id.commercial_partner_id
        if not order or order.state != "sale" or order.partner_id.commercial_partner_id != customer:
            return None
        return order

    def _complaint_form_render_values(self, form):
        return {
            "page_name": "complaint",
            "new_complaint": True,
            "complaint_types": self._complaint_selection("complaint_type"),
            "complaint_categories": self._complaint_selection("category"),
            "sale_orders": [
                (order.id, f"{order.name} ({format_date(request.env, order.date_order)})")
                for order in self._complaint_customer_orders()
            ],
            "subject_max": SUBJECT_MAX,
            "description_max": DESCRIPTION_MAX,
            "form": {
                "subject": form.get("subject", ""),
                "complaint_type": form.get("complaint_type") or "complaint",
                "category": form.get("category") or "service",
                "description": form.get("description", ""),
                "sale_order_id": form.get("sale_order_id", ""),
            },
        }

    def _complaint_form_validate(self, form):
        """(values to create, error message, fields in error) from the posted form.

        Nothing the form posts decides whose complaint it is: the customer is the logged-in user's contact.
        """
        user = request.env.user
        partner = user.partner_id
        # before anything is stripped: a control character is refused, never silently dropped
        if control_character(form["subject"]):
            return (
                {},
                _("The subject holds an invisible control character: type it again without it."),
                {"subject"},
            )
        # browsers post line breaks as CRLF but count them as one character against maxlength
        description = form["description"].replace("\r\n", "\n").replace("\r", "\n").strip()
        if control_character(description, allowed="\t\n"):
            return (
                {},
                _("The description holds an invisible control character: type it again without it."),
                {"description"},
            )
        subject = " ".join(form["subject"].split())
        complaint_type = form["complaint_type"] or "complaint"
        category = form["category"] or "service"

        if not subject:
            return {}, _("Please give a subject to your complaint."), {"subject"}
        if len(subject) > SUBJECT_MAX:
            return {}, _("The subject is too long: at most %(max)s characters.", max=SUBJECT_MAX), {"subject"}
        if complaint_type not in dict(self._complaint_selection("complaint_type")):
            return {}, _("Choose the type of your request from the list."), {"complaint_type"}
        if category not in dict(self._complaint_selection("category")):
            return {}, _("Choose what your complaint is about from the list."), {"category"}
        if len(description) > DESCRIPTION_MAX:
            return (
                {},
                _("The description is too long: at most %(max)s characters.", max=DESCRIPTION_MAX),
                {"description"},
            )
        order = self._complaint_customer_order(form["sale_order_id"])
        if order is None:
            return (
                {},
                _("This sale order is not one of yours: choose one of your orders from the list."),
                {"sale_order_id"},
            )

        # the order's (else the customer's) company, so that customer, order, team and owner all belong to it
        company = order.company_id or partner.company_id or user.company_id
        Complaint = request.env["crm.complaint"].sudo()
        team = Complaint._default_team(company)
        return (
            {
                "subject": subject,
                "description": plaintext2html(description) if description else False,
                "complaint_type": complaint_type,
                "category": category,
                "partner_id": partner.id,
                "channel": "portal",
                "sale_order_id": order.id or False,
                "company_id": company.id,
                "team_id": team.id,
                "user_id": Complaint._choose_owner(team, partner, company).id,
            },
            "",
            set(),
        )
