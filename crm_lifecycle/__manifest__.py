{
    "name": "Customer Lifecycle",
    "version": "18.0.1.1.0",
    "category": "Sales/CRM",
    "summary": "Relationship ladder, value tiers and customer lifecycle computed from your own sales, "
    "invoices and payments",
    "description": """
Customer Lifecycle
==================
Places every customer on the relationship ladder (prospect, customer, client, supporter,
advocate, partner) from the sale orders, invoices, refunds, payments and referrals already in
Odoo, gives each a value tier from real margin, and explains why in plain words.
""",
    "author": "crm_lifecycle developers",
    "maintainers": ["crm-lifecycle"],
    "website": "https://github.com/crm-lifecycle/crm_lifecycle",
    "license": "LGPL-3",
    "development_status": "Beta",
    "depends": [
        "crm",
        "sale_management",
        "sale_crm",
        "sale_margin",
        "account",
        "mail",
        "sms",
        "portal",
        "rating",
        "resource",
        "spreadsheet_dashboard",
    ],
    "external_dependencies": {"python": ["holidays", "numpy", "scipy"]},
    "data": [
        "security/crm_lifecycle_security.xml",
        "security/ir.model.access.csv",
        "data/ir_sequence_data.xml",
        "data/ir_cron_data.xml",
        "data/ir_actions_server_data.xml",
        "data/crm_complaint_data.xml",
        "data/crm_care_data.xml",
        "data/crm_lost_reason_data.xml",
        "data/crm_lifecycle_dashboard.xml",
        "wizard/crm_ladder_override_views.xml",
        "wizard/crm_complaint_review_views.xml",
        "views/res_partner_views.xml",
        "views/crm_care_rule_views.xml",
        "views/crm_care_log_views.xml",
        "views/crm_ladder_history_views.xml",
        "views/crm_lead_views.xml",
        "views/crm_complaint_views.xml",
        "views/crm_team_views.xml",
        "views/sale_order_views.xml",
        "views/account_move_views.xml",
        "views/crm_complaint_portal_templates.xml",
        "views/res_company_views.xml",
        "views/res_config_settings_views.xml",
        "report/crm_complaint_report_views.xml",
        "report/crm_lifecycle_retention_report_views.xml",
        "views/crm_lifecycle_menus.xml",
    ],
    "demo": [
        "demo/res_partner_demo.xml",
        "demo/crm_care_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "crm_lifecycle/static/src/scss/crm_complaint.scss",
        ],
        "web.assets_frontend": [
            "crm_lifecycle/static/src/js/portal_complaint_counter.js",
        ],
        "web.assets_tests": [
            "crm_lifecycle/static/tests/tours/**/*",
        ],
    },
    "uninstall_hook": "uninstall_hook",
    "application": True,
}
