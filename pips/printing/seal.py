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

import contextlib
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
from pips.audit import ACCESS_ACTIONS
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
    PRINT_LAYOUT,
    PRINT_STYLESHEETS,
    PRINT_TEMPLATE,
    STAFF,
    chart_resources,
    page_size,
    print_context,
    render_timeout,
)
from pips.selectors import version_with_sections
from pipsystem import pdfsign
from pipsystem.locks import LockTimeout, named_lock
from pipsystem.pdfrender import (
    PdfRendererBusy,
    PdfRenderError,
    PdfRenderTimeout,
    StaticFilesURLFetcher,
    render_pdf,
)

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


def copy_state(
    pip: Pip, version: PipVersion, current_hash: str, audience: str = STAFF
) -> dict[str, object]:
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
        # The employee's copy and the staff's differ (the audit certificate): stored apart.
        "audience": audience,
        "content_hash": current_hash,
        # The KPI charts run to today while the period lasts: a copy is redrawn at most once a
        # day for new data, and not at all once the period is over.
        "charts_until": min(version.period_end, timezone.localdate()).isoformat(),
        **counts,
    }


def copy_name(pip: Pip, version: PipVersion, state: dict[str, object]) -> str:
    key = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:12]
    return f"pdf/{pip.pk}/v{version.number}-{state['audience']}-{state['status']}-{key}.pdf"


def download_name(pip: Pip, version: PipVersion) -> str:
    return f"{pip.reference}-v{version.number}.pdf"


def stored_copy(*, pip: Pip, version: PipVersion, audience: str = STAFF) -> PdfCopy:
    """The signed copy of this version as the plan stands, rendered now if not stored yet.

    One request renders a given copy at a time: another asking for it meanwhile waits (up to
    the render's time limit) and is handed the stored copy. A render that failed or ran out of
    time is remembered for PIP_PDF_FAILURE_RETRY_SECONDS, and asking again before then raises
    at once instead of rendering again.

    Raises PdfRenderTimeout (the renderer is busy or slow, or was recently), PdfRenderError,
    SigningError or SigningNotConfigured.
    """
    version = version_with_sections(version.pk)
    current_hash = content_hash(version)
    name = copy_name(pip, version, copy_state(pip, version, current_hash, audience))
    filename = download_name(pip, version)
    if default_storage.exists(name):
        return PdfCopy(name=name, filename=filename, rendered=False)
    if failure := recent_failure(name):
        raise failure
    try:
        with named_lock(f"pdf-copy:{name}", timeout=render_timeout() + 5):
            # Whoever held the lock has stored the copy, or failed.
            if default_storage.exists(name):
                return PdfCopy(name=name, filename=filename, rendered=False)
            if failure := recent_failure(name):
                raise failure
            try:
                data = signed_pdf(
                    pip=pip, version=version, current_hash=current_hash, audience=audience
                )
            except (PdfRenderError, pdfsign.SigningError) as error:
                remember_failure(name, error)
                raise
            saved = default_storage.save(name, ContentFile(data))
            if saved != name:
                # Stored meanwhile by a process outside the lock's reach: keep the first.
                default_storage.delete(saved)
    except LockTimeout:
        raise PdfRendererBusy("This copy is being rendered by another request.") from None
    _prune(pip, version, keep=name, audience=audience)
    return PdfCopy(name=name, filename=filename, rendered=True)


def failure_retry_seconds() -> int:
    return int(getattr(settings, "PIP_PDF_FAILURE_RETRY_SECONDS", 600))


def _failure_name(name: str) -> str:
    """pdf/<plan>/<copy>.pdf -> pdf-failed/<plan>/<copy>.pdf.json: beside the copies, not
    among them."""
    return "pdf-failed/" + name.removeprefix("pdf/") + ".json"


def remember_failure(name: str, error: Exception) -> None:
    """Note beside the copy's name that rendering it failed, and why."""
    record = {
        "at": timezone.now().isoformat(),
        "timed_out": isinstance(error, PdfRenderTimeout),
        "error": str(error)[:500],
    }
    marker = _failure_name(name)
    if default_storage.exists(marker):
        default_storage.delete(marker)
    default_storage.save(marker, ContentFile(json.dumps(record).encode()))


def recent_failure(name: str) -> PdfRenderError | None:
    """The error to raise for a copy whose render failed less than the retry time ago, with
    `retry_after` (seconds until it is tried again); None when there is none."""
    marker = _failure_name(name)
    if not default_storage.exists(marker):
        return None
    try:
        with default_storage.open(marker, "rb") as file:
            record = json.loads(file.read())
        at = dt.datetime.fromisoformat(record["at"])
    except (FileNotFoundError, ValueError, KeyError):
        return None
    age = int((timezone.now() - at).total_seconds())
    left = failure_retry_seconds() - age
    if left <= 0:
        return None
    kind = PdfRenderTimeout if record.get("timed_out") else PdfRenderError
    error = kind(
        f"Rendering this copy failed {age} s ago ({record.get('error', '')}); "
        f"it is not tried again for {left} s."
    )
    error.retry_after = left
    return error


def open_copy(*, pip: Pip, version: PipVersion, audience: str = STAFF) -> tuple[PdfCopy, File]:
    """The stored copy (rendered first if need be), opened for reading. A copy found stored may
    be removed by a newer one rendered at the same moment: then the newer one is opened."""
    copy = stored_copy(pip=pip, version=version, audience=audience)
    try:
        return copy, default_storage.open(copy.name, "rb")
    except FileNotFoundError:
        copy = stored_copy(pip=pip, version=version, audience=audience)
        return copy, default_storage.open(copy.name, "rb")


def _prune(pip: Pip, version: PipVersion, *, keep: str, audience: str = STAFF) -> None:
    """Remove the version's earlier copies: they are renderings, not records (the audit trail
    records each download, and a copy handed out verifies by its signature and hash)."""
    folder = f"pdf/{pip.pk}"
    try:
        names = default_storage.listdir(folder)[1]
    except (FileNotFoundError, NotImplementedError):
        return
    for filename in names:
        name = f"{folder}/{filename}"
        if filename.startswith(f"v{version.number}-{audience}-") and name != keep:
            default_storage.delete(name)
    # The version's remembered failures are past: it has a copy now.
    with contextlib.suppress(FileNotFoundError, NotImplementedError):
        for filename in default_storage.listdir(f"pdf-failed/{pip.pk}")[1]:
            if filename.startswith(f"v{version.number}-"):
                default_storage.delete(f"pdf-failed/{pip.pk}/{filename}")


# --- rendering ---------------------------------------------------------------------------------


def signed_pdf(
    *,
    pip: Pip,
    version: PipVersion,
    current_hash: str | None = None,
    now: dt.datetime | None = None,
    url_fetcher: StaticFilesURLFetcher | None = None,
    audience: str = STAFF,
) -> bytes:
    """Render the version and sign it with the organisation's certificate. Not stored."""
    now = now or timezone.now()
    current_hash = current_hash or content_hash(version)
    # The fixed text of the copy is in the employee's language: it is their document.
    with translation.override(languages.language_of_employee(pip.agent)):
        context = print_context(
            pip=pip, version=version, current_hash=current_hash, now=now, audience=audience
        )
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
