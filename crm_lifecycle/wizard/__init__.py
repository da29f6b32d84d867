from . import (
    base_partner_merge_automatic_wizard,
    crm_care_preview,
    crm_care_send,
    crm_complaint_review,
    crm_ladder_override,
    crm_portfolio_handover,
)
