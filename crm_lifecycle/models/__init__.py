from . import (
    account_move,
    crm_ladder_history,
    crm_lead,
    crm_lifecycle_demo,
    lifecycle_engine,
    res_company,
    res_config_settings,
    res_partner,
    sale_order,
)
