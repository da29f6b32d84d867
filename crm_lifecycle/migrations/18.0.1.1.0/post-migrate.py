"""18.0.1.1.0: the shipped "Waiting for customer" stage counts as the first response.

Its record is in a noupdate block of data/crm_complaint_data.xml, so an update does not set the new
flag on databases installed before it existed.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    stage = env.ref("crm_lifecycle.crm_complaint_stage_waiting", raise_if_not_found=False)
    if stage:
        stage.is_response = True
