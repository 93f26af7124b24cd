"""Sealed copies: a version rendered and signed by the organisation's certificate (PAdES),
stored once per version and state.

A copy is rendered once per version and state and kept in the default storage. Its name carries
a key made of everything the copy shows that can change: the version's content hash, the plan's
status, how many signatures, check-ins, reviews and events (other than views and downloads)
exist, and the last day the KPI charts show. Any step of the lifecycle writes an audit event, so
it gives a new copy; looking at the plan or downloading it does not. Earlier copies of the version
are removed when a new one is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db.models import IntegerField, OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone, translation

from pips import languages
from pips.content import content_hash
from pips.models import (
    AuditEvent,
    CheckIn,
    Pip,
    PipVersion,
    Profile,
    Review,
    Signature,
)
from pips.printing.render import (
    ACCESS_ACTIONS,
    PRINT_LAYOUT,
    PRINT_STYLESHEETS,
    PRINT_TEMPLATE,
    chart_resources,
    page_size,
    print_context,
    render_timeout,
)
from pips.selectors import version_with_sections
from pipsystem import pdfsign
from pipsystem.pdfrender import StaticFilesURLFetcher, render_pdf

# --- the stored copy ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfCopy:
    """A signed copy in storage: its storage name, the name to download it as, and whether this
    call rendered it (False: it was already stored)."""

    name: str
    filename: str
    rendered: bool


class _CountOf(Subquery):
    """COUNT(*) of a (correlated) queryset, as a subquery in the SELECT list."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _counted)"
    output_field = IntegerField()


def _count(queryset) -> _CountOf:
    return _CountOf(queryset.order_by().values("pk"))


def copy_state(pip: Pip, version: PipVersion, current_hash: str) -> dict[str, object]:
    """What the copy of this version shows that can change, in one query."""
    counts = (
        Pip.objects.filter(pk=pip.pk)
        .annotate(
            n_signatures=_count(Signature.objects.filter(version_id=version.pk)),
            n_checkins=_count(CheckIn.objects.filter(pip_id=OuterRef("pk"))),
            n_reviews=_count(Review.objects.filter(pip_id=OuterRef("pk"))),
            n_reviews_done=_count(
                Review.objects.filter(pip_id=OuterRef("pk"), state=Review.State.DONE)
            ),
            n_events=_count(
                AuditEvent.objects.filter(pip_id=OuterRef("pk")).exclude(action__in=ACCESS_ACTIONS)
            ),
            employee_language=Subquery(
                Profile.objects.filter(user_id=OuterRef("agent__user_id")).values("language")[:1]
            ),
        )
        .values(
            "status",
            "n_signatures",
            "n_checkins",
            "n_reviews",
            "n_reviews_done",
            "n_events",
            "employee_language",
            "agent__language",
        )
        .get()
    )
    # The copy is printed in the employee's language: a new one when it changes.
    language = languages.effective_language(
        counts.pop("employee_language"), counts.pop("agent__language")
    )
    return {
        "layout": PRINT_LAYOUT,
        "language": language,
        "default_language": languages.default_language(),
        "page_size": page_size(),
        "version": version.number,
        "version_state": version.state,
        "content_hash": current_hash,
        # The KPI charts run to today while the period lasts: a copy is redrawn at most once a
        # day for new data, and not at all once the period is over.
        "charts_until": min(version.period_end, timezone.localdate()).isoformat(),
        **counts,
    }


def copy_name(pip: Pip, version: PipVersion, state: dict[str, object]) -> str:
    key = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:12]
    return f"pdf/{pip.pk}/v{version.number}-{state['status']}-{key}.pdf"


def download_name(pip: Pip, version: PipVersion) -> str:
    return f"{pip.reference}-v{version.number}.pdf"


def stored_copy(*, pip: Pip, version: PipVersion) -> PdfCopy:
    """The signed copy of this version as the plan stands, rendered now if not stored yet.

    Raises PdfRenderTimeout (the renderer is busy or slow), PdfRenderError, SigningError or
    SigningNotConfigured.
    """
    version = version_with_sections(version.pk)
    current_hash = content_hash(version)
    name = copy_name(pip, version, copy_state(pip, version, current_hash))
    filename = download_name(pip, version)
    if default_storage.exists(name):
        return PdfCopy(name=name, filename=filename, rendered=False)
    data = signed_pdf(pip=pip, version=version, current_hash=current_hash)
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:
        # Rendered at the same time by another request: keep the first, drop ours.
        default_storage.delete(saved)
    _prune(pip, version, keep=name)
    return PdfCopy(name=name, filename=filename, rendered=True)


def open_copy(*, pip: Pip, version: PipVersion) -> tuple[PdfCopy, File]:
    """The stored copy (rendered first if need be), opened for reading. A copy found stored may
    be removed by a newer one rendered at the same moment: then the newer one is opened."""
    copy = stored_copy(pip=pip, version=version)
    try:
        return copy, default_storage.open(copy.name, "rb")
    except FileNotFoundError:
        copy = stored_copy(pip=pip, version=version)
        return copy, default_storage.open(copy.name, "rb")


def _prune(pip: Pip, version: PipVersion, *, keep: str) -> None:
    """Remove the version's earlier copies: they are renderings, not records (the audit trail
    records each download, and a copy handed out verifies by its signature and hash)."""
    folder = f"pdf/{pip.pk}"
    try:
        names = default_storage.listdir(folder)[1]
    except (FileNotFoundError, NotImplementedError):
        return
    for filename in names:
        name = f"{folder}/{filename}"
        if filename.startswith(f"v{version.number}-") and name != keep:
            default_storage.delete(name)


# --- rendering ---------------------------------------------------------------------------------


def signed_pdf(
    *,
    pip: Pip,
    version: PipVersion,
    current_hash: str | None = None,
    now: dt.datetime | None = None,
    url_fetcher: StaticFilesURLFetcher | None = None,
) -> bytes:
    """Render the version and sign it with the organisation's certificate. Not stored."""
    now = now or timezone.now()
    current_hash = current_hash or content_hash(version)
    # The fixed text of the copy is in the employee's language: it is their document.
    with translation.override(languages.language_of_employee(pip.agent)):
        context = print_context(pip=pip, version=version, current_hash=current_hash, now=now)
        html = render_to_string(PRINT_TEMPLATE, context)
    pip = context["pip"]  # as it stands now, with everything the copy shows
    document = render_pdf(
        html,
        stylesheets=PRINT_STYLESHEETS,
        resources=chart_resources(context["charts"]),
        timeout_seconds=render_timeout(),
        title=f"{pip.reference} version {version.number}: Performance Improvement Plan",
        author=getattr(settings, "SITE_NAME", "pipsystem"),
        subject=f"Performance Improvement Plan of {version.employee_name}",
        metadata={
            "pip_id": pip.pk,
            "version": version.number,
            "content_hash": current_hash,
            "plan_status": pip.status,
            "printed_at": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        url_fetcher=url_fetcher,
    )
    return pdfsign.sign_pdf(document, reason=f"Copy of {pip.reference} version {version.number}")
