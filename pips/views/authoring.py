"""Supervisors draft plans in the browser, preview them as the agent will see them, submit them
to HR, and issue them once approved. Views load through the access helpers (404 for a plan or
agent one may not see, 403 for one seen but not theirs to change), hand the forms' data to a
service and show its refusal on the form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from metrics.models import Kpi
from pips import languages, roles, rules, selectors, services
from pips.content import content_from_version
from pips.forms.authoring import IssueForm, NewPlanForm, PlanForms
from pips.models import Agent, Pip, PipVersion
from pips.progress import keep_gap_expectations
from pips.views.common import error_text, request_meta
from pipsystem import l10n


def _int_or_404(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise Http404(_("No such record.")) from None


def show_on_form(form, error: ValidationError) -> None:
    """A service's refusal, beside the field it names or at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages_ in error.message_dict.items():
        form.add_error(key if key in form.fields else None, messages_)


def current_values(agent: Agent, kpis: list[Kpi]) -> dict[int, tuple[str, str]]:
    """What the agent's data says for each KPI over the last 30 days: {kpi id: (shown, window)}.
    One query for every KPI."""
    values = selectors.recent_kpi_values([agent.employee_id]).get(agent.employee_id, {})
    start, end = selectors.recent_window()
    window = _("Last 30 days: %(start)s – %(end)s") % {
        "start": date_format(start, "d M"),
        "end": l10n.date(end, long=True),
    }
    return {
        kpi.pk: (kpi.format_value(values[kpi.code]) if kpi.code in values else _("no data"), window)
        for kpi in kpis
    }


def _kpi_json(kpis: list[Kpi], values: dict[int, tuple[str, str]]) -> dict[str, dict]:
    """For static/js/formset.js: fills the current value when a row's KPI changes."""
    return {
        str(kpi.pk): {
            "current": values.get(kpi.pk, ("", ""))[0],
            "window": values.get(kpi.pk, ("", ""))[1],
            "unit": kpi.unit,
        }
        for kpi in kpis
    }


def _header(version_or_agent, supervisor_name: str) -> dict[str, str]:
    if isinstance(version_or_agent, PipVersion):
        v = version_or_agent
        return {
            "employee_name": v.employee_name,
            "employee_id": v.employee_id,
            "department": v.department,
            "supervisor_name": v.supervisor_name,
        }
    agent = version_or_agent
    return {
        "employee_name": agent.full_name,
        "employee_id": agent.employee_id,
        "department": " / ".join(
            dict.fromkeys(part for part in (agent.team.department, agent.team.name) if part)
        ),
        "supervisor_name": supervisor_name,
    }


def _render_plan_form(request: HttpRequest, context: dict) -> HttpResponse:
    response = render(request, "pips/authoring/plan_form.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def plan_new(request: HttpRequest) -> HttpResponse:
    """A new plan: first whose and from which template, then every section on one page."""
    if not roles.is_supervisor(request.user):
        raise PermissionDenied(_("Only supervisors draft plans."))
    templates = selectors.templates_for_authoring()
    agent_id = _int_or_404(request.GET.get("agent"))
    template_id = _int_or_404(request.GET.get("template"))
    # Without a choice, the default template in the language the supervisor reads and writes.
    language = languages.current_language()
    if agent_id is None or request.GET.get("choose"):
        pick = NewPlanForm(
            agents=selectors.agents_managed(request.user),
            templates=templates,
            initial={
                "agent": agent_id,
                "template": template_id or selectors.default_template_pk(templates, language),
            },
        )
        return render(request, "pips/authoring/pick.html", {"form": pick})
    agent = selectors.agent_for_supervisor(request.user, agent_id)
    template = selectors.template_with_rows(templates, template_id, language)
    open_plan = selectors.open_pip_of(agent)
    if open_plan is not None and request.method == "GET":
        return render(request, "pips/authoring/pick.html", {"agent": agent, "open_plan": open_plan})
    kpis = selectors.kpi_catalog()
    values = current_values(agent, kpis)
    content = services.content_from_template(template, start=timezone.localdate())
    content.job_title = agent.job_title or template.job_title
    # From the home page's "below standard" list: only the KPIs with gaps become expectations.
    keep_gap_expectations(content, request.GET.get("kpis", "").split(","), kpis)
    page = PlanForms(
        request.POST if request.method == "POST" else None,
        content=content,
        header=_header(agent, request.user.get_full_name() or request.user.get_username()),
        kpis=kpis,
        current_values=values,
        add_row=request.POST.get("add_row"),
    )
    if request.method == "POST" and not request.POST.get("add_row") and page.is_valid():
        try:
            pip = services.pip_create(
                actor=request.user,
                agent=agent,
                content=page.to_content(),
                template=template,
                meta=request_meta(request),
            )
        except ValidationError as error:
            page.show_errors(error)
        else:
            messages.success(
                request,
                _("Draft saved. Preview it as the agent will see it, then submit it to HR."),
            )
            return redirect(pip)
    elif request.method == "POST" and not request.POST.get("add_row"):
        # The fields have errors: show the plan's rules' problems in the same round.
        page.rule_errors(page.partial_content(), services.validate_content)
    return _render_plan_form(
        request,
        {
            "page": page,
            "agent": agent,
            "template": template,
            "kpi_json": _kpi_json(kpis, values),
            "title": _("New plan for %(name)s") % {"name": agent.full_name},
            "submitted": request.method == "POST" and not request.POST.get("add_row"),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the draft: the first version before HR approves it, or an amendment in progress."""
    pip = selectors.pip_for_owner(request.user, pk)
    draft = selectors.editable_version(pip)
    if draft is None:
        messages.error(
            request,
            _("This plan is %(status)s: its content cannot be edited now.")
            % {"status": pip.get_status_display().lower()},
        )
        return redirect(pip)
    version = selectors.version_with_sections(draft.pk)
    content = content_from_version(version)
    content.change_summary = version.change_summary
    kpis = selectors.kpi_catalog()
    amendment_of = None
    frozen = None
    if version.number > 1:
        # An amendment keeps the baselines frozen at the first issue.
        amendment_of = pip.current_version.number
        frozen = {row.lineage: row for row in content.expectations if row.lineage}
        values = {
            e.kpi_id: (e.current_display(), e.baseline_source or _("Baseline frozen at issue"))
            for e in version.expectations.all()
            if e.kpi_id
        }
    else:
        values = current_values(pip.agent, kpis)
    page = PlanForms(
        request.POST if request.method == "POST" else None,
        content=content,
        header=_header(version, version.supervisor_name),
        kpis=kpis,
        current_values=values,
        amendment_of=amendment_of,
        frozen=frozen,
        add_row=request.POST.get("add_row"),
    )
    if request.method == "POST" and not request.POST.get("add_row") and page.is_valid():
        try:
            services.pip_update_draft(
                actor=request.user, pip=pip, content=page.to_content(), meta=request_meta(request)
            )
        except ValidationError as error:
            page.show_errors(error)
        else:
            messages.success(request, _("Draft saved."))
            return redirect(pip)
    elif request.method == "POST" and not request.POST.get("add_row"):
        # The fields have errors: show the plan's rules' problems in the same round.
        amendment = version.number > 1
        page.rule_errors(
            page.partial_content(),
            lambda content: services.validate_content(content, amendment=amendment),
        )
    return _render_plan_form(
        request,
        {
            "page": page,
            "pip": pip,
            "version": version,
            "agent": pip.agent,
            "history": selectors.submission_history(pip),
            "kpi_json": _kpi_json(kpis, values),
            "title": (
                _("Edit %(reference)s, amendment to version %(number)s")
                % {"reference": pip.reference, "number": amendment_of}
                if amendment_of
                else _("Edit %(reference)s") % {"reference": pip.reference}
            ),
            "submitted": request.method == "POST" and not request.POST.get("add_row"),
        },
    )


def _may_preview(user, pip: Pip) -> bool:
    return rules.manages_plan(user, pip)


@login_required
@require_GET
def plan_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The latest version (the draft, or an amendment being written) as the agent will see it
    once issued: the sections only, without the internal timeline or HR's comments."""
    pip = selectors.pip_for_user(request.user, pk)
    if not _may_preview(request.user, pip):
        raise PermissionDenied(_("Only the plan's supervisor and HR preview a plan."))
    latest = selectors.latest_version(pip)
    version = selectors.version_with_sections(latest.pk)
    signatures = [
        (sig, sig.content_sha256 == version.content_sha256) for sig in version.signatures.all()
    ]
    services.pip_viewed(actor=request.user, pip=pip, meta=request_meta(request))
    response = render(
        request,
        "pips/authoring/preview.html",
        {
            "pip": pip,
            "version": version,
            "signatures": signatures,
            "can_edit": rules.is_plan_supervisor(request.user, pip),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def plan_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit the draft (or an amendment) to HR, after a confirmation page."""
    pip = selectors.pip_for_owner(request.user, pk)
    draft = selectors.editable_version(pip)
    if draft is None:
        messages.error(
            request,
            _("This plan is %(status)s: there is no draft to submit.")
            % {"status": pip.get_status_display().lower()},
        )
        return redirect(pip)
    if request.method == "POST":
        meta = request_meta(request)
        try:
            if draft.number == 1:
                services.pip_submit(actor=request.user, pip=pip, meta=meta)
            else:
                services.amendment_submit(actor=request.user, pip=pip, meta=meta)
        except ValidationError as error:
            messages.error(
                request,
                _("The plan was not submitted: %(reason)s") % {"reason": error_text(error)},
            )
            return redirect("pips:edit", pk=pip.pk)
        messages.success(
            request,
            _("%(reference)s was submitted to HR for approval.") % {"reference": pip.reference},
        )
        return redirect(pip)
    return render(
        request,
        "pips/authoring/submit.html",
        {"pip": pip, "version": draft, "history": selectors.submission_history(pip)},
    )


@require_http_methods(["GET", "POST"])
@login_required
def plan_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting was held: the supervisor records its date and signs as manager; the plan is
    issued and the agent is told to read and sign it."""
    pip = selectors.pip_for_owner(request.user, pk)
    if pip.status not in rules.ISSUABLE:
        messages.error(
            request,
            _("Only a plan approved by HR can be issued; this one is %(status)s.")
            % {"status": pip.get_status_display().lower()},
        )
        return redirect(pip)
    form = IssueForm(
        request.POST if request.method == "POST" else None,
        initial={"meeting_held_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.pip_issue(
                actor=request.user,
                pip=pip,
                meeting_held_on=form.cleaned_data["meeting_held_on"],
                signature=form.signature(),
                meta=request_meta(request),
            )
        except ValidationError as error:
            show_on_form(form, error)
        else:
            messages.success(
                request,
                _("%(reference)s is issued. %(name)s has been asked to read and sign it.")
                % {"reference": pip.reference, "name": pip.agent.full_name},
            )
            return redirect(pip)
    if form.is_bound:
        # Shown again: the consent is in the language active now, which the next POST records.
        form.data = form.data.copy()
        form.data["consent_language"] = languages.current_language()
    return render(
        request,
        "pips/authoring/issue.html",
        {
            "pip": pip,
            "version": pip.current_version,
            "form": form,
            "consent_text": services.CONSENT_TEXT,
        },
    )
