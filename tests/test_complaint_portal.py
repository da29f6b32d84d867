"""The customer portal of complaints (/my/complaints): what a customer sees, files and may not reach.

Two customer companies, A and B, each with a portal user; A has a second contact. Everything goes
through real HTTP requests (and a browser for the tour), as the portal users.
"""

from odoo import Command, http
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

LOGIN_A = "portal_customer_a"
LOGIN_B = "portal_customer_b"


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestComplaintPortal(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.customer_a = Partner.create({"name": "Portal Customer A Ltd", "is_company": True})
        cls.alice = Partner.create(
            {"name": "Alice Portal", "parent_id": cls.customer_a.id, "email": "alice@customer-a.example.com"}
        )
        cls.arthur = Partner.create(
            {"name": "Arthur Colleague", "parent_id": cls.customer_a.id, "email": "arthur@customer-a.example.com"}
        )
        cls.customer_b = Partner.create({"name": "Portal Customer B Ltd", "is_company": True})
        cls.bob = Partner.create(
            {"name": "Bob Portal", "parent_id": cls.customer_b.id, "email": "bob@customer-b.example.com"}
        )
        # new_test_user's password is the login (both are 8 characters or more)
        cls.user_a = new_test_user(
            cls.env, login=LOGIN_A, groups="base.group_portal", partner_id=cls.alice.id, name=cls.alice.name,
            email=cls.alice.email,
        )  # fmt: skip
        cls.user_b = new_test_user(
            cls.env, login=LOGIN_B, groups="base.group_portal", partner_id=cls.bob.id, name=cls.bob.name,
            email=cls.bob.email,
        )  # fmt: skip

        Complaint = cls.env["crm.complaint"]
        cls.complaint_alice = Complaint.create(
            {"subject": "Alice Invoice Twice Charged", "partner_id": cls.alice.id, "category": "price"}
        )
        cls.complaint_arthur = Complaint.create(
            {"subject": "Arthur Parcel Never Arrived", "partner_id": cls.arthur.id, "category": "delivery"}
        )
        cls.complaint_bob = Complaint.create(
            {
                "subject": "Bob Secret Pricing Dispute",
                "partner_id": cls.bob.id,
                "description": "<p>Bob's confidential details</p>",
            }
        )

        product = cls.env["product.product"].create({"name": "Portal Widget", "type": "service", "list_price": 80.0})
        cls.order_a = cls._confirmed_order(cls.arthur, product)
        cls.order_b = cls._confirmed_order(cls.bob, product)
        cls.quotation_a = cls.env["sale.order"].create(
            {"partner_id": cls.alice.id, "order_line": [Command.create({"product_id": product.id})]}
        )

    @classmethod
    def _confirmed_order(cls, partner, product):
        order = cls.env["sale.order"].create(
            {"partner_id": partner.id, "order_line": [Command.create({"product_id": product.id})]}
        )
        order.action_confirm()
        return order

    def _post_new_complaint(self, **values):
        data = {
            "subject": "Portal Form Complaint",
            "complaint_type": "complaint",
            "category": "service",
            "description": "",
            "csrf_token": http.Request.csrf_token(self),
            **values,
        }
        return self.url_open("/my/complaints/new", data=data)

    def _portal_complaints(self):
        """Complaints the test customers filed on the portal (the demo data has others)."""
        customers = self.customer_a | self.customer_b
        return self.env["crm.complaint"].search(
            [("channel", "=", "portal"), ("commercial_partner_id", "in", customers.ids)]
        )

    # ------------------------------------------------------------------ what a customer sees
    def test_list_shows_the_company_complaints_only(self):
        self.authenticate(LOGIN_A, LOGIN_A)
        response = self.url_open("/my/complaints")
        self.assertEqual(response.status_code, 200)
        # Alice sees hers and her colleague's (same company), never B's
        self.assertIn("Alice Invoice Twice Charged", response.text)
        self.assertIn("Arthur Parcel Never Arrived", response.text)
        self.assertIn(self.complaint_arthur.name, response.text)
        self.assertNotIn("Bob Secret Pricing Dispute", response.text)
        self.assertNotIn(self.complaint_bob.name, response.text)
        self.assertIn('href="/my/complaints/new"', response.text)

        # and the other side: B sees B's only
        self.authenticate(LOGIN_B, LOGIN_B)
        response = self.url_open("/my/complaints")
        self.assertIn("Bob Secret Pricing Dispute", response.text)
        self.assertNotIn("Alice Invoice Twice Charged", response.text)
        self.assertNotIn("Arthur Parcel Never Arrived", response.text)

    def test_home_counter_counts_the_company_complaints(self):
        self.authenticate(LOGIN_A, LOGIN_A)
        home = self.url_open("/my")
        self.assertEqual(home.status_code, 200)
        self.assertIn("/my/complaints", home.text)
        self.assertIn('data-placeholder_count="complaint_count"', home.text)
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["complaint_count"]})
        self.assertEqual(counters, {"complaint_count": 2})

        self.authenticate(LOGIN_B, LOGIN_B)
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["complaint_count"]})
        self.assertEqual(counters, {"complaint_count": 1})

    def test_filters_and_sortings(self):
        closed = self.env.ref("crm_lifecycle.crm_complaint_stage_closed")
        self.complaint_arthur.write({"resolution": "<p>Parcel resent.</p>", "stage_id": closed.id})
        self.assertTrue(self.complaint_arthur.is_closed)
        self.authenticate(LOGIN_A, LOGIN_A)

        open_page = self.url_open("/my/complaints?filterby=open").text
        self.assertIn("Alice Invoice Twice Charged", open_page)
        self.assertNotIn("Arthur Parcel Never Arrived", open_page)
        closed_page = self.url_open("/my/complaints?filterby=closed").text
        self.assertIn("Arthur Parcel Never Arrived", closed_page)
        self.assertNotIn("Alice Invoice Twice Charged", closed_page)

        for sortby in ("date", "name", "stage", "unknown"):
            response = self.url_open(f"/my/complaints?sortby={sortby}&filterby=nonsense")
            self.assertEqual(response.status_code, 200, sortby)
            self.assertIn("Alice Invoice Twice Charged", response.text, sortby)
            self.assertNotIn("Bob Secret Pricing Dispute", response.text, sortby)
        self.assertEqual(self.url_open("/my/complaints/page/2").status_code, 200)

        # the resolution shows on the closed complaint's page
        page = self.url_open(f"/my/complaints/{self.complaint_arthur.id}").text
        self.assertIn("Parcel resent.", page)

    def test_complaint_page_shows_the_thread_and_fields(self):
        self.complaint_alice.sale_order_id = self.order_a
        self.authenticate(LOGIN_A, LOGIN_A)
        for complaint in (self.complaint_alice, self.complaint_arthur):
            response = self.url_open(f"/my/complaints/{complaint.id}")
            self.assertEqual(response.status_code, 200)
            self.assertIn(complaint.subject, response.text)
            self.assertIn(complaint.name, response.text)
            # the portal chatter, on this complaint
            self.assertIn('data-res_model="crm.complaint"', response.text)
            self.assertIn(f'data-res_id="{complaint.id}"', response.text)
        page = self.url_open(f"/my/complaints/{self.complaint_alice.id}").text
        self.assertIn(self.order_a.name, page)
        self.assertIn("Price", page)

    # ------------------------------------------------------------------ what a customer may not reach
    def test_other_customer_complaint_is_refused_like_a_missing_one(self):
        self.authenticate(LOGIN_A, LOGIN_A)
        missing_id = self.env["crm.complaint"].search([], order="id desc", limit=1).id + 1000
        refused = self.url_open(f"/my/complaints/{self.complaint_bob.id}", allow_redirects=False)
        missing = self.url_open(f"/my/complaints/{missing_id}", allow_redirects=False)
        wrong_token = self.url_open(
            f"/my/complaints/{self.complaint_bob.id}?access_token=not-the-token", allow_redirects=False
        )
        for response in (refused, missing, wrong_token):
            self.assertEqual(response.status_code, 303)
            self.assertTrue(response.headers["Location"].endswith("/my"), response.headers["Location"])
            self.assertNotIn("Bob Secret Pricing Dispute", response.text)
        followed = self.url_open(f"/my/complaints/{self.complaint_bob.id}")
        self.assertNotIn("Bob Secret Pricing Dispute", followed.text)
        self.assertNotIn("confidential", followed.text)

        # B's own user opens it
        self.authenticate(LOGIN_B, LOGIN_B)
        response = self.url_open(f"/my/complaints/{self.complaint_bob.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Bob Secret Pricing Dispute", response.text)

    def test_orm_and_rpc_cannot_reach_another_customer_complaint(self):
        Complaint = self.env["crm.complaint"].with_user(self.user_a)
        self.assertEqual(Complaint.search([]), self.complaint_alice | self.complaint_arthur)
        self.assertFalse(Complaint.search([("id", "=", self.complaint_bob.id)]))
        self.assertFalse(Complaint.search([("subject", "ilike", "Bob Secret")]))
        with self.assertRaises(AccessError):
            Complaint.browse(self.complaint_bob.id).read(["subject"])
        with self.assertRaises(AccessError):
            Complaint.browse(self.complaint_alice.id).write({"subject": "Changed by the customer"})
        with self.assertRaises(AccessError):
            Complaint.create({"subject": "Created over RPC", "partner_id": self.alice.id})
        self.assertEqual(self.env["crm.complaint"].with_user(self.user_b).search([]), self.complaint_bob)

        # the same over JSON-RPC, as the logged-in portal user
        self.authenticate(LOGIN_A, LOGIN_A)
        with self.assertRaises(JsonRpcException) as caught:
            self.make_jsonrpc_request(
                "/web/dataset/call_kw/crm.complaint/read",
                {
                    "model": "crm.complaint",
                    "method": "read",
                    "args": [[self.complaint_bob.id], ["subject"]],
                    "kwargs": {},
                },
            )
        self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")
        found = self.make_jsonrpc_request(
            "/web/dataset/call_kw/crm.complaint/search_read",
            {
                "model": "crm.complaint",
                "method": "search_read",
                "args": [],
                "kwargs": {"domain": [], "fields": ["subject"]},
            },
        )
        self.assertEqual(sorted(row["id"] for row in found), sorted((self.complaint_alice | self.complaint_arthur).ids))

    def test_chatter_reaches_own_complaints_only(self):
        self.complaint_bob.message_post(
            body="Bob private answer", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.authenticate(LOGIN_A, LOGIN_A)

        def post(complaint, body):
            return self.make_jsonrpc_request(
                "/mail/message/post",
                {
                    "thread_model": "crm.complaint",
                    "thread_id": complaint.id,
                    "post_data": {"body": body, "message_type": "comment", "subtype_xmlid": "mail.mt_comment"},
                },
            )

        # the customer answers on a complaint of their company (read access is enough to post)...
        post(self.complaint_arthur, "Alice asks for news")
        # ...never on another customer's, nor reads its thread
        with self.assertRaises(JsonRpcException) as caught:
            post(self.complaint_bob, "Alice writes to Bob")
        self.assertEqual(caught.exception.code, 404)
        fetched = self.make_jsonrpc_request(
            "/mail/thread/messages", {"thread_model": "crm.complaint", "thread_id": self.complaint_bob.id}
        )
        self.assertEqual(fetched["messages"], [])
        self.assertNotIn("Bob private answer", str(fetched))

        self.env.invalidate_all()
        reply = self.complaint_arthur.message_ids.filtered(lambda m: "Alice asks for news" in str(m.body))
        self.assertEqual(reply.author_id, self.alice)
        self.assertFalse(self.complaint_bob.message_ids.filtered(lambda m: "Alice writes" in str(m.body)))

    # ------------------------------------------------------------------ the form
    def test_form_offers_the_customer_confirmed_orders_only(self):
        self.authenticate(LOGIN_A, LOGIN_A)
        response = self.url_open("/my/complaints/new")
        self.assertEqual(response.status_code, 200)
        self.assertIn('name="subject"', response.text)
        self.assertIn(f'value="{self.order_a.id}"', response.text)
        self.assertIn(self.order_a.name, response.text)
        self.assertNotIn(self.order_b.name, response.text)
        self.assertNotIn(self.quotation_a.name, response.text)

    def test_new_complaint_is_the_user_own_whatever_the_form_says(self):
        self.authenticate(LOGIN_A, LOGIN_A)
        response = self._post_new_complaint(
            subject="   Machine   broke   after a week  ",
            complaint_type="fault",
            category="product",
            description="It broke.\n<script>alert(1)</script><b onmouseover=alert(2)>bold</b>",
            sale_order_id=str(self.order_a.id),
            # forged fields: none of them may be taken
            partner_id=str(self.bob.id),
            commercial_partner_id=str(self.customer_b.id),
            channel="phone",
            severity="critical",
            user_id=str(self.env.ref("base.user_admin").id),
        )
        complaint = self._portal_complaints()
        self.assertEqual(len(complaint), 1)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.url.endswith(f"/my/complaints/{complaint.id}"), response.url)
        self.assertIn("Machine broke after a week", response.text)

        self.assertEqual(complaint.partner_id, self.alice)
        self.assertEqual(complaint.commercial_partner_id, self.customer_a)
        self.assertEqual(complaint.channel, "portal")
        self.assertEqual(complaint.subject, "Machine broke after a week")
        self.assertEqual((complaint.complaint_type, complaint.category), ("fault", "product"))
        self.assertEqual(complaint.severity, "normal")
        self.assertEqual(complaint.sale_order_id, self.order_a)
        self.assertEqual(complaint.company_id, self.user_a.company_id)
        self.assertFalse(complaint.user_id)
        self.assertIn(self.alice, complaint.message_partner_ids)
        # the description is the typed text, escaped: no markup of the customer's survives
        description = str(complaint.description)
        self.assertNotIn("<script", description)
        self.assertNotIn("<b ", description)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", description)
        self.assertNotIn("<script>alert(1)", response.text)

        # B cannot open it
        self.authenticate(LOGIN_B, LOGIN_B)
        refused = self.url_open(f"/my/complaints/{complaint.id}", allow_redirects=False)
        self.assertEqual(refused.status_code, 303)

    def test_other_customer_order_is_refused_and_nothing_created(self):
        self.authenticate(LOGIN_A, LOGIN_A)
        for order_id in (str(self.order_b.id), str(self.quotation_a.id), "not-a-number", "99999999999999"):
            response = self._post_new_complaint(subject="Refund my order", sale_order_id=order_id)
            self.assertEqual(response.status_code, 200, order_id)
            self.assertIn("This sale order is not one of yours", response.text, order_id)
            # the form comes back with what was typed
            self.assertIn('value="Refund my order"', response.text, order_id)
            self.assertNotIn(self.order_b.name, response.text, order_id)
        self.assertFalse(self._portal_complaints())

    def test_missing_subject_or_bad_choice_is_refused_and_nothing_created(self):
        self.authenticate(LOGIN_A, LOGIN_A)
        response = self._post_new_complaint(subject="   ", description="No subject given")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Please give a subject to your complaint.", response.text)
        self.assertIn("No subject given", response.text)
        response = self._post_new_complaint(category="hacked")
        self.assertIn("Choose what your complaint is about from the list.", response.text)
        response = self._post_new_complaint(complaint_type="nonsense")
        self.assertIn("Choose the type of your request from the list.", response.text)
        response = self._post_new_complaint(subject="x" * 201)
        self.assertIn("The subject is too long", response.text)
        self.assertFalse(self._portal_complaints())

    def test_control_characters_are_refused_with_a_form_error(self):
        self.authenticate(LOGIN_A, LOGIN_A)
        refused = [
            ({"subject": "Broken\x00 machine"}, "The subject holds an invisible control character", "subject"),
            ({"subject": "Broken\x1b[31m machine"}, "The subject holds an invisible control character", "subject"),
            ({"subject": "Bell", "description": "Ring\x07 ring"}, "The description holds an invisible", "description"),
            ({"subject": "NUL", "description": "Line one\x00"}, "The description holds an invisible", "description"),
        ]
        for values, message, field in refused:
            with self.subTest(values=values):
                response = self._post_new_complaint(**values)
                self.assertEqual(response.status_code, 200)
                self.assertIn(message, response.text)
                self.assertRegex(response.text, rf'name="{field}"[^>]*is-invalid|is-invalid[^>]*name="{field}"')
        self.assertFalse(self._portal_complaints())
        # tabs and line breaks are what a description is made of
        self._post_new_complaint(subject="Tabs and lines", description="First line\r\n\tindented\nlast")
        complaint = self._portal_complaints()
        self.assertEqual(complaint.subject, "Tabs and lines")
        self.assertIn("indented", str(complaint.description))

    def test_a_new_complaint_goes_to_the_teams_owner_else_the_salesperson(self):
        users = {
            "groups": "base.group_user,sales_team.group_sale_salesman,crm_lifecycle.crm_lifecycle_group_complaint_user"
        }
        salesperson = new_test_user(self.env, login="portal_test_salesperson", **users)
        desk_owner = new_test_user(self.env, login="portal_test_desk_owner", **users)
        self.customer_a.user_id = salesperson
        self.authenticate(LOGIN_A, LOGIN_A)
        self._post_new_complaint(subject="First from the portal")
        first = self._portal_complaints()
        self.assertEqual(first.user_id, salesperson)
        self.assertEqual(first.team_id, self.env["crm.complaint"]._default_team(first.company_id))
        first.team_id.complaint_default_user_id = desk_owner
        self._post_new_complaint(subject="Second from the portal")
        second = self._portal_complaints() - first
        self.assertEqual(second.user_id, desk_owner)
        # and the owner sees it in the back end
        self.assertEqual(self.env["crm.complaint"].with_user(desk_owner).search([("id", "=", second.id)]), second)
        self.assertEqual(self.env["crm.complaint"].with_user(salesperson).search([("id", "=", second.id)]), second)

    def test_post_without_csrf_token_is_refused(self):
        self.authenticate(LOGIN_A, LOGIN_A)
        response = self._post_new_complaint(csrf_token="forged")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._portal_complaints())

    # ------------------------------------------------------------------ in a browser
    def test_portal_tour(self):
        self.env["crm.complaint"].create({"subject": "Portal Tour Earlier Complaint", "partner_id": self.alice.id})
        self.start_tour("/my", "crm_complaint_portal_tour", login=LOGIN_A)
        complaint = self._portal_complaints()
        self.assertEqual(len(complaint), 1)
        self.assertEqual(complaint.subject, "Portal Tour Broken Machine")
        self.assertEqual(complaint.partner_id, self.alice)
        self.assertEqual(complaint.category, "product")
        self.assertNotIn("<script", str(complaint.description))
        reply = complaint.message_ids.filtered(lambda m: "Any news about my machine?" in str(m.body))
        self.assertEqual(reply.author_id, self.alice)
        self.assertEqual(reply.message_type, "comment")
