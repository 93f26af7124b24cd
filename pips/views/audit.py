"""A plan's audit trail, for HR: every state change, signature, amendment, view and download,
with who, when, from where and what changed; and every signature with whether it still matches
the content it signed."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pips import selectors
from pips.audit import ACCESS_ACTIONS
from pips.content import content_hash
from pips.models import AuditEvent, PipVersion, Signature, status_label

EVENTS_PER_PAGE = 100


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    from_label: str
    to_label: str
    changes: list[tuple[str, str]]


def _change_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _row(event: AuditEvent) -> EventRow:
    changes = event.changes if isinstance(event.changes, dict) else {"value": event.changes}
    return EventRow(
        event=event,
        from_label=status_label(event.from_status),
        to_label=status_label(event.to_status),
        changes=[(key.replace("_", " "), _change_text(value)) for key, value in changes.items()],
    )


@require_GET
@login_required
def audit(request: HttpRequest, pk: int) -> HttpResponse:
    pip = selectors.pip_for_hr(request.user, pk)
    hide_views = request.GET.get("views") == "hide"
    events = (
        AuditEvent.objects.filter(pip=pip).select_related("actor", "version").order_by("at", "id")
    )
    if hide_views:
        events = events.exclude(action__in=ACCESS_ACTIONS)
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    versions = list(
        PipVersion.objects.filter(pip=pip).prefetch_related("reasons", "expectations", "actions")
    )
    hashes = {v.pk: content_hash(v) for v in versions}
    signatures = [
        (sig, sig.content_sha256 == hashes.get(sig.version_id))
        for sig in Signature.objects.filter(version__pip=pip)
        .select_related("signer", "witness", "version")
        .order_by("version__number", "signed_at", "id")
    ]
    context = {
        "pip": pip,
        "page": page,
        "rows": [_row(event) for event in page.object_list],
        "hide_views": hide_views,
        "signatures": signatures,
        # Each version's stored hash (set at issue) beside the hash of its content now.
        "versions": [
            (v, hashes[v.pk], v.content_sha256 == hashes[v.pk] if v.content_sha256 else None)
            for v in sorted(versions, key=lambda v: v.number)
        ],
    }
    response = render(request, "pips/audit/trail.html", context)
    response["Cache-Control"] = "no-store"
    return response
