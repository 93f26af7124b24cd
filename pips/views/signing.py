"""Signing a plan (employee, manager, HR), recording a refusal to sign, and amending a plan after
issue: start an amendment, see what it changes, submit it to HR, HR approves or returns it.

Every view loads the plan through the access helpers (404 for what the user may not see, 403
for what they may see but not do) and hands the form's data to a service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pips import roles, rules, selectors, services
from pips.audit import AuditAction
from pips.content import content_hash
from pips.diff import version_diff
from pips.forms.signing import (
    AmendmentDecisionForm,
    AmendmentStartForm,
    AmendmentSubmitForm,
    RefusalForm,
    SignForm,
    add_service_error,
)
from pips.models import (
    AuditEvent,
    Pip,
    PipVersion,
    Signature,
    SignerRole,
    Status,
    VersionState,
)
from pips.views.common import request_meta
from pipsystem import l10n

IN_PROGRESS = (VersionState.DRAFT, VersionState.PENDING_HR)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _checked_signatures(version: PipVersion) -> list[tuple[Signature, bool]]:
    """Each signature with whether it still matches the version's content."""
    current = content_hash(version)
    return [(sig, sig.content_sha256 == current) for sig in version.signatures.all()]


# --- signing -----------------------------------------------------------------------------------


def signing_role(user, pip: Pip, signed: dict[str, Signature]) -> str | None:
    """The role the viewer signs in: the plan's employee as employee, the supervisor as manager
    while the version in force lacks the manager's signature (an amended version), HR as HR."""
    if rules.is_plan_employee(user, pip):
        return SignerRole.AGENT
    if rules.is_plan_supervisor(user, pip) and SignerRole.MANAGER not in signed:
        return SignerRole.MANAGER
    if rules.is_hr(user) and not rules.hr_conflict(
        user, pip, signed_as_manager=_signed_by(signed, SignerRole.MANAGER, user)
    ):
        # Separation of duties: who holds the plan or signed it as manager does not
        # countersign it as HR.
        return SignerRole.HR
    return None


def _signed_by(signed: dict[str, Signature], role: str, user) -> bool:
    signature = signed.get(role)
    return signature is not None and signature.signer_id == user.pk


def _waiting_for(
    pip: Pip, version: PipVersion, role: str, signed: dict[str, Signature], zone
) -> str:
    """Why the viewer cannot sign right now, in plain words; empty when they can. Times in
    ``zone``, the reader's."""
    if pip.status not in rules.SIGNABLE:
        return _("This plan is %(status)s: there is nothing to sign.") % {
            "status": str(pip.get_status_display()).lower()
        }
    mine = signed.get(role)
    if mine is not None:
        when = l10n.datetime(mine.signed_at, zone)
        if mine.kind == Signature.Kind.REFUSED:
            witness = mine.witness.get_full_name() if mine.witness else ""
            return _(
                "A refusal to sign version %(number)s was recorded on %(when)s, witnessed by "
                "%(witness)s. The acknowledgment step is complete."
            ) % {"number": version.number, "when": when, "witness": witness}
        return _("%(role)s signature on version %(number)s: given %(when)s.") % {
            "role": mine.get_role_display(),
            "number": version.number,
            "when": when,
        }
    if role == SignerRole.AGENT and SignerRole.MANAGER not in signed:
        return _("Your manager signs this version first; you can sign it once they have.")
    if role == SignerRole.HR and SignerRole.AGENT not in signed:
        return _(
            "HR countersigns after the employee's acknowledgment: %(name)s has not signed "
            "version %(number)s yet."
        ) % {"name": version.employee_name, "number": version.number}
    return ""


def _signed_message(role: str, *, activated: bool) -> str:
    if role == SignerRole.AGENT:
        text = _("Thank you: your acknowledgment is recorded. A written summary is on its way.")
    elif role == SignerRole.HR:
        text = _("Your countersignature is recorded.")
    else:
        text = _("Your signature as manager is recorded.")
    if activated:
        text += " " + _("All three signatures are present: the plan is active.")
    return text


@require_http_methods(["GET", "POST"])
@login_required
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan in full, the consent statement and the signature: the employee acknowledges,
    HR countersigns, the supervisor signs an amended version as manager."""
    pip = selectors.pip_for_user(request.user, pk)
    version = selectors.version_with_sections(pip.current_version_id)
    signed = {sig.role: sig for sig in version.signatures.all()}
    role = signing_role(request.user, pip, signed)
    if role is None:
        raise PermissionDenied(_("There is nothing for you to sign on this plan."))
    posted = request.method == "POST"
    form = SignForm(
        request.POST if posted else None,
        user=request.user,
        role=role,
        version_number=version.number,
    )
    waiting = ""
    if posted:
        if form.is_valid():
            target = pip.versions.filter(number=form.cleaned_data["version"]).first()
            if target is None:
                form.add_error(None, _("That version of the plan does not exist."))
            else:
                was_issued = pip.status == Status.ISSUED
                try:
                    services.signature_add(
                        actor=request.user,
                        pip=pip,
                        version=target,
                        role=role,
                        data=form.signature_input(),
                        meta=request_meta(request),
                    )
                except ValidationError as error:
                    add_service_error(form, error)
                else:
                    pip.refresh_from_db(fields=["status"])
                    activated = was_issued and pip.status == Status.ACTIVE
                    messages.success(request, _signed_message(role, activated=activated))
                    return redirect(pip)
        # The page shows the version in force: that is what a second try signs.
        form.show_again()
        form.data[form.add_prefix("version")] = str(version.number)
    else:
        waiting = _waiting_for(pip, version, role, signed, request.time_zone)
        services.pip_viewed(actor=request.user, pip=pip, meta=request_meta(request))
    context = {
        "pip": pip,
        "version": version,
        "role": role,
        "role_label": SignerRole(role).label,
        "form": form,
        "waiting": waiting,
        "signatures": _checked_signatures(version),
        "content_hash": content_hash(version),
        "consent_text": services.CONSENT_TEXT,
        "ack_overdue": pip.is_ack_overdue(),
    }
    return _no_store(render(request, "pips/signing/sign.html", context))


@require_http_methods(["GET", "POST"])
@login_required
def refusal(request: HttpRequest, pk: int) -> HttpResponse:
    """The employee refused to sign: the supervisor records it with a witness and a note, which
    completes the acknowledgment step."""
    pip = selectors.pip_for_owner(request.user, pk)
    version = selectors.version_with_sections(pip.current_version_id)
    signed = {sig.role: sig for sig in version.signatures.all()}
    posted = request.method == "POST"
    form = RefusalForm(request.POST if posted else None, pip=pip, actor=request.user)
    waiting = ""
    if posted:
        if form.is_valid():
            try:
                services.refusal_record(
                    actor=request.user,
                    pip=pip,
                    witness=form.cleaned_data["witness"],
                    note=form.cleaned_data["note"],
                    meta=request_meta(request),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(
                    request,
                    _("The refusal to sign is recorded; the acknowledgment step is complete."),
                )
                return redirect(pip)
    elif pip.status not in rules.SIGNABLE:
        waiting = _("This plan is %(status)s: there is nothing to sign.") % {
            "status": str(pip.get_status_display()).lower()
        }
    elif SignerRole.AGENT in signed:
        waiting = _waiting_for(pip, version, SignerRole.AGENT, signed, request.time_zone)
    elif SignerRole.MANAGER not in signed:
        waiting = _("Sign this version as manager first; then the employee can sign or refuse.")
    context = {
        "pip": pip,
        "version": version,
        "form": form,
        "waiting": waiting,
        "signatures": _checked_signatures(version),
        "ack_overdue": pip.is_ack_overdue(),
    }
    return _no_store(render(request, "pips/signing/refusal.html", context))


# --- amendments --------------------------------------------------------------------------------


def _amendment_in_progress(versions: list[PipVersion]) -> PipVersion | None:
    latest = max(versions, key=lambda v: v.number, default=None)
    if latest is not None and latest.number > 1 and latest.state in IN_PROGRESS:
        return latest
    return None


@require_http_methods(["GET", "POST"])
@login_required
def amend(request: HttpRequest, pk: int) -> HttpResponse:
    """Start an amendment: a new version copied from the one in force, with why it changes."""
    pip = selectors.pip_for_owner(request.user, pk)
    versions = list(pip.versions.all())
    if _amendment_in_progress(versions) is not None:
        messages.info(request, _("An amendment of this plan is already in progress."))
        return redirect("pips:amendment", pip.pk)
    posted = request.method == "POST"
    form = AmendmentStartForm(request.POST if posted else None)
    if posted and form.is_valid():
        try:
            version = services.amendment_start(
                actor=request.user,
                pip=pip,
                change_summary=form.cleaned_data["change_summary"],
                meta=request_meta(request),
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Version %(number)s is started as a copy of version %(previous)s. Edit it, "
                    "then submit it to HR."
                )
                % {"number": version.number, "previous": version.number - 1},
            )
            return redirect("pips:amendment", pip.pk)
    waiting = ""
    if not posted and pip.status not in rules.AMENDABLE:
        waiting = _(
            "This plan is %(status)s. Only a plan that is running (signed by everyone, not yet "
            "closed) can be amended."
        ) % {"status": str(pip.get_status_display()).lower()}
    context = {"pip": pip, "form": form, "waiting": waiting, "versions": versions}
    return _no_store(render(request, "pips/signing/amend.html", context))


def _changes_context(request: HttpRequest, pip: Pip, old_pk: int, new_pk: int) -> dict:
    old = selectors.version_with_sections(old_pk)
    new = selectors.version_with_sections(new_pk)
    return {
        "pip": pip,
        "old": old,
        "new": new,
        "diff": version_diff(old, new),
        "is_owner": rules.is_plan_supervisor(request.user, pip),
        "is_hr": roles.is_hr(request.user),
    }


def _render_amendment(
    request: HttpRequest,
    pip: Pip,
    versions: list[PipVersion],
    *,
    submit_form: AmendmentSubmitForm | None = None,
    decision_form: AmendmentDecisionForm | None = None,
) -> HttpResponse:
    draft = _amendment_in_progress(versions)
    if draft is None:
        latest = max(versions, key=lambda v: v.number)
        context = {
            "pip": pip,
            "latest": latest,
            "can_amend": rules.can_amend(request.user, pip),
        }
        return _no_store(render(request, "pips/signing/no_amendment.html", context))
    context = _changes_context(request, pip, pip.current_version_id, draft.pk)
    returned = (
        AuditEvent.objects.filter(pip=pip, version=draft, action=AuditAction.AMENDMENT_RETURNED)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    owner, hr = context["is_owner"], context["is_hr"]
    # Separation of duties: whoever holds the plan or wrote the amendment does not decide it.
    hr = hr and not rules.hr_conflict(request.user, pip, draft)
    if owner and draft.state == VersionState.DRAFT and submit_form is None:
        submit_form = AmendmentSubmitForm(action=reverse("pips:amendment_submit", args=[pip.pk]))
    if hr and draft.state == VersionState.PENDING_HR and decision_form is None:
        decision_form = AmendmentDecisionForm(
            action=reverse("pips:amendment_decide", args=[pip.pk])
        )
    context.update(
        {
            "amendment": draft,
            "returned": returned if draft.state == VersionState.DRAFT else None,
            "submit_form": submit_form if draft.state == VersionState.DRAFT else None,
            "decision_form": decision_form if draft.state == VersionState.PENDING_HR else None,
            "edit_url": reverse("pips:edit", args=[pip.pk])
            if owner and draft.state == VersionState.DRAFT
            else None,
        }
    )
    return _no_store(render(request, "pips/signing/amendment.html", context))


def _pip_for_owner_or_hr(user, pk: int) -> Pip:
    pip = selectors.pip_for_user(user, pk)
    if not rules.manages_plan(user, pip):
        raise PermissionDenied(_("Only the plan's supervisor and HR work on amendments."))
    return pip


@require_GET
@login_required
def amendment(request: HttpRequest, pk: int) -> HttpResponse:
    """The amendment in progress: what it changes from the version in force, section by
    section, with the supervisor's submit button and HR's approve and return buttons."""
    pip = _pip_for_owner_or_hr(request.user, pk)
    versions = list(pip.versions.all())
    services.pip_viewed(actor=request.user, pip=pip, meta=request_meta(request))
    return _render_amendment(request, pip, versions)


@require_POST
@login_required
def amendment_submit(request: HttpRequest, pk: int) -> HttpResponse:
    pip = selectors.pip_for_owner(request.user, pk)
    form = AmendmentSubmitForm(request.POST, action=request.path)
    if form.is_valid():
        try:
            version = services.amendment_submit(
                actor=request.user, pip=pip, meta=request_meta(request)
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("Version %(number)s is submitted to HR.") % {"number": version.number}
            )
            return redirect("pips:amendment", pip.pk)
    versions = list(pip.versions.all())
    if _amendment_in_progress(versions) is None:
        messages.error(request, " ".join(form.non_field_errors()))
        return redirect("pips:amendment", pip.pk)
    return _render_amendment(request, pip, versions, submit_form=form)


@require_POST
@login_required
def amendment_decide(request: HttpRequest, pk: int) -> HttpResponse:
    pip = selectors.pip_for_hr(request.user, pk)
    pending = _amendment_in_progress(list(pip.versions.all()))
    conflict = rules.hr_conflict(request.user, pip, pending)
    if conflict:
        # Separation of duties: who holds the plan or wrote the amendment does not decide it.
        raise PermissionDenied(conflict)
    form = AmendmentDecisionForm(request.POST, action=request.path)
    if form.is_valid():
        try:
            version = services.amendment_decide(
                actor=request.user,
                pip=pip,
                approve=form.approve,
                comment=form.cleaned_data["comment"],
                meta=request_meta(request),
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if form.approve:
                messages.success(
                    request,
                    _(
                        "Version %(number)s is approved and in force. The manager, the employee "
                        "and HR sign it again."
                    )
                    % {"number": version.number},
                )
                return redirect(pip)
            messages.success(
                request,
                _("Version %(number)s is returned to the supervisor.") % {"number": version.number},
            )
            return redirect("pips:amendment", pip.pk)
    versions = list(pip.versions.all())
    if _amendment_in_progress(versions) is None:
        messages.error(request, " ".join(form.non_field_errors()))
        return redirect("pips:amendment", pip.pk)
    return _render_amendment(request, pip, versions, decision_form=form)


@require_GET
@login_required
def version_changes(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """What a version changed from the one before it. Versions in force or superseded are
    readable by everyone who sees the plan; a version still being written, only by its
    supervisor and HR."""
    pip = selectors.pip_for_user(request.user, pk)
    versions = {v.number: v for v in pip.versions.all()}
    new = versions.get(number)
    old = versions.get(number - 1)
    if new is None or old is None:
        raise Http404(_("There is no earlier version to compare this one with."))
    if not new.is_frozen() and not (rules.manages_plan(request.user, pip)):
        raise PermissionDenied(_("This version is not in force yet."))
    context = _changes_context(request, pip, old.pk, new.pk)
    services.pip_viewed(actor=request.user, pip=pip, meta=request_meta(request))
    return _no_store(render(request, "pips/signing/changes.html", context))
