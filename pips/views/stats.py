"""HR's consistency page: plans per team and per supervisor, outcomes, time to close and the
share of agents on a plan, with a CSV export. HR and administrators only (403 for anyone else);
a constant number of queries whatever the number of plans."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from pips import roles, services, stats
from pips.forms.stats import StatsFilterForm
from pips.views.common import request_meta


def _require_hr(user) -> None:
    if not roles.roles_of(user) & {roles.HR, roles.ADMIN}:
        raise PermissionDenied(_("Only HR sees the figures across teams."))


@login_required
@require_GET
def stats_page(request: HttpRequest) -> HttpResponse:
    _require_hr(request.user)
    form = StatsFilterForm(request.GET or None)
    tpage, spage = request.GET.get("tpage") or "1", request.GET.get("spage") or "1"
    figures = stats.consistency(**form.filters(), team_page=tpage, supervisor_page=spage)
    query = ""
    if form.is_bound and form.is_valid():
        kept = request.GET.copy()
        for name in ("tpage", "spage"):
            kept.pop(name, None)
        query = kept.urlencode()
    response = render(
        request,
        "pips/stats/stats.html",
        {
            "form": form,
            "figures": figures,
            "query": query,
            # Each table's page, kept when the other one turns.
            "tpage": figures.team_page.number if figures.team_page else 1,
            "spage": figures.supervisor_page.number if figures.supervisor_page else 1,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def stats_csv(request: HttpRequest) -> HttpResponse:
    _require_hr(request.user)
    form = StatsFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        response = render(
            request,
            "pips/stats/stats.html",
            {"form": form, "figures": stats.consistency(), "query": ""},
            status=400,
        )
        response["Cache-Control"] = "no-store"
        return response
    figures = stats.consistency(**form.filters(), everything=True)
    services.report_exported(
        actor=request.user,
        report="consistency.csv",
        filters=form.as_record(),
        meta=request_meta(request),
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"pip-consistency-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    for row in stats.csv_rows(figures):
        writer.writerow([stats.neutralise(cell) for cell in row])
    return response
