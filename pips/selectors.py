"""The reads that pages need, each with its select_related/prefetch_related so a page runs a
constant number of queries whatever the data size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from metrics import queries as metric_queries
from metrics.models import Kpi
from pips import languages, roles
from pips.kpis import BASELINE_DAYS
from pips.models import (
    RUNNING_STATUSES,
    Agent,
    AuditEvent,
    CheckIn,
    Pip,
    PipTemplate,
    PipVersion,
    Review,
    ScheduleItem,
    Signature,
    SignerRole,
    Status,
    Team,
    VersionState,
)
from pipsystem import l10n


def pips_visible(user) -> QuerySet[Pip]:
    return Pip.objects.visible_to(user).with_related()


def pip_for_user(user, pk: int) -> Pip:
    """The access helper for plans: 404 for a plan the user may not see."""
    return get_object_or_404(pips_visible(user), pk=pk)


def version_with_sections(version_pk: int) -> PipVersion:
    return (
        PipVersion.objects.select_related("pip")
        .prefetch_related(
            "reasons__kpi",
            "expectations__kpi",
            "actions__sessions",
            Prefetch("signatures", queryset=Signature.objects.select_related("signer", "witness")),
        )
        .get(pk=version_pk)
    )


def pip_detail(user, pk: int) -> Pip:
    """A plan with everything its page shows, in a fixed number of queries."""
    pip = get_object_or_404(
        pips_visible(user).prefetch_related(
            Prefetch("versions", queryset=PipVersion.objects.order_by("number")),
            Prefetch(
                "events",
                queryset=AuditEvent.objects.select_related("actor").exclude(
                    action__in=["viewed", "downloaded"]
                ),
            ),
            Prefetch("checkins", queryset=CheckIn.objects.select_related("recorded_by")),
            Prefetch("reviews", queryset=Review.objects.select_related("completed_by")),
            Prefetch(
                "schedule",
                queryset=ScheduleItem.objects.filter(cancelled_at__isnull=True),
            ),
        ),
        pk=pk,
    )
    return pip


def home_plans(user) -> QuerySet[Pip]:
    return pips_visible(user).order_by("status", "-updated_at")


def approval_queue(user) -> QuerySet[Pip]:
    """HR's queue: plans waiting for a decision, oldest first."""
    return pips_visible(user).filter(status=Status.PENDING_HR).order_by("submitted_at")


def status_counts(queryset: QuerySet[Pip]) -> dict[str, int]:
    return dict(queryset.order_by().values_list("status").annotate(n=Count("id")))


def amendments_pending_hr(user) -> QuerySet[Pip]:
    return pips_visible(user).filter(Q(versions__state="pending_hr") & Q(versions__number__gt=1))


# --- Authoring: access helpers ------------------------------------------------------------------


def is_plan_owner(user, pip: Pip) -> bool:
    """The plan's supervisor, or the agent's current supervisor (the services' own rule)."""
    return roles.is_supervisor(user) and user.pk in (pip.supervisor_id, pip.agent.supervisor_id)


def pip_for_owner(user, pk: int) -> Pip:
    """A plan its supervisor is about to change: 404 when the user may not see it, 403 when they
    may see it but do not own it (HR, for one)."""
    pip = pip_for_user(user, pk)
    if not is_plan_owner(user, pip):
        raise PermissionDenied(_("Only the plan's supervisor can do this."))
    return pip


def pip_for_hr(user, pk: int) -> Pip:
    """A plan HR is about to decide on: 404 when unseen, 403 for anyone but HR."""
    pip = pip_for_user(user, pk)
    if not roles.is_hr(user):
        raise PermissionDenied(_("Only HR can do this."))
    return pip


def latest_version(pip: Pip) -> PipVersion | None:
    return pip.versions.order_by("-number").first()


def editable_version(pip: Pip) -> PipVersion | None:
    """The version being written now: the first draft or an amendment draft. None when the
    content is frozen or waiting for HR."""
    version = latest_version(pip)
    return version if version is not None and version.state == VersionState.DRAFT else None


def agents_managed(user) -> QuerySet[Agent]:
    return Agent.objects.managed_by(user).filter(is_active=True).select_related("team")


def agent_for_supervisor(user, pk: int) -> Agent:
    """An agent of the supervisor's own team: 403 for anyone who is not a supervisor, 404 for
    an agent of another team."""
    if not roles.is_supervisor(user):
        raise PermissionDenied(_("Only supervisors draft plans."))
    return get_object_or_404(agents_managed(user), pk=pk)


def open_pip_of(agent: Agent) -> Pip | None:
    return Pip.objects.open().filter(agent=agent).first()


def templates_for_authoring() -> QuerySet[PipTemplate]:
    return PipTemplate.objects.filter(is_active=True)


def template_with_rows(
    queryset: QuerySet[PipTemplate], pk: int | None, language: str | None = None
) -> PipTemplate:
    """A template with its rows; when no pk is given, the default one in ``language`` (HR keeps
    a default per language), else the organisation's language's. 404 when missing."""
    if pk is None:
        pk = default_template_pk(queryset, language)
        if pk is None:
            raise Http404("No default template.")
    queryset = queryset.prefetch_related("reasons", "expectations__kpi", "actions")
    return get_object_or_404(queryset, pk=pk)


def default_template_pk(queryset: QuerySet[PipTemplate], language: str | None) -> int | None:
    """The default template a supervisor writing in ``language`` starts from: the default of
    that language, else the organisation's language's, else any default. One query."""
    preferred = [language, languages.default_language()]
    defaults = sorted(
        queryset.filter(is_default=True).values_list("pk", "language"),
        key=lambda row: preferred.index(row[1]) if row[1] in preferred else len(preferred),
    )
    return defaults[0][0] if defaults else None


def templates_all() -> QuerySet[PipTemplate]:
    return PipTemplate.objects.annotate(
        n_expectations=Count("expectations", distinct=True),
        n_actions=Count("actions", distinct=True),
        n_plans=Count("pips", distinct=True),
    ).order_by("-is_active", "-is_default", "name")


def submission_history(pip: Pip) -> list[AuditEvent]:
    """Every submission to HR and HR's answer, with the comments: the review's history."""
    actions = [
        "created",
        "submitted",
        "returned",
        "approved",
        "amendment_started",
        "amendment_submitted",
        "amendment_returned",
        "amendment_approved",
    ]
    return list(pip.events.filter(action__in=actions).select_related("actor").order_by("at", "id"))


# --- KPI numbers for people ----------------------------------------------------------------------


def kpi_catalog() -> list[Kpi]:
    return list(Kpi.objects.filter(is_active=True))


def recent_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last 30 full days, the same window a plan's baseline is taken over."""
    end = (today or timezone.localdate()) - dt.timedelta(days=1)
    return end - dt.timedelta(days=BASELINE_DAYS - 1), end


def recent_kpi_values(
    employee_ids: list[str], today: dt.date | None = None
) -> dict[str, dict[str, float]]:
    """{employee_id: {kpi_code: weighted mean over the last 30 days}}, one query for a team."""
    start, end = recent_window(today)
    return metric_queries.team_window(employee_ids=employee_ids, start=start, end=end)


@dataclass(frozen=True)
class KpiCell:
    kpi: Kpi
    value: float | None

    @property
    def below(self) -> bool | None:
        if self.value is None or self.kpi.standard is None:
            return None
        return metric_queries.is_below(self.value, self.kpi.standard, self.kpi.direction)

    @property
    def display(self) -> str:
        return self.kpi.format_value(self.value) if self.value is not None else "no data"


def standard_display(kpi: Kpi) -> str:
    """The team standard as a comparison: "≥ 85 %", "≤ 5:00"."""
    if kpi.standard is None:
        return "no standard"
    sign = "≤" if kpi.lower_is_better else "≥"
    return f"{sign} {kpi.format_value(kpi.standard)}"


@dataclass(frozen=True)
class AgentRow:
    agent: Agent
    cells: list[KpiCell]
    open_plan: Pip | None

    @property
    def below_count(self) -> int:
        return sum(1 for cell in self.cells if cell.below)


def team_overview(
    user, kpis: list[Kpi], plans: list[Pip], today: dt.date | None = None
) -> list[AgentRow]:
    """The supervisor's agents, each KPI's last-30-day value against the standard, the agents
    below standard first (the most KPIs below, first). Two queries: agents and numbers."""
    agents = list(agents_managed(user))
    values = recent_kpi_values([a.employee_id for a in agents], today)
    open_plans = {p.agent_id: p for p in plans if p.is_open()}
    rows = [
        AgentRow(
            agent=agent,
            cells=[KpiCell(kpi, values.get(agent.employee_id, {}).get(kpi.code)) for kpi in kpis],
            open_plan=open_plans.get(agent.pk),
        )
        for agent in agents
    ]
    rows.sort(key=lambda row: (-row.below_count, row.agent.full_name))
    return rows


# --- Plans on the home pages ---------------------------------------------------------------------


def with_progress(queryset: QuerySet[Pip]) -> QuerySet[Pip]:
    """Annotate what each plan is waiting for, in the same query: the next dated step and which
    signatures the version in force has."""
    pending = ScheduleItem.objects.filter(
        pip=OuterRef("pk"), done_at__isnull=True, cancelled_at__isnull=True
    ).order_by("due_at")
    signed = Signature.objects.filter(version=OuterRef("current_version"))
    return queryset.annotate(
        next_step_kind=Subquery(pending.values("kind")[:1]),
        next_step_on=Subquery(pending.values("due_on")[:1]),
        employee_signed=Exists(signed.filter(role=SignerRole.AGENT)),
        hr_signed=Exists(signed.filter(role=SignerRole.HR)),
    )


def waiting_for(pip: Pip, today: dt.date | None = None) -> tuple[str, str, bool]:
    """(who, what, overdue) for a plan annotated by `with_progress`."""
    today = today or timezone.localdate()
    status = pip.status
    supervisor, hr, employee = _("Supervisor"), _("HR"), _("Employee")
    if status == Status.DRAFT:
        if pip.hr_comment:
            return supervisor, _("revise the draft after HR's comments and resubmit"), False
        return supervisor, _("finish the draft and submit it to HR"), False
    if status == Status.PENDING_HR:
        return hr, _("approve or return the draft"), False
    if status == Status.APPROVED:
        return supervisor, _("hold the meeting and issue the plan"), False
    if status == Status.ISSUED:
        if not getattr(pip, "employee_signed", False):
            return employee, _("sign the acknowledgment"), pip.is_ack_overdue()
        return hr, _("countersign"), False
    if status in RUNNING_STATUSES:
        kind, due_on = getattr(pip, "next_step_kind", None), getattr(pip, "next_step_on", None)
        if kind and due_on:
            label = str(ScheduleItem.Kind(kind).label).lower()
            return (
                supervisor,
                _("%(step)s on %(date)s") % {"step": label, "date": l10n.date(due_on)},
                due_on < today,
            )
        if status == Status.FINAL:
            return _("Supervisor and HR"), _("the final review and its outcome"), False
        return supervisor, _("record the next review"), False
    return "", "", False


@dataclass(frozen=True)
class PlanGroup:
    status: str
    label: str
    plans: list[tuple[Pip, tuple[str, str, bool]]]


def group_by_status(plans: list[Pip], today: dt.date | None = None) -> list[PlanGroup]:
    """Plans grouped by state, in lifecycle order, each with what it is waiting for."""
    groups = []
    for status in Status:
        members = [p for p in plans if p.status == status]
        if members:
            groups.append(
                PlanGroup(
                    status=status.value,
                    label=status.label,
                    plans=[(p, waiting_for(p, today)) for p in members],
                )
            )
    return groups


def visible_ids(queryset: QuerySet[Pip]) -> list[int]:
    """The ids of a filtered set of plans, read alone (no joins). PostgreSQL cannot estimate
    how many plans the access rule's OR lets through, and joins every agent and version when it
    guesses thousands; given the few ids instead, it reads just those rows."""
    return list(queryset.order_by().values_list("pk", flat=True))


def supervisor_plans(user) -> list[Pip]:
    """Every plan of the supervisor's agents, with what each is waiting for (two queries: the
    ids, then the plans)."""
    ids = visible_ids(
        pips_visible(user).filter(
            Q(supervisor=user) | Q(agent__in=Agent.objects.filter(supervisor=user).values("pk"))
        )
    )
    return list(
        with_progress(Pip.objects.with_related().filter(pk__in=ids)).order_by("-updated_at")
    )


def agent_own_plans(user) -> list[Pip]:
    """The plans an agent may see: their own, once issued."""
    return list(with_progress(pips_visible(user).filter(agent__user=user)).order_by("-created_at"))


def overdue_q(now: dt.datetime | None = None) -> Q:
    """Plans behind schedule: the acknowledgment past its deadline, or a check-in or review
    whose day has passed without being recorded."""
    now = now or timezone.now()
    late_step = ScheduleItem.objects.filter(
        pip=OuterRef("pk"),
        due_on__lt=timezone.localdate(now),
        done_at__isnull=True,
        cancelled_at__isnull=True,
    )
    return Q(status=Status.ISSUED, ack_due_at__lt=now) | (
        Q(status__in=RUNNING_STATUSES) & Q(Exists(late_step))
    )


def hr_plans(
    user,
    *,
    status: str = "",
    team: Team | None = None,
    supervisor=None,
    overdue: bool = False,
) -> QuerySet[Pip]:
    """All plans HR may see, filtered; each annotated with what it is waiting for."""
    queryset = with_progress(pips_visible(user))
    if status:
        queryset = queryset.filter(status=status)
    if team is not None:
        queryset = queryset.filter(agent__team=team)
    if supervisor is not None:
        queryset = queryset.filter(supervisor=supervisor)
    if overdue:
        queryset = queryset.filter(overdue_q())
    return queryset.order_by("-updated_at", "-id")


def supervisors() -> QuerySet:
    return (
        get_user_model()
        .objects.filter(groups__name=roles.SUPERVISOR, is_active=True)
        .order_by("first_name", "last_name")
    )


def teams() -> QuerySet[Team]:
    return Team.objects.order_by("name")
