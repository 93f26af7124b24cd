"""The plan lists of HR and supervisors (search, filters, sorting, pages, CSV and XLSX export),
and the autocomplete behind the team and supervisor filters. The whole query is in the URL, so a
list can be bookmarked and shared; the person it is shared with sees what they may see of it.
403 for agents and analysts, who have no such list."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from pips import plan_lists, selectors, services
from pips.forms.plan_lists import PlanListForm
from pips.stats import neutralise
from pips.views.common import request_meta

EXPORTS = {"csv", "xlsx"}


def _require_list(user) -> None:
    if not plan_lists.may_list(user):
        raise PermissionDenied(_("Plan lists are for HR and supervisors."))


COLUMNS = [
    (gettext_lazy("Plan"), "ref"),
    (gettext_lazy("Employee"), "name"),
    (gettext_lazy("Team"), "team"),
    (gettext_lazy("Supervisor"), "supervisor"),
    (gettext_lazy("State"), "state"),
    (gettext_lazy("Review period"), "start"),
    (gettext_lazy("Ends"), "end"),
    (gettext_lazy("Waiting for"), None),
]


def _headers(request: HttpRequest, sort: str) -> list[dict]:
    """Each column's heading; a sortable one links to the same list sorted by it (ascending
    first, then the other way), and says how it is sorted now (aria-sort)."""
    base = _query_without(request, "page", "export", "sort")
    headers = []
    for label, key in COLUMNS:
        header = {"label": label, "href": None, "aria": None}
        if key is not None:
            current = sort.lstrip("-") == key
            descending = sort.startswith("-")
            next_sort = f"-{key}" if current and not descending else key
            header["href"] = "?" + "&".join(filter(None, [base, f"sort={next_sort}"]))
            if current:
                header["aria"] = "descending" if descending else "ascending"
        headers.append(header)
    return headers


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    _require_list(request.user)
    form = PlanListForm(request.GET or None, user=request.user)
    query = form.query()
    export = request.GET.get("export", "")
    if export and export not in EXPORTS:
        form.add_error(
            None, _("There is no “%(export)s” export; choose CSV or XLSX.") % {"export": export}
        )
        query = None
    if query is not None and export:
        return _export(request, form, plan_lists.plan_list(request.user, query), export)
    page = None
    rows = []
    if query is not None:
        plans = selectors.with_progress(plan_lists.plan_list(request.user, query))
        page = Paginator(plans, plan_lists.PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [(p, selectors.waiting_for(p)) for p in page.object_list]
    sort = query.sort if query is not None else plan_lists.DEFAULT_SORT
    response = render(
        request,
        "pips/plan_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "sort": sort,
            "sees_all": plan_lists.sees_all(request.user),
            "headers": _headers(request, sort),
            # The query without the page (for page links) and without the sort (for headers).
            "query_nopage": _query_without(request, "page", "export"),
            "query_nosort": _query_without(request, "page", "export", "sort"),
        },
        status=200 if query is not None else 400,
    )
    response["Cache-Control"] = "no-store"
    return response


def _export(request: HttpRequest, form: PlanListForm, plans, kind: str) -> HttpResponse:
    count = plans.count()
    if count > plan_lists.MAX_EXPORT_ROWS:
        form.add_error(
            None,
            _("%(count)s plans match; an export holds at most %(max)s. Narrow the filters.")
            % {
                "count": number_format(count, force_grouping=True),
                "max": number_format(plan_lists.MAX_EXPORT_ROWS, force_grouping=True),
            },
        )
        return render(
            request,
            "pips/plan_list.html",
            {"form": form, "page": None, "rows": [], "sort": plan_lists.DEFAULT_SORT},
            status=400,
        )
    services.report_exported(
        actor=request.user,
        report=f"plans.{kind}",
        filters=form.as_record(),
        meta=request_meta(request),
    )
    stamp = timezone.localdate().isoformat()
    rows = plan_lists.export_rows(plans)
    if kind == "csv":
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            _xlsx(rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="pip-plans-{stamp}.{kind}"'
    response["Cache-Control"] = "no-store"
    return response


def _csv_lines(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _xlsx(rows) -> bytes:
    """A workbook written row by row (openpyxl's write-only mode). Every text cell is stored as
    text, and neutralised like the CSV, so no cell is ever a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Plans"))
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lookup(request: HttpRequest, find) -> JsonResponse:
    """Suggestions for a filter: at most LOOKUP_LIMIT, matching `q`, among what the user may
    filter by."""
    _require_list(request.user)
    response = JsonResponse({"results": find(request.user, request.GET.get("q", "")[:100])})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def lookup_teams(request: HttpRequest) -> JsonResponse:
    return _lookup(request, plan_lists.lookup_teams)


@login_required
@require_GET
def lookup_supervisors(request: HttpRequest) -> JsonResponse:
    return _lookup(request, plan_lists.lookup_supervisors)
