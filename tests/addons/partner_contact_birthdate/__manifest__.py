# A stand-in for OCA's partner_contact_birthdate (OCA/partner-contact), for tests only: it defines
# res.partner.birthdate_date the way that addon does, so that tests/test_care_compat.py shows both
# addons install together without a clash.
{
    "name": "Contact's birthdate (OCA stand-in for tests)",
    "version": "18.0.1.0.0",
    "author": "crm_lifecycle developers",
    "license": "AGPL-3",
    "depends": ["base"],
    "installable": True,
}
