"""The print copy of a plan version: its HTML (every section, the KPI charts, the check-in log,
signature blocks, an audit page) and which version a user may print."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Max, Min, Prefetch, Q
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from pips import audit as audit_rules
from pips import languages, rules
from pips.audit import ACCESS_ACTIONS, AuditAction
from pips.models import (
    AuditEvent,
    CheckIn,
    CheckInActionUpdate,
    Expectation,
    Pip,
    PipVersion,
    Review,
    ReviewItem,
    Signature,
    SignerRole,
    VersionState,
    status_label,
)
from pips.progress import expectation_progress
from pipsystem.pdfrender import resource_url

PRINT_TEMPLATE = "pips/print/plan.html"
#: Static stylesheets of the print copy, parsed once per process by the renderer.
PRINT_STYLESHEETS = ("css/print.css",)
#: Raise when the print template or its CSS changes, so stored copies are rendered again.
PRINT_LAYOUT = 3
PAGE_SIZES = {"a4": "A4", "letter": "letter"}
#: Beyond this many views and downloads, the audit certificate sums them up per person.
MAX_ACCESS_EVENTS = 60
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
        raise Http404(_("No such version of this plan."))
    sees_drafts = rules.sees_whole_plan(user, pip)
    if not sees_drafts and version.state not in EMPLOYEE_VERSION_STATES:
        raise Http404(_("No such version of this plan."))
    return version


#: Who a copy is for: the employee's copy holds what the employee may see (its audit
#: certificate their entries of the history, no page views); the staff's copy, everything.
EMPLOYEE = "employee"
STAFF = "staff"


def audience_for(user, pip: Pip) -> str:
    """The copy a reader gets: the supervisor's, their delegate's and HR's is the whole record;
    anyone else who may see the plan (its employee) gets the employee's copy."""
    return STAFF if rules.sees_whole_plan(user, pip) else EMPLOYEE


def print_html(
    *,
    pip: Pip,
    version: PipVersion,
    current_hash: str,
    now: dt.datetime | None = None,
    audience: str = STAFF,
) -> str:
    with translation.override(languages.language_of_employee(pip.agent)):
        return render_to_string(
            PRINT_TEMPLATE,
            print_context(
                pip=pip, version=version, current_hash=current_hash, now=now, audience=audience
            ),
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
    comment: str = ""

    @property
    def label(self) -> str:
        role = self.event.changes.get("role") if self.event.action == AuditAction.SIGNED else None
        if role in SignerRole.values:
            return _("Signed as %(role)s") % {"role": SignerRole(role).label}
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


def print_context(
    *,
    pip: Pip,
    version: PipVersion,
    current_hash: str,
    now: dt.datetime | None = None,
    audience: str = STAFF,
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
                .select_related("recorded_by", "on_behalf_of", "version")
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
            "pauses",
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
        "certificate": audit_certificate(pip, until=now, audience=audience),
        "audience": audience,
        "pauses": list(pip.pauses.all()),
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


def audit_certificate(pip: Pip, *, until: dt.datetime, audience: str = STAFF) -> AuditCertificate:
    """Every event of the plan up to ``until``, each with its actor, time and address. Views
    and downloads are listed one by one too, unless there are more than MAX_ACCESS_EVENTS (a
    plan may be opened hundreds of times): then each person's are summed up in one row, and the
    audit trail in the app has them all. A fixed number of queries either way.

    The employee's copy lists only the entries the employee may see (`pips.audit.AUDIENCE`),
    with the notes the rule allows, and no page views."""
    events = AuditEvent.objects.filter(pip=pip, at__lte=until)
    if audience == EMPLOYEE:
        steps = [
            event
            for event in events.exclude(action__in=ACCESS_ACTIONS).select_related(
                "actor", "version"
            )
            if audit_rules.employee_sees(event, issued_at=pip.issued_at)
        ]
        return AuditCertificate(
            rows=[
                AuditRow(
                    event=event,
                    transition=_transition_text(event),
                    comment=event.comment
                    if audit_rules.employee_sees_note(event, issued_at=pip.issued_at)
                    else "",
                )
                for event in steps
            ]
        )
    access = events.filter(action__in=ACCESS_ACTIONS)
    related = ("actor", "version")
    steps = list(events.exclude(action__in=ACCESS_ACTIONS).select_related(*related))
    few = list(access.select_related(*related).order_by("at", "id")[: MAX_ACCESS_EVENTS + 1])
    summary: list[AccessSummary] = []
    if len(few) > MAX_ACCESS_EVENTS:
        few = []
        summary = _access_summary(access)
    rows = [
        AuditRow(event=event, transition=_transition_text(event), comment=event.comment)
        for event in sorted(steps + few, key=lambda e: (e.at, e.pk))
    ]
    return AuditCertificate(rows=rows, access=summary)


def _transition_text(event: AuditEvent) -> str:
    if event.from_status and event.to_status:
        return f"{status_label(event.from_status)} → {status_label(event.to_status)}"
    return ""


def _access_summary(access) -> list[AccessSummary]:
    """Each person's views and downloads in one row. Two queries whatever their number: the
    grouped counts, then the address of each person's last access, found by its time (the
    address used to be a sub-query per group that PostgreSQL ran once per event: the
    certificate took the square of the views)."""
    rows = list(
        access.order_by()
        .values("actor")
        .annotate(
            views=Count("id", filter=Q(action=AuditAction.VIEWED)),
            downloads=Count("id", filter=Q(action=AuditAction.DOWNLOADED)),
            first=Min("at"),
            last=Max("at"),
            first_name=Min("actor__first_name"),
            last_name=Min("actor__last_name"),
            username=Min("actor__username"),
        )
        .order_by("first")
    )
    last_ip: dict = {}
    if rows:
        latest = access.filter(at__in={row["last"] for row in rows}).order_by("at", "id")
        wanted = {(row["actor"], row["last"]) for row in rows}
        for actor, at, address in latest.values_list("actor", "at", "ip_address"):
            if (actor, at) in wanted:
                last_ip[actor] = address
    return [
        AccessSummary(
            person=" ".join(filter(None, [row["first_name"], row["last_name"]]))
            or row["username"]
            or "system",
            views=row["views"],
            downloads=row["downloads"],
            first=row["first"],
            last=row["last"],
            last_ip=last_ip.get(row["actor"]),
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
