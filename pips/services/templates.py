"""HR keeps the templates supervisors start plans from: copy one, edit its texts and rows,
deactivate it. Each write checks the actor is HR, runs in one transaction and leaves an audit
event (with no plan) so the record shows who changed a template and when."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from pips import rules
from pips.audit import AuditAction
from pips.content import (
    ActionData,
    PlanContent,
    TemplateActionData,
    TemplateContent,
    stored_action,
    stored_expectation,
    template_expectations,
    template_reasons,
)
from pips.inputs import RequestMeta
from pips.models import (
    PLAN_TEXT_FIELDS,
    DeadlineKind,
    PipTemplate,
    TemplateAction,
    TemplateExpectation,
    TemplateReason,
)
from pips.services.common import write_audit
from pips.services.plans import validate_content


def template_content(template: PipTemplate) -> TemplateContent:
    """A template as editable data, to prefill its form."""
    return TemplateContent(
        name=template.name,
        period_days=template.period_days,
        **{name: getattr(template, name) for name in PLAN_TEXT_FIELDS},
        language=template.language,
        reasons=template_reasons(template),
        expectations=template_expectations(template),
        actions=[
            TemplateActionData(**stored_action(a), within_days=a.within_days)
            for a in template.actions.all()
        ],
    )


def _require_hr(actor) -> None:
    if not rules.is_hr(actor):
        raise PermissionDenied("Only HR can change templates.")


def _audit(*, actor, action: str, template: PipTemplate, meta: RequestMeta | None, **changes):
    write_audit(
        pip=None,
        actor=actor,
        action=action,
        meta=meta,
        changes={"template_id": template.pk, "template": template.name, **changes},
    )


def _unique_slug(name: str, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:56] or "template"
    taken = set(
        PipTemplate.objects.exclude(pk=exclude_pk)
        .filter(slug__startswith=base)
        .values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_name(name: str, exclude_pk: int | None = None) -> dict[str, list[str]]:
    if not name.strip():
        return {"name": [gettext("Give the template a name.")]}
    if PipTemplate.objects.exclude(pk=exclude_pk).filter(name__iexact=name.strip()).exists():
        return {
            "name": [
                gettext("A template named “%(name)s” already exists.") % {"name": name.strip()}
            ]
        }
    return {}


def validate_template(data: TemplateContent, *, exclude_pk: int | None = None) -> None:
    """A template must produce a valid plan, so it is checked the way a plan is: the plan it
    would start today goes through the same rules (period length, targets within the KPI's
    range, at least one expectation and one action). Errors are keyed like the plan's, with the
    period under `period_days`."""
    errors = _check_name(data.name, exclude_pk)
    for index, row in enumerate(data.actions):
        if row.deadline_kind == DeadlineKind.DATE and not row.within_days:
            errors.setdefault(f"actions-{index}", []).append(
                gettext("%(action)s: give the number of days from the start.")
                % {"action": row.action or gettext("This action")}
            )
    start = timezone.localdate()
    end = start + dt.timedelta(days=data.period_days)
    plan = PlanContent(
        period_start=start,
        period_end=end,
        final_review_date=end,
        midpoint_date=start + dt.timedelta(days=data.period_days // 2)
        if data.period_days > 30
        else None,
        # Reasons are specific to each plan; the supervisor writes them.
        description=data.description or "-",
        language=data.language,
        reasons=data.reasons,
        expectations=data.expectations,
        actions=[
            ActionData(
                action=a.action,
                responsible=a.responsible,
                deadline_kind=a.deadline_kind,
                deadline_date=start + dt.timedelta(days=a.within_days)
                if a.deadline_kind == DeadlineKind.DATE and a.within_days
                else None,
                recurrence_weekdays=a.recurrence_weekdays,
                deadline_text=a.deadline_text,
            )
            for a in data.actions
        ],
    )
    try:
        validate_content(plan)
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            key = "period_days" if key in ("period_end", "midpoint_date") else key
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _write_rows(template: PipTemplate, data: TemplateContent) -> None:
    template.reasons.all().delete()
    template.expectations.all().delete()
    template.actions.all().delete()
    TemplateReason.objects.bulk_create(
        TemplateReason(template=template, text=r.text.strip(), kpi_id=r.kpi_id, position=i)
        for i, r in enumerate(data.reasons)
    )
    TemplateExpectation.objects.bulk_create(
        TemplateExpectation(template=template, position=i, **stored_expectation(e))
        for i, e in enumerate(data.expectations)
    )
    TemplateAction.objects.bulk_create(
        TemplateAction(
            template=template,
            position=i,
            **stored_action(a),
            within_days=a.within_days if a.deadline_kind == DeadlineKind.DATE else None,
        )
        for i, a in enumerate(data.actions)
    )


def template_copy(
    *, actor, template: PipTemplate, name: str, meta: RequestMeta | None = None
) -> PipTemplate:
    """A new template, a copy of an existing one (its texts and rows), to edit from there."""
    _require_hr(actor)
    errors = _check_name(name)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        data = template_content(template)
        data.name = name.strip()
        copy = PipTemplate.objects.create(
            name=data.name,
            slug=_unique_slug(data.name),
            language=data.language,
            period_days=data.period_days,
            **{name: getattr(data, name) for name in PLAN_TEXT_FIELDS},
            is_default=False,
            is_active=True,
        )
        _write_rows(copy, data)
        _audit(
            actor=actor,
            action=AuditAction.TEMPLATE_CREATED,
            template=copy,
            meta=meta,
            copied_from=template.pk,
        )
    return copy


def template_update(
    *, actor, template: PipTemplate, data: TemplateContent, meta: RequestMeta | None = None
) -> PipTemplate:
    """Save a template's texts and rows. Plans already drafted from it do not change."""
    _require_hr(actor)
    validate_template(data, exclude_pk=template.pk)
    with transaction.atomic():
        template = PipTemplate.objects.select_for_update().get(pk=template.pk)
        names = ["name", "language", "period_days", *PLAN_TEXT_FIELDS]
        changed = [n for n in names if getattr(template, n) != getattr(data, n)]
        for name in names:
            setattr(template, name, getattr(data, name))
        template.name = template.name.strip()
        template.save(update_fields=names)
        _write_rows(template, data)
        _audit(
            actor=actor,
            action=AuditAction.TEMPLATE_EDITED,
            template=template,
            meta=meta,
            fields=changed,
        )
    return template


def template_set_active(
    *, actor, template: PipTemplate, active: bool, meta: RequestMeta | None = None
) -> PipTemplate:
    """Deactivate a template (supervisors no longer see it; plans drafted from it keep it) or
    bring it back. The default template stays active: new plans start from it."""
    _require_hr(actor)
    with transaction.atomic():
        template = PipTemplate.objects.select_for_update().get(pk=template.pk)
        if not active and template.is_default:
            raise ValidationError(
                "The default template cannot be deactivated: new plans start from it."
            )
        if template.is_active == active:
            return template
        template.is_active = active
        template.save(update_fields=["is_active"])
        _audit(
            actor=actor,
            action=AuditAction.TEMPLATE_REACTIVATED if active else AuditAction.TEMPLATE_DEACTIVATED,
            template=template,
            meta=meta,
        )
    return template
