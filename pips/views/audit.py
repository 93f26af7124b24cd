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
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from pips import languages, selectors
from pips.audit import ACCESS_ACTIONS, DETAIL_LABELS
from pips.content import content_hash
from pips.models import (
    AuditEvent,
    Outcome,
    PipPause,
    PipVersion,
    Signature,
    SignerRole,
    status_label,
)

EVENTS_PER_PAGE = 100


@dataclass(frozen=True)
class Detail:
    """One stored detail of an event, shown in the reader's language where it is a name or a
    code we know; otherwise as stored, and then `lang` says it is an English identifier."""

    label: str
    value: str
    label_lang: str = ""


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    from_label: str
    to_label: str
    changes: list[Detail]


#: Stored codes shown by their label: the choices each key's value is one of.
_CODED: dict[str, dict[str, str]] = {
    "role": dict(SignerRole.choices),
    "outcome": dict(Outcome.choices),
    "proposed_outcome": dict(Outcome.choices),
    "kind": dict(PipPause.Kind.choices),
}


def _change_text(key: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, str):
        if key == "consent_language":
            return languages.language_name(value)
        return str(_CODED.get(key, {}).get(value, value))
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _detail(key: str, value) -> Detail:
    label = DETAIL_LABELS.get(key)
    text = _change_text(key, value)
    if label is None:
        return Detail(key.replace("_", " "), text, label_lang="en")
    return Detail(str(label), text)


def _row(event: AuditEvent) -> EventRow:
    changes = event.changes if isinstance(event.changes, dict) else {"value": event.changes}
    return EventRow(
        event=event,
        from_label=status_label(event.from_status),
        to_label=status_label(event.to_status),
        changes=[_detail(key, value) for key, value in changes.items()],
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
