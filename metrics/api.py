"""The KPI data API for integrations: token authentication, bulk rows, all or nothing.

Rows posted as JSON go through `metrics.loading.load_rows`, the same code path as the upload
page and `manage.py import_metrics`. A rejected batch comes back as 400 with every error naming
the row (its 1-based position in `rows`) and the field. Tokens are DRF's (`authtoken`),
issued in the admin to a user of the analyst or HR group."""

from __future__ import annotations

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


class CanLoad(BasePermission):
    message = "This token's user may not load KPI data (analysts, HR and administrators may)."

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
    batch = BatchSerializer(data=request.data)
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
