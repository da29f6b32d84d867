"""crm_lifecycle and OCA's partner_contact_birthdate define the same field, res.partner.birthdate_date:
both install together (crm_lifecycle after it), and the birthdays written before it came are known to it."""

from pathlib import Path

import odoo

from .scratch import _scratch, odoo_run, odoo_shell, query

STAND_IN = Path(__file__).resolve().parent / "addons"

CHECK = """
partner = env['res.partner'].create({'name': 'Compat Birthday', 'birthdate_date': '1991-06-15'})
field = env['res.partner']._fields['birthdate_date']
assert field.type == 'date', field.type
assert {'partner_contact_birthdate', 'crm_lifecycle'} <= set(field._modules), field._modules
assert partner.birthday_month == 6 and partner.birthday_day == 15
env.cr.commit()
"""


def test_installs_with_ocas_partner_contact_birthdate(tmp_path):
    addons = ",".join([odoo.tools.config["addons_path"], str(STAND_IN)])
    with _scratch("compat") as db:
        odoo_run(
            ["-d", db, "-i", "partner_contact_birthdate", "--stop-after-init"], tmp_path / "oca.log", addons_path=addons
        )
        query(db, "UPDATE res_partner SET birthdate_date = '1980-01-02' WHERE id = 1")
        odoo_run(["-d", db, "-i", "crm_lifecycle", "--stop-after-init"], tmp_path / "lifecycle.log", addons_path=addons)
        # the birthday written before crm_lifecycle came is known to it
        assert query(db, "SELECT birthday_month, birthday_day FROM res_partner WHERE id = 1") == [(1, 2)]
        odoo_shell(db, CHECK, tmp_path / "check.log", addons_path=addons)
        assert query(
            db, "SELECT count(*) FROM ir_model_fields WHERE model = 'res.partner' AND name = 'birthdate_date'"
        ) == [(1,)]
