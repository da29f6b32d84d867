"""An upgrade (`-u crm_lifecycle`) from the previous release keeps what the users made: every rung, lock,
manager's reason and complaint. The previous release is taken from the repository's history, installed
with its demo books and complaints, given a manager's override, then upgraded to this code."""

import subprocess
from pathlib import Path

import pytest

import odoo

from .scratch import _scratch, odoo_run, odoo_shell, query

ROOT = Path(__file__).resolve().parents[1]
# release 18.0.1.0.0, as it landed before 18.0.1.1.0
PREVIOUS_RELEASE = "e7b4d3b"

OVERRIDE = """
admin = env.ref('base.user_admin')
crescent = env.ref('crm_lifecycle.res_partner_crescent_demo')
wizard = env['crm.ladder.override'].with_user(admin).create(
    {'partner_ids': [(6, 0, crescent.ids)], 'ladder_stage': 'advocate', 'reason': 'Framework contract, 3 years'})
wizard.action_apply()
env.cr.commit()
"""
NIGHTLY_RUN = """
engine = env['crm.lifecycle.engine']
while engine._cron_recompute():
    env.cr.commit()
env.cr.commit()
"""

PARTNERS = (
    "SELECT id, ladder_stage, ladder_locked, ladder_strategic, ladder_reason_data->'manual'->>'reason'"
    " FROM res_partner WHERE ladder_since IS NOT NULL OR ladder_locked ORDER BY id"
)
COMPLAINTS = (
    "SELECT id, name, subject, partner_id, stage_id, severity, sla_status, review_state, user_id, team_id,"
    " resolved_date, response_deadline FROM crm_complaint ORDER BY id"
)
REPORT_KINDS = (
    "SELECT relname, relkind FROM pg_class"
    " WHERE relname IN ('crm_lifecycle_retention_report', 'crm_lifecycle_cohort_report') ORDER BY relname"
)
HISTORY = "SELECT partner_id, from_stage, to_stage, date, source FROM crm_ladder_history ORDER BY id"


def _previous_release(tmp_path):
    found = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{PREVIOUS_RELEASE}^{{commit}}"], check=False
    ).returncode
    if found:
        pytest.fail(f"the previous release {PREVIOUS_RELEASE} is not in this clone's history (clone it whole)")
    target = tmp_path / "previous"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", PREVIOUS_RELEASE, "crm_lifecycle"], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    paths = [p for p in odoo.tools.config["addons_path"].split(",") if Path(p).resolve() != ROOT]
    return ",".join([*paths, str(target)])


def test_upgrade_from_the_previous_release_keeps_rungs_locks_reasons_and_complaints(tmp_path):
    previous = _previous_release(tmp_path)
    with _scratch("upgrade") as db:
        odoo_run(["-d", db, "-i", "crm_lifecycle", "--stop-after-init"], tmp_path / "old.log", addons_path=previous)
        assert query(db, "SELECT latest_version FROM ir_module_module WHERE name = 'crm_lifecycle'") == [
            ("18.0.1.0.0",)
        ]
        odoo_shell(db, OVERRIDE, tmp_path / "override.log", addons_path=previous)
        partners, complaints, history = query(db, PARTNERS), query(db, COMPLAINTS), query(db, HISTORY)
        assert complaints and history and any(row[2] for row in partners), "books, complaints and a lock to keep"

        odoo_run(["-d", db, "-u", "crm_lifecycle", "--stop-after-init"], tmp_path / "upgrade.log")
        assert query(db, "SELECT latest_version FROM ir_module_module WHERE name = 'crm_lifecycle'") == [
            ("18.0.1.1.0",)
        ]
        assert query(db, REPORT_KINDS) == [
            ("crm_lifecycle_cohort_report", "m"),
            ("crm_lifecycle_retention_report", "m"),
        ]
        assert query(db, PARTNERS) == partners, "every rung, lock and manager's reason"
        assert query(db, COMPLAINTS) == complaints, "every complaint"
        assert query(db, HISTORY) == history, "the whole rung history"
        assert query(db, "SELECT count(*) FROM crm_ladder_history WHERE company_id IS NULL") == [(0,)]
        assert query(db, "SELECT cursor FROM crm_lifecycle_run WHERE name = 'ladder'") == [(0,)]
        assert query(db, "SELECT count(*) FROM ir_config_parameter WHERE key LIKE 'crm_lifecycle.recompute%%'") == [
            (0,)
        ]
        # the documents already posted know their order now
        assert query(
            db,
            "SELECT count(*) FROM account_move WHERE lifecycle_from_order AND lifecycle_order_id IS NULL"
            " AND move_type = 'out_invoice' AND state = 'posted'",
        ) == [(0,)]

        # the first nightly run of the new release leaves the manager's rung where it was
        odoo_shell(db, NIGHTLY_RUN, tmp_path / "nightly.log")
        crescent = query(
            db,
            "SELECT ladder_stage, ladder_locked, ladder_reason_data->'manual'->>'reason' FROM res_partner p"
            " JOIN ir_model_data d ON d.res_id = p.id AND d.model = 'res.partner'"
            " WHERE d.module = 'crm_lifecycle' AND d.name = 'res_partner_crescent_demo'",
        )
        assert crescent == [("advocate", True, "Framework contract, 3 years")]
        assert query(db, "SELECT count(*) FROM crm_complaint") == [(len(complaints),)]
