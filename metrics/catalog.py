"""The KPI catalog that ships with the product (the contact-center template's measures).

Names are stored in English and shown in the reader's language (Kpi.display_name)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

CATALOG: list[dict] = [
    {
        "code": "qa_score",
        "name": gettext_noop("QA score"),
        "unit": "percent",
        "direction": "higher",
        "standard": 85.0,
        "min_value": 0.0,
        "max_value": 100.0,
        "description": "Quality-assurance evaluation score of calls and chats.",
        "sort_order": 10,
    },
    {
        "code": "aht",
        "name": gettext_noop("AHT (Avg. Handle Time)"),
        "unit": "seconds",
        "direction": "lower",
        "standard": 300.0,
        "min_value": 0.0,
        "max_value": 86400.0,
        "description": "Average handle time: talk, hold and wrap-up, per contact.",
        "sort_order": 20,
    },
    {
        "code": "csat",
        "name": gettext_noop("CSAT score"),
        "unit": "percent",
        "direction": "higher",
        "standard": 80.0,
        "min_value": 0.0,
        "max_value": 100.0,
        "description": "Customer satisfaction from post-contact surveys.",
        "sort_order": 30,
    },
    {
        "code": "adherence",
        "name": gettext_noop("Attendance/Adherence"),
        "unit": "percent",
        "direction": "higher",
        "standard": 95.0,
        "min_value": 0.0,
        "max_value": 100.0,
        "description": "Schedule adherence from WFM: logged in and available when scheduled.",
        "sort_order": 40,
    },
    {
        "code": "fcr",
        "name": gettext_noop("FCR (First Contact Resolution)"),
        "unit": "percent",
        "direction": "higher",
        "standard": 75.0,
        "min_value": 0.0,
        "max_value": 100.0,
        "description": "Share of contacts resolved without a repeat contact.",
        "sort_order": 50,
    },
    {
        "code": "wrapup",
        "name": gettext_noop("Call Wrap-Up Notes completeness"),
        "unit": "percent",
        "direction": "higher",
        "standard": 100.0,
        "min_value": 0.0,
        "max_value": 100.0,
        "description": "Share of contacts with complete and accurate wrap-up notes.",
        "sort_order": 60,
    },
]
