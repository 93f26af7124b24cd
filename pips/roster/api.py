"""The roster API for HR systems and integration jobs: the same preview and load as the page.

`POST /people/api/roster/` with `Authorization: Token <key>` (a token of an HR user) and
`{"source": "Workday", "rows": [{"employee_id", "full_name", "email", "team", ...}],
"dry_run": false}`. A field left out of every row keeps what is stored. A refused roster comes
back as 400 with every error naming the row (its 1-based position in `rows`) and the field, and
nothing is saved; `dry_run` answers with the preview only.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import TokenAuthentication
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from pips.roster.models import ImportOrigin, ImportStatus, RosterSource
from pips.roster.parsing import FileError, MappingError, api_table
from pips.services.roster import may_load_roster, roster_load, roster_preview


class MayLoadRoster(BasePermission):
    message = gettext_lazy("This token's user may not load the roster (HR and administrators may).")

    def has_permission(self, request, view) -> bool:
        return may_load_roster(request.user)


def _error(field: str, reason: str) -> Response:
    return Response({"errors": [{"field": field, "reason": reason}]}, status=400)


@extend_schema(
    summary="Load the roster (or preview it with dry_run)",
    description=(
        "All or nothing: any refused row rejects the whole roster (400) and nothing is saved. "
        "Idempotent: posting the same people twice changes nothing."
    ),
    request=OpenApiTypes.OBJECT,
    responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
)
@api_view(["POST"])
@authentication_classes([TokenAuthentication])
@permission_classes([IsAuthenticated, MayLoadRoster])
def roster(request: Request) -> Response:
    data = request.data
    if not isinstance(data, dict):
        return _error("", gettext("the body must be a JSON object"))
    name = data.get("source")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        return _error(
            "source", gettext("name the HR system this roster comes from (up to 100 letters)")
        )
    rows = data.get("rows")
    if not isinstance(rows, list) or not rows:
        return _error("rows", gettext("give the people as a non-empty list of objects"))
    if len(rows) > settings.ROSTER_API_MAX_ROWS:
        return _error(
            "rows",
            gettext("at most %(limit)s rows per request") % {"limit": settings.ROSTER_API_MAX_ROWS},
        )
    dry_run = data.get("dry_run", False)
    if not isinstance(dry_run, bool):
        return _error("dry_run", gettext("must be true or false"))
    try:
        table, mapping = api_table(rows)
    except MappingError as exc:
        return _error("rows", str(exc))
    if dry_run:
        try:
            plan = roster_preview(table=table, mapping=mapping)
        except FileError as exc:
            return _error("rows", exc.reason)
        body = {
            "dry_run": True,
            "summary": plan.summary(),
            "changes": [p.as_dict() for p in plan.people if p.kind != "unchanged"],
            "errors": [_row_error(e.as_dict()) for e in plan.errors.items],
        }
        return Response(body, status=200 if plan.ok else 400)
    source, _ = RosterSource.objects.get_or_create(name=name.strip())
    record = roster_load(
        actor=request.user,
        source=source,
        table=table,
        mapping=mapping,
        origin=ImportOrigin.API,
        filename="",
        save_mapping=False,  # API rows use our own field names, not the files' columns
    )
    body = {
        "id": record.pk,
        "status": record.status,
        "rows": record.rows_total,
        "created": record.created,
        "updated": record.updated,
        "unchanged": record.unchanged,
        "transferred": record.transferred,
        "deactivated": record.deactivated,
        "plans_reassigned": record.plans_reassigned,
        "plans_ended": record.plans_ended,
        "errors": [_row_error(e) for e in record.errors],
    }
    return Response(body, status=201 if record.status == ImportStatus.LOADED else 400)


def _row_error(error: dict) -> dict:
    return {"row": error["line"], "field": error["column"], "reason": error["reason"]}
