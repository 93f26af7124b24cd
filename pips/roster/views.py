"""The roster pages for HR and administrators: upload an HR export, map its columns (saved per
source), preview what it changes with every row accounted for, load it, and the record of
past loads; and the list of people who have not joined, to invite them."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from pips.inputs import RequestMeta
from pips.models import Team
from pips.roster import selectors, uploads
from pips.roster.forms import InviteForm, MappingForm, UploadForm
from pips.roster.models import ImportOrigin, RosterImport, RosterSource
from pips.roster.parsing import FIELDS, FileError, RosterMapping, guess_mapping, open_roster
from pips.services.roster import (
    may_load_roster,
    people_invite,
    roster_load,
    roster_preview,
)
from pipsystem.security import client_ip

PAGE = 50


def request_meta(request: HttpRequest) -> RequestMeta:
    """Who loads the roster from where, for the plans' records it moves or ends."""
    return RequestMeta(
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
    )


SHOWN_CHANGES = 200


def hr_only(view):
    @login_required
    @wraps(view)
    def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not may_load_roster(request.user):
            raise PermissionDenied(_("Only HR and administrators manage the roster."))
        return view(request, *args, **kwargs)

    return inner


def _upload_for(request: HttpRequest, token: str) -> uploads.RosterUpload:
    upload = uploads.find(request.session, token)
    if upload is None:
        raise Http404(_("No such upload in this session."))
    return upload


@hr_only
@require_http_methods(["GET", "POST"])
def roster(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        source = form.cleaned_data["source"] or RosterSource.objects.create(
            name=form.cleaned_data["new_source"].strip()
        )
        upload = uploads.keep(request.session, form.cleaned_data["file"], source.pk, source.mapping)
        return redirect("roster:map", token=upload.token)
    page = Paginator(selectors.recent_imports(), 25).get_page(request.GET.get("page"))
    return render(request, "roster/roster.html", {"form": form, "page": page})


@hr_only
@require_http_methods(["GET", "POST"])
def upload_map(request: HttpRequest, token: str) -> HttpResponse:
    upload = _upload_for(request, token)
    try:
        with open_roster(upload.read(), filename=upload.filename) as table:
            header = [h.strip() for h in table.header]
            samples = [row for _, row in zip(range(3), table.rows, strict=False)]
    except FileError as exc:
        messages.error(
            request,
            _("The file cannot be read: %(reason)s (line %(line)s).")
            % {"reason": exc.reason, "line": exc.line},
        )
        uploads.done(request.session, upload)
        return redirect("roster:roster")
    initial = upload.mapping or guess_mapping(header)
    form = MappingForm(request.POST or None, header=header, initial_mapping=initial)
    if request.method == "POST" and form.is_valid():
        upload.mapping = form.mapping.as_dict()
        uploads.save(request.session, upload)
        return redirect("roster:preview", token=token)
    columns = [
        (h, [row[i] if i < len(row) else "" for row in samples]) for i, h in enumerate(header)
    ]
    return render(
        request,
        "roster/map.html",
        {"form": form, "upload": upload, "columns": columns, "fields": FIELDS},
    )


@hr_only
@require_http_methods(["GET", "POST"])
def upload_preview(request: HttpRequest, token: str) -> HttpResponse:
    upload = _upload_for(request, token)
    if not upload.mapping:
        return redirect("roster:map", token=token)
    mapping = RosterMapping.parse(upload.mapping)
    source = get_object_or_404(RosterSource, pk=upload.source_id)
    data = upload.read()
    if request.method == "POST":
        from pips.services.roster import RosterFile

        file = RosterFile(data=data, filename=upload.filename)
        try:
            table = file.table()
        except FileError as exc:
            messages.error(
                request, _("The file cannot be read: %(reason)s") % {"reason": exc.reason}
            )
            return redirect("roster:roster")
        record = roster_load(
            actor=request.user,
            source=source,
            table=table,
            mapping=mapping,
            origin=ImportOrigin.PAGE,
            filename=upload.filename,
            sha256=file.sha256,
            meta=request_meta(request),
        )
        if record.status == "loaded":
            uploads.done(request.session, upload)
            messages.success(request, _("The roster is loaded."))
        else:
            messages.error(request, _("Nothing was loaded: the roster has refused rows."))
        return redirect("roster:import", pk=record.pk)
    try:
        plan = roster_preview(table=open_roster(data, filename=upload.filename), mapping=mapping)
    except FileError as exc:
        return render(
            request,
            "roster/preview.html",
            {"upload": upload, "source": source, "file_error": exc},
        )
    changes = [p for p in plan.people if p.kind != "unchanged"]
    return render(
        request,
        "roster/preview.html",
        {
            "upload": upload,
            "source": source,
            "plan": plan,
            "summary": plan.summary(),
            "changes": changes[:SHOWN_CHANGES],
            "more_changes": max(len(changes) - SHOWN_CHANGES, 0),
            "transfers": plan.transfers[:SHOWN_CHANGES],
            "deactivations": plan.deactivations[:SHOWN_CHANGES],
        },
    )


@hr_only
@require_http_methods(["GET"])
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(RosterImport.objects.select_related("source", "created_by"), pk=pk)
    changes = Paginator(record.changes, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "roster/import.html",
        {"record": record, "changes": changes, "errors": record.errors[:1000]},
    )


@login_required
@require_http_methods(["GET", "POST"])
def invitations(request: HttpRequest) -> HttpResponse:
    """Who has not joined yet (HR: everyone; a supervisor: their own people), and inviting
    them: chosen people, a team, or everyone listed."""
    user = request.user
    hr = may_load_roster(user)
    from pips import roles

    if not hr and not roles.is_supervisor(user):
        raise PermissionDenied(_("Only HR, administrators and supervisors invite people."))
    team_id = request.GET.get("team") or None
    try:
        team_id = int(team_id) if team_id else None
    except ValueError:
        team_id = None
    people = selectors.not_joined(team_id)
    if not hr:
        people = people.filter(supervisor=user)
    if request.method == "POST":
        form = InviteForm(request.POST)
        if form.is_valid():
            scope = form.cleaned_data["scope"]
            chosen = selectors.not_joined()
            if not hr:
                chosen = chosen.filter(supervisor=user)
            if scope == "people":
                chosen = chosen.filter(pk__in=form.cleaned_data["agents"])
            elif scope == "team":
                chosen = chosen.filter(team=form.cleaned_data["team"])
            agents = list(chosen.select_related("user"))
            try:
                sent = people_invite(actor=user, agents=agents)
            except PermissionDenied:
                raise Http404(_("No such people.")) from None
            skipped = len(agents) - len(sent)
            message = ngettext(
                "%(count)s invitation sent.", "%(count)s invitations sent.", len(sent)
            ) % {"count": len(sent)}
            if skipped:
                message = ngettext(
                    "%(sent)s %(count)s without an e-mail address could not be invited.",
                    "%(sent)s %(count)s without an e-mail address could not be invited.",
                    skipped,
                ) % {"sent": message, "count": skipped}
            messages.success(request, message)
            nxt = request.POST.get("next", "")
            if nxt.startswith("/") and not nxt.startswith("//"):
                return redirect(nxt)
            return redirect(request.get_full_path())
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    page = Paginator(people, PAGE).get_page(request.GET.get("page"))
    teams = Team.objects.all() if hr else Team.objects.filter(agents__supervisor=user).distinct()
    return render(
        request,
        "roster/invitations.html",
        {"page": page, "teams": teams, "team_id": team_id, "hr": hr},
    )
