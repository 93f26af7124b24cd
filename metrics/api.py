"""The KPI data API for integrations: token authentication, bulk rows, all or nothing.

Rows posted as JSON go through `metrics.loading.load_rows`, the same code path as the upload
page and `manage.py import_metrics`. A rejected batch comes back as 400 with every error naming
the row (its 1-based position in `rows`) and the field. Tokens are DRF's (`authtoken`),
issued in the admin to a user of the analyst or HR group."""

from __future__ import annotations

import json
import zlib

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.authentication import TokenAuthentication
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from metrics.access import can_load
from metrics.loading import load_rows
from metrics.serializers import BatchSerializer, LoadSerializer
from metrics.uploads import source_named
from pipsystem import l10n


class CanLoad(BasePermission):
    message = gettext_lazy(
        "This token's user may not load KPI data (analysts, HR and administrators may)."
    )

    def has_permission(self, request, view) -> bool:
        return can_load(request.user)


@extend_schema(
    summary="Load a batch of KPI samples",
    description=(
        "All or nothing: any bad row rejects the whole batch (400) and nothing is saved. "
        "Loading is idempotent: posting the same rows twice changes nothing."
    ),
    request=BatchSerializer,
    responses={201: LoadSerializer, 400: LoadSerializer},
    examples=[
        OpenApiExample(
            "Two values",
            request_only=True,
            value={
                "source": "ACD",
                "rows": [
                    {"employee_id": "E1001", "date": "2025-03-04", "kpi": "aht", "value": "5:30"},
                    {
                        "employee_id": "E1001",
                        "date": "2025-03-04",
                        "kpi": "csat",
                        "value": 82,
                        "weight": 14,
                    },
                ],
            },
        )
    ],
)
@api_view(["POST"])
@authentication_classes([TokenAuthentication])
@permission_classes([IsAuthenticated, CanLoad])
def samples(request: Request) -> Response:
    try:
        payload = read_json(request)
    except BodyError as exc:
        return Response(
            {"status": "invalid", "errors": [{"row": None, "field": "body", "reason": exc.reason}]},
            status=exc.status,
        )
    batch = BatchSerializer(data=payload)
    if not batch.is_valid():
        return Response(
            {"status": "invalid", "errors": _field_errors(batch.errors)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    data = batch.validated_data
    result = load_rows(
        data["rows"],
        source=source_named(data["source"]),
        uploaded_by=request.user,
        label=data["label"] or "API batch",
    )
    body = {
        "load": result.load.pk,
        "status": result.load.status,
        "rows_total": result.rows_total,
        "rows_changed": result.rows_changed,
        "errors": [
            {"row": error.line or None, "field": error.column, "reason": error.reason}
            for error in result.errors
        ],
        "error_count": result.error_count,
    }
    return Response(body, status=status.HTTP_201_CREATED if result.ok else 400)


def _field_errors(errors: dict) -> list[dict]:
    """The serializer's errors as a flat list naming the field (and the row, for rows)."""
    flat = []
    for name, problems in errors.items():
        if isinstance(problems, dict):  # per item of `rows`
            for index, item_problems in problems.items():
                for problem in item_problems:
                    flat.append({"row": int(index) + 1, "field": name, "reason": str(problem)})
            continue
        for problem in problems:
            flat.append({"row": None, "field": name, "reason": str(problem)})
    return flat


class BodyError(Exception):
    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


def read_json(request: Request) -> object:
    """The request's JSON body, read here rather than by DRF's parser: up to
    METRICS_API_MAX_BYTES (Django's 2.5 MB limit for form posts would stop a batch of 30,000
    rows with an HTML page), refused by its Content-Length before it is read, gzip-encoded or
    not, and a nesting too deep for the parser is an error, not a crash."""
    limit = settings.METRICS_API_MAX_BYTES
    sizes = {
        "limit": l10n.number(limit, 0),
        "rows": l10n.number(settings.METRICS_API_MAX_ROWS, 0),
    }
    too_big = (
        gettext(
            "the request body is larger than %(limit)s bytes (METRICS_API_MAX_BYTES): send at "
            "most %(rows)s rows per request, or gzip the body"
        )
        % sizes
    )
    http = request._request
    try:
        length = int(http.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BodyError(gettext("the Content-Length header is not a number")) from None
    if length > limit:
        raise BodyError(too_big, 413)
    if request.content_type.split(";")[0].strip() != "application/json":
        raise BodyError(gettext("send the batch as JSON (Content-Type: application/json)"), 415)
    body = http.read(limit + 1)
    if len(body) > limit:
        raise BodyError(too_big, 413)
    encoding = http.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error:
            raise BodyError(
                gettext("the body is not valid gzip (Content-Encoding: gzip)")
            ) from None
        if len(body) > limit or inflater.unconsumed_tail:
            unpacked_too_big = gettext(
                "the unpacked request body is larger than %(limit)s bytes "
                "(METRICS_API_MAX_BYTES): send at most %(rows)s rows per request, or gzip the body"
            )
            raise BodyError(unpacked_too_big % sizes, 413)
    elif encoding not in ("", "identity"):
        raise BodyError(
            gettext("unsupported Content-Encoding %(encoding)s: send gzip or none")
            % {"encoding": repr(encoding)},
            415,
        )
    if not body:
        raise BodyError(gettext('the body is empty: send {"source": …, "rows": […]}'))
    try:
        return json.loads(body)
    except RecursionError:
        raise BodyError(
            gettext("the JSON is nested too deeply: rows are objects of plain values")
        ) from None
    except ValueError as exc:
        raise BodyError(gettext("the body is not valid JSON: %(error)s") % {"error": exc}) from None
