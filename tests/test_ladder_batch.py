"""The nightly run and the prompt updates: batches, progress, re-runs, query counts, merges."""

from contextlib import suppress

from odoo.tests import tagged

from .common import LifecycleCase


class WorkerKilled(Exception):
    """Stands for a cron worker that dies in the middle of a batch."""


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestNightlyRun(LifecycleCase):
    def setUp(self):
        super().setUp()
        self.engine = self.env["crm.lifecycle.engine"]
        self.run = self.env["crm.lifecycle.run"]._for_job("ladder")
        self.run._restart()

    def _run_to_the_end(self, engine=None, batch_size=50):
        engine = self.engine if engine is None else engine  # (an empty recordset is falsy)
        while engine._cron_recompute(batch_size=batch_size):
            pass

    def _snapshot(self):
        """Where each partner row physically is: any UPDATE moves it."""
        self.env.flush_all()
        self.env.cr.execute("SELECT id, ctid::text FROM res_partner")
        return dict(self.env.cr.fetchall())

    def test_batches_report_progress_and_survive_an_interruption(self):
        newcomers = self.env["res.partner"].union(*(self.customer(f"Night Batch {i}") for i in range(5)))
        for partner in newcomers:
            self.order(partner, days_ago=4, defer=True)
        self.assertEqual(set(newcomers.mapped("ladder_stage")), {"prospect"}, "deferred: nothing computed yet")
        cron = self.env.ref("crm_lifecycle.ir_cron_lifecycle_recompute")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id, "done": 0, "remaining": 0})
        engine = self.engine.with_context(ir_cron_progress_id=progress.id)

        remaining = engine._cron_recompute(batch_size=10)
        self.assertEqual((progress.done, progress.remaining), (10, remaining))
        self.assertGreater(remaining, 0)
        cursor = self.run.cursor

        # the next batch dies before its transaction commits: nothing of it remains
        with suppress(WorkerKilled), self.env.cr.savepoint():
            engine._cron_recompute(batch_size=10)
            raise WorkerKilled
        self.env.invalidate_all()
        self.assertEqual(self.run.cursor, cursor, "the run resumes where it stopped")

        self._run_to_the_end(engine, batch_size=10)
        self.assertEqual(self.run.cursor, 0, "a finished run starts over next night")
        self.assertEqual(progress.remaining, 0)
        for partner in newcomers:
            self.assertEqual(partner.ladder_stage, "customer")
            self.assertEqual(len(partner.ladder_history_ids), 1, "each move is written once")

    def test_a_run_with_nothing_changed_writes_nothing(self):
        self._run_to_the_end()
        before = self._snapshot()
        history = self.env["crm.ladder.history"].search_count([])
        messages = self.env["mail.message"].search_count([("model", "=", "res.partner")])
        self.assertEqual(self.engine._recompute(self.env["res.partner"].search([])), 0)
        self._run_to_the_end()
        self.assertEqual(self._snapshot(), before, "no partner row was rewritten")
        self.assertEqual(self.env["crm.ladder.history"].search_count([]), history)
        self.assertEqual(self.env["mail.message"].search_count([("model", "=", "res.partner")]), messages)

    def test_archived_partners_keep_their_rung(self):
        partner = self.customer("Gone Quiet")
        self.order(partner, days_ago=30)
        partner.action_archive()
        self.flush_tracking()
        self.order(partner, days_ago=2, defer=True)
        self._run_to_the_end()
        self.assertEqual(partner.lifecycle_order_count, 1, "the nightly run leaves archived partners alone")

    def test_orders_of_an_archived_contact_still_count(self):
        company = self.customer("Staff Turnover")
        former = self.env["res.partner"].create({"name": "Left The Company", "parent_id": company.id})
        self.order(former, days_ago=40, defer=True)
        former.action_archive()
        self._run_to_the_end()
        self.assertEqual(company.ladder_stage, "customer")
        self.assertEqual(company.lifecycle_order_count, 1)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestQueryCounts(LifecycleCase):
    def _customers(self, count, orders=2):
        partners = self.env["res.partner"].union(*(self.customer(f"Counted {count}-{i}") for i in range(count)))
        for partner in partners:
            for days in range(orders):
                self.order(partner, days_ago=10 + days, defer=True)
        return partners

    def _queries(self, function):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        function()
        self.flush_tracking()  # with the chatter's tracking, posted when the transaction commits
        return self.env.cr.sql_log_count - before

    def test_a_batch_costs_the_same_queries_whatever_its_size(self):
        warm_up, small, large = self._customers(1), self._customers(3), self._customers(30)
        # a contact person on every customer: the contacts carry their company's rung
        contacts = self.env["res.partner"].create(
            [{"name": f"Buyer at {p.name}", "parent_id": p.id} for p in warm_up | small | large]
        )
        self.company._lifecycle_refresh_cutpoints()
        # first placements: one read of the partners, one of the main company, one of the books
        # (between two that turn PostgreSQL's JIT off and back), one of open complaints, one
        # statement that updates the partners and inserts their history, one UPDATE of their contacts
        warm_up._lifecycle_recompute()  # fills Odoo's caches (fields, defaults) as any earlier request would
        with self.assertQueryCount(8):
            small._lifecycle_recompute()
        with self.assertQueryCount(8):
            large._lifecycle_recompute()
        self.assertEqual(set((small | large).mapped("ladder_stage")), {"client"})
        self.assertEqual(set(contacts.mapped("ladder_stage")), {"client"})
        self.assertEqual(len((small | large).ladder_history_ids), 33)
        # nothing changed: read, and nothing written
        with self.assertQueryCount(6):
            large._lifecycle_recompute()
        # moves of known rungs: history rows, and chatter messages with their tracking values
        self.company.lifecycle_client_min_orders = 3
        self.company.lifecycle_supporter_min_orders_12m = 3
        warm_up._lifecycle_recompute()
        self.flush_tracking()
        counts = [self._queries(small._lifecycle_recompute), self._queries(large._lifecycle_recompute)]
        self.assertEqual(counts[0], counts[1], "queries must not grow with the batch")
        self.assertEqual(set((small | large).mapped("ladder_stage")), {"customer"})
        self.assertEqual(len(large.message_ids.tracking_value_ids), 30)

    def test_prompt_update_after_one_invoice_whatever_the_history(self):
        short = self._customers(1, orders=2)
        long = self._customers(1, orders=40)
        moving = self._customers(1, orders=1)  # its second purchase makes it a client: a tracked move
        warm_up = self._customers(1, orders=1)  # fills Odoo's caches (tracking, authors) as earlier requests would
        self.company._lifecycle_refresh_cutpoints()
        (short | long | moving | warm_up)._lifecycle_recompute()
        counts = []
        for partner in (warm_up, short, long, moving):
            invoice = self.direct_invoice(partner, 100.0, days_ago=1, post=False)
            invoice.with_context(lifecycle_defer=True).action_post()
            counts.append(self._queries(partner._lifecycle_recompute))
        self.assertEqual(moving.ladder_stage, "client")
        counts = counts[1:]
        self.assertEqual(counts[0], counts[1], "the length of the history costs no query")
        self.assertLessEqual(max(counts), 25)


@tagged("post_install", "-at_install", "crm_lifecycle")
class TestMerge(LifecycleCase):
    def test_merged_partners_add_up(self):
        keep = self.customer("Acme (main record)")
        duplicate = self.customer("ACME Inc (duplicate)")
        friend = self.customer("Acme's Friend", referred_by_id=duplicate.id)
        self.order(keep, months_ago=3, invoice=False)
        self.order(duplicate, months_ago=1, invoice=False)
        self.order(friend, days_ago=5, invoice=False)
        self.assertEqual(keep.ladder_stage, "customer")
        self.assertEqual(duplicate.lifecycle_referral_customer_count, 1)
        self.env["base.partner.merge.automatic.wizard"]._merge((keep | duplicate).ids, keep)
        self.assertFalse(duplicate.exists())
        self.assertEqual(friend.referred_by_id, keep)
        self.assertEqual(keep.lifecycle_order_count, 2)
        self.assertEqual(keep.ladder_stage, "client")
        self.assertEqual(keep.lifecycle_referral_customer_count, 1)
        self.assertEqual(len(keep.ladder_history_ids), 3, "both histories, and the move the merge made")
