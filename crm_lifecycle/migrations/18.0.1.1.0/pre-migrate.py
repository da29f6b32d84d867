"""18.0.1.0.0 -> 18.0.1.1.0, before the models are updated."""


def migrate(cr, version):
    if not version:
        return
    # every rung move now has the company whose books placed it (shared partners: the main company)
    cr.execute(
        """
        UPDATE crm_ladder_history h
           SET company_id = COALESCE(p.company_id, (SELECT min(id) FROM res_company))
          FROM res_partner p
         WHERE p.id = h.partner_id AND h.company_id IS NULL
        """
    )
