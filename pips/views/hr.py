"""HR approves plans or returns them with comments, and keeps the templates supervisors start
from. Every page here is HR's: 404 for a plan HR may not see (none), 403 for anyone else."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pips import rules, selectors, services
from pips.forms.authoring import ApprovalDecisionForm, TemplateCopyForm, TemplateForms
from pips.models import PipTemplate
from pips.views.authoring import show_on_form
from pips.views.common import error_text, request_meta


def _require_hr(user) -> None:
    if not rules.is_hr(user):
        raise PermissionDenied(_("Only HR can do this."))


@require_http_methods(["GET", "POST"])
@login_required
def hr_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan as submitted, the history of submissions and comments, and HR's decision."""
    pip = selectors.pip_for_hr(request.user, pk)
    conflict = rules.hr_conflict(request.user, pip)
    if conflict:
        # Separation of duties: nobody approves their own plan, even from the HR group.
        raise PermissionDenied(conflict)
    if pip.status not in rules.HR_DECIDES:
        messages.error(
            request,
            _("%(reference)s is not waiting for HR; it is %(status)s.")
            % {"reference": pip.reference, "status": pip.get_status_display().lower()},
        )
        return redirect(pip)
    form = ApprovalDecisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        decision = form.cleaned_data["decision"]
        comment = form.cleaned_data["comment"]
        meta = request_meta(request)
        try:
            if decision == "approve":
                services.pip_approve(actor=request.user, pip=pip, comment=comment, meta=meta)
            else:
                services.pip_return(actor=request.user, pip=pip, comment=comment, meta=meta)
        except ValidationError as error:
            show_on_form(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            if decision == "approve":
                text = _("%(reference)s is approved; %(name)s can issue it.") % {
                    "reference": pip.reference,
                    "name": pip.supervisor.get_full_name(),
                }
            else:
                text = _("%(reference)s was returned to %(name)s with your comments.") % {
                    "reference": pip.reference,
                    "name": pip.supervisor.get_full_name(),
                }
            messages.success(request, text)
            return redirect("pips:home")
    version = selectors.version_with_sections(pip.current_version_id)
    response = render(
        request,
        "pips/hr/review.html",
        {
            "pip": pip,
            "version": version,
            "signatures": [],
            "form": form,
            "history": selectors.submission_history(pip),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


# --- Templates ----------------------------------------------------------------------------------


@login_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    _require_hr(request.user)
    return render(request, "pips/hr/templates.html", {"templates": selectors.templates_all()})


@require_http_methods(["GET", "POST"])
@login_required
def template_copy(request: HttpRequest, pk: int) -> HttpResponse:
    """A new template, copied from an existing one, then edited."""
    _require_hr(request.user)
    source = get_object_or_404(PipTemplate, pk=pk)
    form = TemplateCopyForm(
        request.POST if request.method == "POST" else None,
        initial={"name": _("Copy of %(name)s") % {"name": source.name}},
    )
    if request.method == "POST" and form.is_valid():
        try:
            copy = services.template_copy(
                actor=request.user,
                template=source,
                name=form.cleaned_data["name"],
                meta=request_meta(request),
            )
        except ValidationError as error:
            show_on_form(form, error)
        else:
            messages.success(
                request, _("“%(name)s” created. Adjust it below.") % {"name": copy.name}
            )
            return redirect("pips:template_edit", pk=copy.pk)
    return render(request, "pips/hr/template_copy.html", {"form": form, "source": source})


@require_http_methods(["GET", "POST"])
@login_required
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A template's name, period, texts and rows."""
    _require_hr(request.user)
    template = selectors.template_with_rows(PipTemplate.objects.all(), pk)
    page = TemplateForms(
        request.POST if request.method == "POST" else None,
        content=services.template_content(template),
        kpis=selectors.kpi_catalog(),
        add_row=request.POST.get("add_row"),
    )
    if request.method == "POST" and not request.POST.get("add_row") and page.is_valid():
        try:
            services.template_update(
                actor=request.user,
                template=template,
                data=page.to_content(),
                meta=request_meta(request),
            )
        except ValidationError as error:
            page.show_errors(error)
        else:
            messages.success(
                request, _("Template “%(name)s” saved.") % {"name": page.to_content().name}
            )
            return redirect("pips:templates")
    return render(
        request,
        "pips/hr/template_form.html",
        {
            "page": page,
            "template": template,
            "submitted": request.method == "POST" and not request.POST.get("add_row"),
        },
    )


@login_required
@require_POST
def template_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate a template, or bring it back (`active` = 0 or 1)."""
    _require_hr(request.user)
    template = get_object_or_404(PipTemplate, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.template_set_active(
            actor=request.user, template=template, active=active, meta=request_meta(request)
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        text = (
            _("“%(name)s” is active again.")
            if active
            else _("“%(name)s” is deactivated: supervisors no longer see it.")
        )
        messages.success(request, text % {"name": template.name})
    return redirect("pips:templates")
