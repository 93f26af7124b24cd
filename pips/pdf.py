"""Print copies of plans: the print HTML of one plan version, rendered with WeasyPrint and
signed by the organisation (PAdES); the stored copies; and the check of an uploaded copy.

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
import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db.models import Count, IntegerField, Max, Min, OuterRef, Prefetch, Q, Subquery
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from pips import languages, pdfsign, roles
from pips.content import content_hash
from pips.models import (
    AuditEvent,
    CheckIn,
    CheckInActionUpdate,
    Expectation,
    Pip,
    PipVersion,
    Profile,
    Review,
    ReviewItem,
    Signature,
    SignerRole,
    Status,
    VersionState,
)
from pips.pdfrender import StaticFilesURLFetcher, render_pdf, resource_url
from pips.progress import expectation_progress
from pips.selectors import pips_visible, version_with_sections

logger = logging.getLogger(__name__)

PRINT_TEMPLATE = "pips/print/plan.html"
#: Static stylesheets of the print copy, parsed once per process by the renderer.
PRINT_STYLESHEETS = ("css/print.css",)
#: Raise when the print template or its CSS changes, so stored copies are rendered again.
PRINT_LAYOUT = 3
PAGE_SIZES = {"a4": "A4", "letter": "letter"}
#: Beyond this many views and downloads, the audit certificate sums them up per person.
MAX_ACCESS_EVENTS = 60
ACCESS_ACTIONS = ("viewed", "downloaded")
#: Largest upload the verification page accepts.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Versions the employee may print: the ones that were issued to them.
EMPLOYEE_VERSION_STATES = (VersionState.ISSUED, VersionState.SUPERSEDED)
SIGNER_ORDER = (SignerRole.AGENT, SignerRole.MANAGER, SignerRole.HR)


def page_size() -> str:
    """The paper the copies are printed on (PIP_PDF_PAGE_SIZE): "A4" or "letter"."""
    raw = str(getattr(settings, "PIP_PDF_PAGE_SIZE", "A4"))
    return PAGE_SIZES.get(raw.lower(), "A4")


def render_timeout() -> float:
    return float(getattr(settings, "PIP_PDF_RENDER_TIMEOUT_SECONDS", 20))


# --- which version -----------------------------------------------------------------------------


def version_for_user(user, pip: Pip, number: int | None = None) -> PipVersion:
    """The version to print: the one in force, or the numbered one. The employee prints only
    versions that were issued; drafts of an amendment are the supervisor's and HR's. 404 for
    a version that does not exist or that the user may not see."""
    version = (
        pip.current_version
        if number is None
        else PipVersion.objects.filter(pip=pip, number=number).first()
    )
    if version is None:
        raise Http404("No such version of this plan.")
    user_roles = roles.roles_of(user)
    sees_drafts = bool(user_roles & {roles.HR, roles.ADMIN}) or (
        roles.SUPERVISOR in user_roles and user.pk in (pip.supervisor_id, pip.agent.supervisor_id)
    )
    if not sees_drafts and version.state not in EMPLOYEE_VERSION_STATES:
        raise Http404("No such version of this plan.")
    return version


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
        )
        .get()
    )
    # The copy is printed in the employee's language: a new one when it changes.
    language = languages.normalise(counts.pop("employee_language")) or (
        languages.default_language()
    )
    return {
        "layout": PRINT_LAYOUT,
        "page_size": page_size(),
        "language": language,
        "default_language": languages.default_language(),
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


def print_html(
    *, pip: Pip, version: PipVersion, current_hash: str, now: dt.datetime | None = None
) -> str:
    with translation.override(languages.language_of_employee(pip.agent)):
        return render_to_string(
            PRINT_TEMPLATE,
            print_context(pip=pip, version=version, current_hash=current_hash, now=now),
        )


@dataclass
class SignatureBlock:
    role: str
    label: str
    signature: Signature | None = None
    valid: bool = False

    @property
    def image(self) -> str:
        # Only a drawn signature as signature_pad makes it; anything else is left out.
        sig = self.signature
        if sig and sig.image.startswith("data:image/png;base64,"):
            return sig.image
        return ""


@dataclass
class KpiChart:
    expectation: Expectation
    svg: SafeString | None
    latest: str = ""
    trend: str = ""
    status: str = ""
    position: int = 0

    @property
    def name(self) -> str:
        return f"chart-{self.position}.svg"

    @property
    def src(self) -> str:
        """Where the print template's ``<img>`` finds the chart: the SVG is handed to the
        renderer in memory (``chart_resources``), not put inline, so that WeasyPrint draws it
        without parsing and styling every line and label of it as part of the HTML."""
        return resource_url(self.name)


def chart_resources(charts: list[KpiChart]) -> dict[str, tuple[bytes, str]]:
    return {c.name: (c.svg.encode(), "image/svg+xml") for c in charts if c.svg}


@dataclass
class AuditRow:
    event: AuditEvent
    transition: str = ""

    @property
    def label(self) -> str:
        role = self.event.changes.get("role") if self.event.action == "signed" else None
        if role in SignerRole.values:
            return f"Signed as {SignerRole(role).label}"
        return self.event.label


@dataclass
class AccessSummary:
    """One person's views and downloads of the plan, when there are too many to list."""

    person: str
    views: int
    downloads: int
    first: dt.datetime
    last: dt.datetime
    last_ip: str | None


@dataclass
class AuditCertificate:
    rows: list[AuditRow] = field(default_factory=list)
    # Set instead of listing the views and downloads one by one when there are many.
    access: list[AccessSummary] = field(default_factory=list)


def _status_label(value: str) -> str:
    return Status(value).label if value in Status.values else value


def print_context(
    *, pip: Pip, version: PipVersion, current_hash: str, now: dt.datetime | None = None
) -> dict[str, object]:
    """Everything the print template shows, in a fixed number of queries. ``version`` comes
    from selectors.version_with_sections (its rows prefetched)."""
    now = now or timezone.now()
    pip = (
        Pip.objects.with_related()
        .prefetch_related(
            Prefetch(
                "checkins",
                queryset=CheckIn.objects.filter(version__number__lte=version.number)
                .select_related("recorded_by", "version")
                .prefetch_related(
                    Prefetch(
                        "action_updates",
                        queryset=CheckInActionUpdate.objects.select_related("action_item").order_by(
                            "action_item__position", "action_item_id"
                        ),
                    )
                ),
            ),
            Prefetch(
                "reviews",
                queryset=Review.objects.filter(version__number__lte=version.number)
                .select_related("completed_by", "version")
                .prefetch_related(
                    Prefetch(
                        "items",
                        queryset=ReviewItem.objects.select_related(
                            "expectation", "expectation__kpi"
                        ).order_by("expectation__position", "expectation_id"),
                    )
                ),
            ),
        )
        .get(pk=pip.pk)
    )
    signatures = {sig.role: sig for sig in version.signatures.all()}
    blocks = [
        SignatureBlock(
            role=role,
            label=SignerRole(role).label,
            signature=signatures.get(role),
            valid=role in signatures and signatures[role].content_sha256 == current_hash,
        )
        for role in SIGNER_ORDER
    ]
    employee = signatures.get(SignerRole.AGENT)
    reviews = list(pip.reviews.all())
    for review in reviews:
        for item in review.items.all():
            kpi = item.expectation.kpi
            item.value_display = kpi.format_value(item.current_value) if kpi else "—"
    expectations = list(version.expectations.all())
    return {
        "pip": pip,
        "version": version,
        "reasons": list(version.reasons.all()),
        "expectations": expectations,
        "actions": list(version.actions.all()),
        "charts": kpi_charts(version, until=timezone.localdate(now)),
        "signature_blocks": blocks,
        "employee_comments": employee.comments
        if employee and employee.kind == Signature.Kind.SIGNED
        else "",
        "checkins": list(pip.checkins.all()),
        "reviews": reviews,
        "certificate": audit_certificate(pip, until=now),
        "content_hash": current_hash,
        "is_issued": version.state in EMPLOYEE_VERSION_STATES,
        "is_current": version.pk == pip.current_version_id,
        "page_size": page_size(),
        "printed_at": now,
        # Times are printed in the team's zone, each with the zone's name.
        "zone": pip.agent.team.timezone,
        # The consent statement in the language the copy is printed in (the employee's) and,
        # when it differs, the organisation's.
        "consents": languages.consent_versions(languages.current_language()),
        "verify_url": _absolute(reverse("pips:verify")),
    }


def _absolute(path: str) -> str:
    return getattr(settings, "SITE_URL", "").rstrip("/") + path


def audit_certificate(pip: Pip, *, until: dt.datetime) -> AuditCertificate:
    """Every event of the plan up to ``until``, each with its actor, time and address. Views
    and downloads are listed one by one too, unless there are more than MAX_ACCESS_EVENTS (a
    plan may be opened hundreds of times): then each person's are summed up in one row, and the
    audit trail in the app has them all. A fixed number of queries either way."""
    events = AuditEvent.objects.filter(pip=pip, at__lte=until)
    access = events.filter(action__in=ACCESS_ACTIONS)
    related = ("actor", "version")
    steps = list(events.exclude(action__in=ACCESS_ACTIONS).select_related(*related))
    few = list(access.select_related(*related).order_by("at", "id")[: MAX_ACCESS_EVENTS + 1])
    summary: list[AccessSummary] = []
    if len(few) > MAX_ACCESS_EVENTS:
        few = []
        summary = _access_summary(access)
    rows = [
        AuditRow(
            event=event,
            transition=f"{_status_label(event.from_status)} → {_status_label(event.to_status)}"
            if event.from_status and event.to_status
            else "",
        )
        for event in sorted(steps + few, key=lambda e: (e.at, e.pk))
    ]
    return AuditCertificate(rows=rows, access=summary)


def _access_summary(access) -> list[AccessSummary]:
    last_ip = access.filter(actor=OuterRef("actor")).order_by("-at", "-id").values("ip_address")[:1]
    rows = (
        access.order_by()
        .values("actor")
        .annotate(
            views=Count("id", filter=Q(action="viewed")),
            downloads=Count("id", filter=Q(action="downloaded")),
            first=Min("at"),
            last=Max("at"),
            last_ip=Subquery(last_ip),
            first_name=Min("actor__first_name"),
            last_name=Min("actor__last_name"),
            username=Min("actor__username"),
        )
        .order_by("first")
    )
    return [
        AccessSummary(
            person=" ".join(filter(None, [row["first_name"], row["last_name"]]))
            or row["username"]
            or "system",
            views=row["views"],
            downloads=row["downloads"],
            first=row["first"],
            last=row["last"],
            last_ip=row["last_ip"],
        )
        for row in rows
    ]


# --- KPI charts --------------------------------------------------------------------------------


def kpi_charts(version: PipVersion, *, until: dt.date) -> list[KpiChart]:
    """The progress and weekly chart (inline SVG) of each KPI-linked expectation, exactly as
    the plan page draws them (pips.progress), up to ``until``. One query for all."""
    return [
        KpiChart(
            position=position,
            expectation=row.expectation,
            # Markup our chart builder makes; every piece of text in it is escaped there. An
            # empty chart is left out: the copy says "No data yet" in a line instead of a frame.
            svg=mark_safe(_without_tooltips(row.svg)) if row.weeks else None,
            latest=row.latest_display if row.latest else "",
            trend=row.trend_label if row.latest else "",
            status=row.status_label,
        )
        for position, row in enumerate(
            expectation_progress(version, version.employee_id, today=until), start=1
        )
    ]


_POINT_TOOLTIP = re.compile(r"(<circle\b[^>]*>)<title>[^<]*</title>(</circle>)")


def _without_tooltips(svg: str) -> str:
    """The chart without the hover text of each point, which paper cannot show and which
    WeasyPrint would still have to lay out (each is an element and a text node)."""
    return _POINT_TOOLTIP.sub(r"\1\2", svg)


# --- verification of an uploaded copy ----------------------------------------------------------


GENUINE = "genuine"  # signed by us, intact, and matching the record
CHANGED = "changed"  # signed by us and intact, but the record differs now
UNKNOWN = "unknown"  # signed by us and intact, but there is no such record
NOT_GENUINE = "not_genuine"  # altered, unsigned, signed by someone else, or not a PDF


@dataclass(frozen=True)
class CopyCheck:
    """What the verification page says about an uploaded file, in plain words. ``pip`` and
    ``version_number`` are set only when the user may see that plan."""

    verdict: str
    headline: str
    details: list[str]
    status: str
    pip: Pip | None = None
    version_number: int | None = None
    url: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == GENUINE


def _printed_at(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        moment = dt.datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return ""
    return timezone.localtime(moment).strftime("%d %b %Y %H:%M %Z")


def check_copy(user, data: bytes) -> CopyCheck:
    """Check an uploaded PDF: is the organisation's signature intact, which plan and version is
    it, and does its content hash match the record. Tells the plan's number only to a user who
    may see that plan."""
    result = pdfsign.verify_pdf(data)
    if not result.ok:
        headline = {
            pdfsign.STATUS_NOT_PDF: "Not a PDF",
            pdfsign.STATUS_UNSIGNED: "Not signed: not an authentic copy",
            pdfsign.STATUS_ALTERED: "Altered: not an authentic copy",
            pdfsign.STATUS_UNTRUSTED: "Signed by someone else: not an authentic copy",
            pdfsign.STATUS_MODIFIED: "Changed after signing: not an authentic copy",
        }[result.status]
        return CopyCheck(
            verdict=NOT_GENUINE, headline=headline, details=[result.summary], status=result.status
        )

    details = [result.summary]
    try:
        pip_id, number = int(result.pip_id or ""), int(result.version or "")
    except ValueError:
        pip_id = number = None
    version = (
        PipVersion.objects.select_related("pip").filter(pip_id=pip_id, number=number).first()
        if pip_id is not None
        else None
    )
    if version is None:
        return CopyCheck(
            verdict=UNKNOWN,
            headline="Signed by us, but it matches no record",
            details=[*details, "There is no plan record for this copy."],
            status=result.status,
        )

    # An issued version's hash was fixed at issue; a draft's is the draft as it stands now.
    recorded = version.content_sha256 or content_hash(version_with_sections(version.pk))
    matches = bool(result.content_hash) and result.content_hash == recorded
    visible = pips_visible(user).filter(pk=pip_id).exists()
    printed = _printed_at(result.metadata.get("printed_at"))
    if printed:
        details.append(f"The copy was printed on {printed}.")

    if matches:
        details.append(
            "Its content hash matches the record: the plan it shows is the plan on file."
        )
    else:
        details.append("Its content hash does not match the record.")
    if not visible:
        if matches:
            return CopyCheck(
                verdict=GENUINE,
                headline="Authentic: it matches a record you do not have access to",
                details=details,
                status=result.status,
            )
        return CopyCheck(
            verdict=CHANGED,
            headline="Signed by us, but it no longer matches the record",
            details=details,
            status=result.status,
        )

    pip = version.pip
    label = f"{pip.reference} version {version.number}"
    url = reverse("pips:version", args=[pip.pk, version.number])
    if matches:
        if not version.content_sha256:
            details.append(f"Version {version.number} is a draft that has not been issued.")
        return CopyCheck(
            verdict=GENUINE,
            headline=f"Authentic: it matches plan {label}",
            details=details,
            status=result.status,
            pip=pip,
            version_number=version.number,
            url=url,
        )
    details.append(
        f"The content of {label} on file is different from the content of this copy: it was "
        "printed from a draft that has changed since."
    )
    return CopyCheck(
        verdict=CHANGED,
        headline=f"Signed by us, but it no longer matches plan {label}",
        details=details,
        status=result.status,
        pip=pip,
        version_number=version.number,
        url=url,
    )
