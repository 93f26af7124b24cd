"""The KPI upload pages: upload → map columns → preview (the first rows and every error with
its line) → load, all or nothing; the list of recent loads; a load's page with its progress.

For analysts (QA, WFM), HR and administrators; anyone else gets 403. An upload in progress
belongs to the session that made it: any other token is a 404."""

from __future__ import annotations

from functools import partial, wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from metrics import tasks, uploads
from metrics.access import can_load
from metrics.forms import ConfirmForm, MappingForm, UploadForm
from metrics.loading import PREVIEW_ERRORS, preview_file
from metrics.models import Kpi, MetricLoad, MetricSource
from metrics.parsing import HEADER_SEARCH_ROWS, FileError, MappingError
from metrics.suggest import suggest
from pipsystem import l10n

RECENT_LOADS = 50


def loader_required(view):
    """403 for a signed-in user who does not load KPI data."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not can_load(request.user):
            raise PermissionDenied(
                _("Only QA and WFM analysts, HR and administrators load KPI data.")
            )
        return view(request, *args, **kwargs)

    return wrapper


def _upload_or_404(request: HttpRequest, token: str) -> uploads.StoredUpload:
    upload = uploads.upload_of(request.session, token)
    if upload is None:
        raise Http404(_("No such upload in progress: upload the file again."))
    return upload


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@login_required
@loader_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    initial = {}
    if request.GET.get("source", "").isdigit():
        initial["source"] = MetricSource.objects.filter(pk=request.GET["source"][:12]).first()
    form = UploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        source = form.cleaned_data["source"] or uploads.source_named(
            form.cleaned_data["new_source"]
        )
        stored = uploads.store_upload(request.session, form.cleaned_data["file"], source)
        return redirect("metrics:upload_map", token=stored.token)
    return _no_store(render(request, "metrics/upload.html", {"form": form}))


def _file_choice(request: HttpRequest, stored: uploads.StoredUpload) -> tuple[int, str]:
    """The header line and sheet asked for (the page's file choices), else the saved ones."""
    data = request.POST if request.method == "POST" else request.GET
    raw = data.get("header_row", "")
    header_row = int(raw) if raw.isdigit() and 0 < int(raw) <= HEADER_SEARCH_ROWS else 0
    sheet = data.get("sheet", "")[:100] or stored.mapping.get("sheet", "")
    return header_row, sheet


@login_required
@loader_required
@require_http_methods(["GET", "POST"])
def upload_map(request: HttpRequest, token: str) -> HttpResponse:
    stored = _upload_or_404(request, token)
    source = get_object_or_404(MetricSource, pk=stored.source_id)
    header_row, sheet = _file_choice(request, stored)
    saved = stored.column_mapping
    try:
        header = uploads.read_header(
            stored,
            header_row=header_row,
            sheet=sheet,
            columns=saved.columns() if saved else (),
        )
    except FileError as exc:
        uploads.forget(request.session, stored)
        messages.error(
            request,
            _("%(file)s cannot be read: %(reason)s.")
            % {"file": stored.filename, "reason": exc.reason},
        )
        return redirect(f"{reverse('metrics:upload')}?source={source.pk}")
    context = {"upload": stored, "source": source, "header": header}
    if header.sheets and not header.sheet:  # a workbook of several sheets: which one?
        return _no_store(render(request, "metrics/map.html", context))
    kpis = list(Kpi.objects.filter(is_active=True))
    fits = saved is not None and {c.strip().casefold() for c in saved.columns()} <= {
        c.strip().casefold() for c in header.columns
    }
    if fits:
        initial = MappingForm.initial_from(stored.mapping)
    else:
        initial = suggest(
            header.columns, [header.sample_of(i) for i in range(len(header.columns))], kpis
        )
    initial.update(header_row=header.header_row, sheet=header.sheet)
    form = MappingForm(request.POST or None, header=header, kpis=kpis, initial=initial)
    if request.method == "POST" and form.is_valid():
        mapping = form.cleaned_data["mapping"]
        uploads.save_mapping(source, mapping)
        stored.mapping, stored.rows_total = mapping.as_dict(), None
        uploads.remember(request.session, stored)
        return redirect("metrics:upload_preview", token=stored.token)
    columns = [(name, header.sample_of(i)) for i, name in enumerate(header.columns)]
    context.update(form=form, columns=columns, suggested=not fits)
    return _no_store(render(request, "metrics/map.html", context))


@login_required
@loader_required
@require_http_methods(["GET", "POST"])
def upload_preview(request: HttpRequest, token: str) -> HttpResponse:
    stored = _upload_or_404(request, token)
    source = get_object_or_404(MetricSource, pk=stored.source_id)
    if not stored.mapping:
        return redirect("metrics:upload_map", token=stored.token)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and stored.rows_total is not None and form.is_valid():
        return _load(request, stored)
    if uploads.previewed_in_background(stored):
        preview = uploads.stored_preview(stored)
        if preview is None:  # not ready: the worker parses it, the page looks again shortly
            if uploads.preview_needs_queueing(request.session, stored):
                transaction.on_commit(
                    partial(
                        tasks.enqueue_preview,
                        stored.path,
                        stored.filename,
                        stored.mapping,
                        stored.sha256,
                    )
                )
            context = {"upload": stored, "source": source}
            return _no_store(render(request, "metrics/previewing.html", context))
        if isinstance(preview, str):
            messages.error(
                request,
                _("The saved mapping no longer fits this file: %(reason)s.") % {"reason": preview},
            )
            return redirect("metrics:upload_map", token=stored.token)
    else:
        try:
            with uploads.open_stored(stored.path) as file:
                preview = preview_file(file, mapping=stored.mapping, filename=stored.filename)
        except MappingError as exc:
            messages.error(
                request,
                _("The saved mapping no longer fits this file: %(reason)s.") % {"reason": exc},
            )
            return redirect("metrics:upload_map", token=stored.token)
    stored.rows_total = preview.rows_total if preview.ok else None
    uploads.remember(request.session, stored)
    kpis = {kpi.code: kpi for kpi in Kpi.objects.all()}
    rows = [(row, kpis[row.kpi], kpis[row.kpi].format_value(row.value)) for row in preview.rows]
    return _no_store(
        render(
            request,
            "metrics/preview.html",
            {
                "upload": stored,
                "source": source,
                "preview": preview,
                "rows": rows,
                "form": form,
                "more_errors": preview.error_count - len(preview.errors),
                "error_limit": PREVIEW_ERRORS,
                "background": (stored.rows_total or 0) > settings.METRICS_ASYNC_ROWS,
            },
        )
    )


def _load(request: HttpRequest, stored: uploads.StoredUpload) -> HttpResponse:
    if (stored.rows_total or 0) > settings.METRICS_ASYNC_ROWS:
        load = uploads.queue_load(stored, request.user)
        transaction.on_commit(partial(tasks.enqueue_load, load.pk, stored.path))
        uploads.forget(request.session, stored, keep_file=True)  # the task removes it
        messages.info(
            request, _("%(file)s is loading in the background.") % {"file": stored.filename}
        )
        return redirect(load_url(load))
    result = uploads.load_now(stored, request.user)
    if result.ok:
        uploads.forget(request.session, stored)
        unchanged = result.rows_total - result.rows_changed
        messages.success(
            request,
            ngettext(
                "%(file)s: loaded %(total)s value (%(changed)s new or changed, "
                "%(unchanged)s unchanged).",
                "%(file)s: loaded %(total)s values (%(changed)s new or changed, "
                "%(unchanged)s unchanged).",
                result.rows_total,
            )
            % {
                "file": stored.filename,
                "total": l10n.number(result.rows_total, 0),
                "changed": l10n.number(result.rows_changed, 0),
                "unchanged": l10n.number(unchanged, 0),
            },
        )
    else:
        messages.error(
            request,
            ngettext(
                "%(file)s was rejected: %(count)s problem, nothing loaded.",
                "%(file)s was rejected: %(count)s problems, nothing loaded.",
                result.error_count,
            )
            % {"file": stored.filename, "count": l10n.number(result.error_count, 0)},
        )
    return redirect(load_url(result.load))


def load_url(load: MetricLoad) -> str:
    return reverse("metrics:load", args=[load.pk])


@login_required
@loader_required
@require_GET
def load_list(request: HttpRequest) -> HttpResponse:
    loads = MetricLoad.objects.select_related("source", "uploaded_by").order_by(
        "-created_at", "-id"
    )[:RECENT_LOADS]
    return render(request, "metrics/loads.html", {"loads": loads, "limit": RECENT_LOADS})


@login_required
@loader_required
@require_GET
def load_detail(request: HttpRequest, pk: int) -> HttpResponse:
    load = get_object_or_404(MetricLoad.objects.select_related("source", "uploaded_by"), pk=pk)
    return render(request, "metrics/load.html", {"load": load, "status": load_status_data(load)})


@login_required
@loader_required
@require_GET
def load_status(request: HttpRequest, pk: int) -> JsonResponse:
    """What the load page's progress bar polls."""
    load = get_object_or_404(MetricLoad, pk=pk)
    response = JsonResponse(load_status_data(load))
    response["Cache-Control"] = "no-store"
    return response


def load_status_data(load: MetricLoad) -> dict:
    done = load.status in (MetricLoad.Status.LOADED, MetricLoad.Status.REJECTED)
    if done:
        percent = 100
    elif load.status == MetricLoad.Status.RUNNING and load.rows_total:
        percent = min(99, load.rows_loaded * 100 // load.rows_total)
    else:
        percent = 0
    return {
        "id": load.pk,
        "status": load.status,
        "status_label": load.get_status_display(),
        "rows_total": load.rows_total,
        "rows_loaded": load.rows_loaded,
        "percent": percent,
        "done": done,
    }
