from . import (
    crm_complaint_report,
    crm_lifecycle_cohort_report,
    crm_lifecycle_funnel_report,
    crm_lifecycle_retention_report,
)
