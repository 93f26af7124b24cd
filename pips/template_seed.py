"""The contact-center template as the seed document has it: its reasons, expectations and
actions. Loaded by a data migration so every installation starts with it."""

from __future__ import annotations

CONTACT_CENTER_TEMPLATE = {
    "name": "Contact Center Agent",
    "slug": "contact-center",
    "description": (
        "Performance Improvement Plan template for contact-center agents: QA, AHT, CSAT, "
        "adherence and wrap-up notes, with coaching, shadowing and weekly reviews."
    ),
    "job_title": "Contact Center Agent",
    "period_days": 30,
    "is_default": True,
    "reasons": [
        (
            "Failure to meet average handle time (AHT) target of 5 minutes for the past 3 months",
            "aht",
        ),
        ("Consistently low Customer Satisfaction (CSAT) scores (<75%)", "csat"),
        ("Frequent adherence issues (e.g., late logins, extended breaks)", "adherence"),
        ("QA scores below the team threshold of 85%", "qa_score"),
    ],
    # area, kpi code, comparator, target, current text, standard text, improvement needed
    "expectations": [
        ("QA Score", "qa_score", "gte", 85.0, "", "", "Improve call/chat handling quality"),
        ("AHT (Avg. Handle Time)", "aht", "lte", 300.0, "", "", "Improve efficiency"),
        ("CSAT Score", "csat", "gte", 80.0, "", "", "Improve customer satisfaction"),
        (
            "Attendance/Adherence",
            "adherence",
            "gte",
            95.0,
            "",
            "",
            "Reduce absenteeism and tardiness",
        ),
        (
            "Call Wrap-Up Notes",
            None,
            "",
            None,
            "Often incomplete",
            "100% complete & accurate",
            "Improve documentation",
        ),
    ],
    # action, responsible, deadline kind, deadline text, weekdays, within days, records sessions
    "actions": [
        (
            "One-on-one coaching sessions (twice weekly)",
            "Supervisor",
            "recurring",
            "Every Tuesday & Friday",
            [1, 4],
            None,
            True,
        ),
        ("Shadow top-performing agents", "Agent", "recurring", "Weekly", [], None, True),
        (
            "Attend refresher training on call etiquette",
            "Agent & Training Team",
            "date",
            "Within 1 week",
            [],
            7,
            False,
        ),
        (
            "Use call flow checklist during every interaction",
            "Agent",
            "ongoing",
            "Ongoing",
            [],
            None,
            False,
        ),
        (
            "Weekly performance review meeting",
            "Supervisor & Agent",
            "recurring",
            "Every Monday",
            [0],
            None,
            True,
        ),
    ],
}


def install_template(apps_or_models, spec: dict = CONTACT_CENTER_TEMPLATE) -> None:
    """Create or refresh a template from its spec. Takes a migration's `apps` registry."""
    PipTemplate = apps_or_models.get_model("pips", "PipTemplate")
    Kpi = apps_or_models.get_model("metrics", "Kpi")
    kpis = {k.code: k for k in Kpi.objects.all()}
    template, _ = PipTemplate.objects.update_or_create(
        slug=spec["slug"],
        defaults={
            k: spec[k] for k in ("name", "description", "job_title", "period_days", "is_default")
        },
    )
    template.reasons.all().delete()
    template.expectations.all().delete()
    template.actions.all().delete()
    for i, (text, code) in enumerate(spec["reasons"]):
        template.reasons.create(text=text, kpi=kpis.get(code), position=i)
    for i, (area, code, comp, target, current, standard, improve) in enumerate(
        spec["expectations"]
    ):
        template.expectations.create(
            area=area,
            kpi=kpis.get(code) if code else None,
            comparator=comp,
            target=target,
            current_text=current,
            standard_text=standard,
            improvement_needed=improve,
            position=i,
        )
    for i, (action, resp, kind, text, days, within, sessions) in enumerate(spec["actions"]):
        template.actions.create(
            action=action,
            responsible=resp,
            deadline_kind=kind,
            deadline_text=text,
            recurrence_weekdays=days,
            within_days=within,
            records_sessions=sessions,
            position=i,
        )
