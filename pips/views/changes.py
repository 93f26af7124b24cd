"""The changes real plans go through: pausing a plan for leave and resuming it (HR or the plan's
supervisor), reassigning it or ending it because the employee left (HR), and naming a delegate
for a date range (a supervisor). Views load through the access helpers and hand the forms' data
to the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from pips import roles, rules, selectors, services
from pips.forms.changes import (
    DelegationForm,
    EndEmploymentForm,
    PauseForm,
    ReassignForm,
    ResumeForm,
)
from pips.forms.reviews import add_service_error
from pips.models import Delegation
from pips.views.common import request_meta


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def pause(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause the plan for documented leave, or resume it when the leave ends."""
    pip = selectors.pip_for_user(request.user, pk)
    if not rules.may_pause(request.user, pip):
        raise PermissionDenied(_("Only HR or the plan's supervisor pauses a plan."))
    paused = pip.paused_since is not None
    form_class = ResumeForm if paused else PauseForm
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        meta = request_meta(request)
        try:
            if paused:
                services.pip_resume(actor=request.user, pip=pip, meta=meta, **form.cleaned_data)
            else:
                services.pip_pause(actor=request.user, pip=pip, meta=meta, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            text = (
                _("The plan is running again; its dates ahead moved by the days paused.")
                if paused
                else _("The plan is paused: no meetings or reminders until it resumes.")
            )
            messages.success(request, text)
            return redirect(pip)
    return render(request, "pips/changes/pause.html", {"pip": pip, "form": form, "paused": paused})


def _reassign_page(request, pip, form, end_form) -> HttpResponse:
    return render(
        request,
        "pips/changes/reassign.html",
        {"pip": pip, "form": form, "end_form": end_form},
    )


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """HR hands the plan to another supervisor."""
    pip = selectors.pip_for_hr(request.user, pk)
    supervisors = selectors.supervisors().exclude(pk=pip.supervisor_id)
    form = ReassignForm(request.POST if request.method == "POST" else None, supervisors=supervisors)
    if request.method == "POST" and form.is_valid():
        try:
            services.pip_reassign(
                actor=request.user,
                pip=pip,
                supervisor=form.cleaned_data["supervisor"],
                reason=form.cleaned_data["reason"],
                meta=request_meta(request),
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            name = form.cleaned_data["supervisor"].get_full_name()
            messages.success(
                request,
                _("%(reference)s is now held by %(name)s.")
                % {"reference": pip.reference, "name": name},
            )
            return redirect(pip)
    return _reassign_page(request, pip, form, EndEmploymentForm())


@require_POST
@login_required
def end_employment(request: HttpRequest, pk: int) -> HttpResponse:
    """HR records that the employee left: the plan ends with the reason "employment ended"."""
    pip = selectors.pip_for_hr(request.user, pk)
    form = EndEmploymentForm(request.POST)
    if form.is_valid():
        try:
            services.pip_end_employment(
                actor=request.user,
                pip=pip,
                ended_on=form.cleaned_data["ended_on"],
                meta=request_meta(request),
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(reference)s is ended: employment ended.") % {"reference": pip.reference},
            )
            return redirect(pip)
    supervisors = selectors.supervisors().exclude(pk=pip.supervisor_id)
    return _reassign_page(request, pip, ReassignForm(supervisors=supervisors), form)


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def cover(request: HttpRequest) -> HttpResponse:
    """A supervisor's delegates: who covers their plans, from when to when."""
    if not roles.is_supervisor(request.user):
        raise PermissionDenied(_("Only supervisors name a delegate."))
    supervisors = selectors.supervisors().exclude(pk=request.user.pk)
    form = DelegationForm(
        request.POST if request.method == "POST" else None, supervisors=supervisors
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.delegation_add(
                actor=request.user, meta=request_meta(request), **form.cleaned_data
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The delegate is named."))
            return redirect("pips:cover")
    given, received = selectors.delegations_of(request.user)
    return render(
        request,
        "pips/changes/cover.html",
        {"form": form, "given": given, "received": received},
    )


@require_POST
@login_required
def cover_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a cover now: the supervisor who gave it, or the delegate."""
    delegation = get_object_or_404(
        Delegation.objects.filter(supervisor=request.user)
        | Delegation.objects.filter(delegate=request.user),
        pk=pk,
    )
    services.delegation_end(actor=request.user, delegation=delegation, meta=request_meta(request))
    messages.success(request, _("The cover has ended."))
    return redirect("pips:cover")
