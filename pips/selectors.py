"""The reads that pages need, each with its select_related/prefetch_related so a page runs a
constant number of queries whatever the data size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from metrics import queries as metric_queries
from metrics.models import Kpi
from pips import languages, roles, rules
from pips.audit import ACCESS_ACTIONS, SUBMISSION_ACTIONS, AuditAction
from pips.models import (
    RUNNING_STATUSES,
    TERMINAL_STATUSES,
    Agent,
    AuditEvent,
    CheckIn,
    Expectation,
    Pip,
    PipTemplate,
    PipVersion,
    Reason,
    Review,
    ScheduleItem,
    Signature,
    SignerRole,
    Status,
    Team,
    VersionState,
)
from pips.snapshots import baseline_window
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
            # The KPI joined to its row, not read in a query of its own.
            Prefetch("reasons", queryset=Reason.objects.select_related("kpi")),
            Prefetch("expectations", queryset=Expectation.objects.select_related("kpi")),
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
                    action__in=ACCESS_ACTIONS
                ),
            ),
            Prefetch(
                "checkins", queryset=CheckIn.objects.select_related("recorded_by", "on_behalf_of")
            ),
            Prefetch("reviews", queryset=Review.objects.select_related("completed_by")),
            Prefetch(
                "schedule",
                queryset=ScheduleItem.objects.filter(cancelled_at__isnull=True),
            ),
            "pauses",
        ),
        pk=pk,
    )
    return pip


def amendments_pending_hr(user) -> QuerySet[Pip]:
    """The plans the user may see with an amendment waiting for HR's decision. The versions
    in a subquery rather than joined: no duplicate plans to remove with a DISTINCT over every
    column of the plan and its joins (10 ms of sorting and planning at 5,000 plans)."""
    amended = PipVersion.objects.filter(state=VersionState.PENDING_HR, number__gt=1)
    return pips_visible(user).filter(pk__in=amended.values("pip_id"))


def approval_queue(user) -> QuerySet[Pip]:
    """HR's queue: plans waiting for a decision, oldest first."""
    return pips_visible(user).filter(status=Status.PENDING_HR).order_by("submitted_at")


# --- Authoring: access helpers ------------------------------------------------------------------


def pip_for_owner(user, pk: int) -> Pip:
    """A plan its supervisor is about to change: 404 when the user may not see it, 403 when they
    may see it but do not own it (HR, for one)."""
    pip = pip_for_user(user, pk)
    if not rules.is_plan_supervisor(user, pip):
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
            raise Http404(_("No default template."))
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
    return list(
        pip.events.filter(action__in=SUBMISSION_ACTIONS)
        .select_related("actor")
        .order_by("at", "id")
    )


# --- KPI numbers for people ----------------------------------------------------------------------


def kpi_catalog() -> list[Kpi]:
    return list(Kpi.objects.filter(is_active=True))


def recent_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last 30 full days, the same window a plan's baseline is taken over."""
    return baseline_window(today or timezone.localdate())


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


def with_next_step(queryset: QuerySet[Pip]) -> QuerySet[Pip]:
    """Annotate each plan's next dated step (its first pending step by time, then id): its
    kind and day."""
    pending = ScheduleItem.objects.filter(
        pip=OuterRef("pk"), done_at__isnull=True, cancelled_at__isnull=True
    ).order_by("due_at", "pk")
    return queryset.annotate(
        next_step_kind=Subquery(pending.values("kind")[:1]),
        next_step_on=Subquery(pending.values("due_on")[:1]),
    )


def with_progress(queryset: QuerySet[Pip]) -> QuerySet[Pip]:
    """Annotate what each plan is waiting for, in the same query: the next dated step and which
    signatures the version in force has."""
    signed = Signature.objects.filter(version=OuterRef("current_version"))
    # "Has a signature of this role": a scalar subquery tested for NULL rather than EXISTS.
    # PostgreSQL may run an EXISTS in the select list as a hash of every signature of that
    # role (3,700 rows at 5,000 plans) when it expects many plans, even under a LIMIT of 50; a
    # scalar subquery is one probe of `one_signature_per_role` per plan shown. Same answer:
    # a signature's id is never NULL, and a plan without a version has none.
    return with_next_step(queryset).annotate(
        employee_signed=IsNull(
            Subquery(signed.filter(role=SignerRole.AGENT).values("pk")[:1]), False
        ),
        hr_signed=IsNull(Subquery(signed.filter(role=SignerRole.HR).values("pk")[:1]), False),
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

    @property
    def is_closed(self) -> bool:
        """Closed or cancelled: nothing more will happen to these plans."""
        return self.status in TERMINAL_STATUSES


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
    ids = visible_ids(pips_visible(user).of_supervisor(user))
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


# --- HR's countersignature list, who held a plan, cover -------------------------------------------

#: The most plans HR's countersignature list shows at once, oldest signature first.
COUNTERSIGN_LIMIT = 50


@dataclass(frozen=True)
class CountersignRow:
    pip: Pip
    version_number: int
    signed_at: dt.datetime
    disagrees: bool
    refused: bool
    comments: str
    may_sign: bool


def awaiting_countersignature(user) -> list[CountersignRow]:
    """Plans whose version in force the employee has signed (or refused to, witnessed) and HR
    has not countersigned, the disagreements first, then the oldest. Three queries."""
    signatures = Signature.objects.filter(version_id=OuterRef("current_version"))
    # The page of plans chosen by their ids alone, then read with their joins: one query
    # planned as two small ones. Joined at once (the plan, its agent, team, supervisors,
    # version and the two signature tests), PostgreSQL spent longer planning the join order
    # (12-18 ms) than running it.
    waiting = (
        pips_visible(user)
        .filter(status__in={Status.ISSUED} | RUNNING_STATUSES)
        .filter(Exists(signatures.filter(role=SignerRole.AGENT)))
        .exclude(Exists(signatures.filter(role=SignerRole.HR)))
        .order_by("updated_at", "pk")
        .values("pk")[:COUNTERSIGN_LIMIT]
    )
    plans = list(
        Pip.objects.with_related().filter(pk__in=Subquery(waiting)).order_by("updated_at", "pk")
    )
    by_version: dict[int, dict[str, Signature]] = {}
    for sig in Signature.objects.filter(version_id__in=[p.current_version_id for p in plans]):
        by_version.setdefault(sig.version_id, {})[sig.role] = sig
    reviewed = set(
        Review.objects.filter(pip__in=plans, completed_by=user).values_list("pip_id", flat=True)
    )
    is_hr = roles.is_hr(user)
    rows = []
    for pip in plans:
        signed = by_version.get(pip.current_version_id, {})
        employee = signed[SignerRole.AGENT]
        manager = signed.get(SignerRole.MANAGER)
        conflict = rules.hr_conflict(
            user,
            pip,
            signed_as_manager=manager is not None and manager.signer_id == user.pk,
            recorded_review=pip.pk in reviewed,
        )
        rows.append(
            CountersignRow(
                pip=pip,
                version_number=pip.current_version.number,
                signed_at=employee.signed_at,
                disagrees=employee.agrees is False,
                refused=employee.kind == Signature.Kind.REFUSED,
                comments=employee.comments if employee.kind == Signature.Kind.SIGNED else "",
                may_sign=is_hr and not conflict,
            )
        )
    rows.sort(key=lambda row: (not row.disagrees, row.signed_at))
    return rows


@dataclass(frozen=True)
class Holder:
    supervisor: object
    since: dt.datetime
    until: dt.datetime | None

    @property
    def name(self) -> str:
        return self.supervisor.get_full_name() or self.supervisor.get_username()


def pip_holders(pip: Pip) -> list[Holder]:
    """Who held the plan when: its author from its creation, then each supervisor it was
    reassigned to. From the audit trail, in two queries."""
    events = list(
        pip.events.filter(action__in=[AuditAction.CREATED, AuditAction.REASSIGNED]).order_by(
            "at", "id"
        )
    )
    ids = [pip.created_by_id] + [
        e.changes.get("to_id") for e in events if e.action == AuditAction.REASSIGNED
    ]
    users = get_user_model().objects.in_bulk([i for i in ids if i])
    holders: list[Holder] = []
    since = pip.created_at
    current = pip.created_by_id
    for event in events:
        if event.action != AuditAction.REASSIGNED:
            continue
        holders.append(Holder(supervisor=users.get(current), since=since, until=event.at))
        current, since = event.changes.get("to_id"), event.at
    holders.append(Holder(supervisor=users.get(current), since=since, until=None))
    return [h for h in holders if h.supervisor is not None]


def delegations_of(user) -> tuple[list, list]:
    """The covers a supervisor gave and those they hold, the current and coming ones."""
    from pips.models import Delegation

    today = timezone.localdate()
    recent = Delegation.objects.filter(end_on__gte=today - dt.timedelta(days=30))
    given = list(recent.filter(supervisor=user).select_related("delegate")[:50])
    received = list(
        recent.filter(delegate=user, revoked_at__isnull=True).select_related("supervisor")[:50]
    )
    return given, received


def pip_for_recorder(user, pk: int) -> Pip:
    """A plan whose check-ins and reviews the user is about to record: 404 when unseen, 403
    for anyone but its supervisor and their delegate on a day of cover."""
    pip = pip_for_user(user, pk)
    if not rules.may_record_meetings(user, pip):
        raise PermissionDenied(_("Only the plan's supervisor, or their delegate, records this."))
    return pip


# --- Needs you now: each role's short, ordered to-do at the top of the home ------------------


class TodoKind:
    """The kinds of to-do, in the order the list shows them."""

    SIGN = "sign"
    COUNTERSIGN = "countersign"
    MEETING = "meeting"  # a check-in or a review, due or overdue
    APPROVE = "approve"
    AMENDMENT = "amendment"
    DISAGREEMENT = "disagreement"
    ISSUE = "issue"
    REVISE = "revise"

    ORDER = (SIGN, COUNTERSIGN, MEETING, APPROVE, AMENDMENT, DISAGREEMENT, ISSUE, REVISE)


@dataclass(frozen=True)
class Todo:
    kind: str
    pip: Pip
    text: str
    url: str
    action: str  # the button's words
    due_on: dt.date | None = None
    overdue: bool = False
    flagged: bool = False  # needs reading first: the employee disagrees or refused

    @property
    def sort_key(self) -> tuple:
        return (
            TodoKind.ORDER.index(self.kind),
            not self.overdue,
            not self.flagged,
            self.due_on or dt.date.max,
            self.pip.pk,
        )


#: At most this many of each kind; the plan lists below hold the rest.
TODO_LIMIT = 20


def needs_you_now(
    user,
    today: dt.date | None = None,
    *,
    countersign: list[CountersignRow] | None = None,
    supervised: list[Pip] | None = None,
    approvals: list[Pip] | None = None,
) -> list[Todo]:
    """What is waiting for this user, in the order to do it: signing, countersigning, check-ins
    and reviews due or overdue, HR's approvals and amendments, disagreements to read, plans to
    issue or revise. A constant number of queries (one per kind the user's roles can have),
    each bounded by TODO_LIMIT. HR's countersignatures are `awaiting_countersignature`'s rows
    (passed in when the page has them already): only those this HR user may sign (separation of
    duties), a disagreement or refusal flagged and first. A supervisor's steps come from
    `supervisor_plans` (passed in when the page has them already), HR's approvals the first
    of `approval_queue` (passed in when the page lists them already, at least TODO_LIMIT)."""
    today = today or timezone.localdate()
    user_roles = roles.roles_of(user)
    todos: list[Todo] = []
    if roles.AGENT in user_roles:
        todos += _agent_todos(user)
    if roles.SUPERVISOR in user_roles:
        if supervised is None:
            supervised = supervisor_plans(user)
        todos += _supervisor_todos(supervised, today)
    if roles.HR in user_roles:
        if countersign is None:
            countersign = awaiting_countersignature(user)
        todos += _countersign_todos(countersign)
        if approvals is None:
            approvals = list(approval_queue(user)[:TODO_LIMIT])
        todos += _hr_todos(user, today, approvals[:TODO_LIMIT])
    if user_roles & {roles.SUPERVISOR, roles.HR}:
        # A disagreement HR is about to countersign is on that line already.
        flagged = {todo.pip.pk for todo in todos if todo.flagged}
        todos += [t for t in _disagreements(user, today) if t.pip.pk not in flagged]
    return sorted(todos, key=lambda todo: todo.sort_key)


def _countersign_todos(rows: list[CountersignRow]) -> list[Todo]:
    todos = []
    for row in rows:
        if not row.may_sign:
            continue
        pip = row.pip
        if row.refused:
            note = _("refused to sign (witnessed)")
        elif row.disagrees:
            note = _("signed and disagrees: read their comments first")
        else:
            note = _("has signed")
        todos.append(
            Todo(
                TodoKind.COUNTERSIGN,
                pip,
                _("Countersign %(reference)s (%(name)s %(note)s)")
                % {"reference": pip.reference, "name": pip.agent.full_name, "note": note},
                reverse("pips:sign", args=[pip.pk]),
                _("Countersign"),
                due_on=timezone.localdate(row.signed_at),
                flagged=row.disagrees or row.refused,
            )
        )
    return todos


def _agent_todos(user) -> list[Todo]:
    unsigned = with_progress(pips_visible(user).filter(agent__user=user)).filter(
        Q(status=Status.ISSUED) | Q(status__in=RUNNING_STATUSES), employee_signed=False
    )
    todos = []
    for pip in unsigned.order_by("ack_due_at", "pk")[:TODO_LIMIT]:
        due = timezone.localdate(pip.ack_due_at) if pip.ack_due_at else None
        version = pip.current_version.number if pip.current_version else 1
        todos.append(
            Todo(
                TodoKind.SIGN,
                pip,
                (
                    _("Read and sign %(reference)s (version %(version)s, amended)")
                    if version > 1
                    else _("Read and sign %(reference)s")
                )
                % {"reference": pip.reference, "version": version},
                reverse("pips:sign", args=[pip.pk]),
                _("Read and sign"),
                due_on=due,
                overdue=pip.is_ack_overdue(),
            )
        )
    return todos


def _supervisor_todos(supervised: list[Pip], today: dt.date) -> list[Todo]:
    """From the supervisor's plans (`supervisor_plans`, read once for the whole home page): a
    running plan's step due soon, an approved plan to issue, a draft HR returned. Filtered
    here rather than in another query: PostgreSQL cannot estimate the plans' OR and joined
    every agent of the company to find a supervisor's few."""
    from pips import rules

    mine = [
        pip
        for pip in supervised
        if (
            pip.status in RUNNING_STATUSES
            and pip.next_step_on is not None
            and pip.next_step_on <= today + rules.DUE_AHEAD
        )
        or pip.status == Status.APPROVED
        or (pip.status == Status.DRAFT and pip.hr_comment != "")
    ]
    # As the database orders them: the nearest step first, plans without one last.
    mine.sort(key=lambda pip: (pip.next_step_on is None, pip.next_step_on or today, pip.pk))
    todos = []
    for pip in mine[: TODO_LIMIT * 3]:
        name = pip.agent.full_name
        if pip.status == Status.APPROVED:
            todos.append(
                Todo(
                    TodoKind.ISSUE,
                    pip,
                    _("Hold the meeting with %(name)s and issue %(reference)s")
                    % {"name": name, "reference": pip.reference},
                    reverse("pips:issue", args=[pip.pk]),
                    _("Issue"),
                )
            )
        elif pip.status == Status.DRAFT:
            todos.append(
                Todo(
                    TodoKind.REVISE,
                    pip,
                    _("HR returned %(reference)s (%(name)s): revise and resubmit")
                    % {"reference": pip.reference, "name": name},
                    reverse("pips:edit", args=[pip.pk]),
                    _("Revise"),
                )
            )
        elif rules.is_step_due(pip.next_step_on, today):
            kind = ScheduleItem.Kind(pip.next_step_kind)
            overdue = rules.is_step_overdue(pip.next_step_on, today)
            text = (
                _("%(step)s with %(name)s was due %(date)s")
                if overdue
                else _("%(step)s with %(name)s due %(date)s")
            )
            url = (
                reverse("pips:checkin_new", args=[pip.pk])
                if kind == ScheduleItem.Kind.CHECKIN
                else reverse("pips:reviews", args=[pip.pk])
            )
            todos.append(
                Todo(
                    TodoKind.MEETING,
                    pip,
                    text
                    % {
                        "step": kind.label,
                        "name": name,
                        "date": date_format(pip.next_step_on, "D d M"),
                    },
                    url,
                    _("Record it") if kind == ScheduleItem.Kind.CHECKIN else _("Hold the review"),
                    due_on=pip.next_step_on,
                    overdue=overdue,
                )
            )
    return todos


def _hr_todos(user, today: dt.date, approvals: list[Pip]) -> list[Todo]:
    todos = []
    for pip in approvals:
        submitted = timezone.localdate(pip.submitted_at) if pip.submitted_at else None
        todos.append(
            Todo(
                TodoKind.APPROVE,
                pip,
                _("Approve or return %(reference)s (%(name)s, from %(supervisor)s)")
                % {
                    "reference": pip.reference,
                    "name": pip.agent.full_name,
                    "supervisor": pip.supervisor.get_full_name() or pip.supervisor.username,
                },
                reverse("pips:hr_review", args=[pip.pk]),
                _("Review"),
                due_on=submitted,
            )
        )
    amendments = amendments_pending_hr(user).select_related("agent")
    for pip in amendments.order_by("pk")[:TODO_LIMIT]:
        todos.append(
            Todo(
                TodoKind.AMENDMENT,
                pip,
                _("Decide on the amendment of %(reference)s (%(name)s)")
                % {"reference": pip.reference, "name": pip.agent.full_name},
                reverse("pips:amendment", args=[pip.pk]),
                _("Decide"),
            )
        )
    # Escalations: a check-in or review whose day has passed without being recorded, i.e. a
    # running plan whose next step (`with_next_step`: its first pending step) is of a past
    # day. Read from the steps: the pending steps of a past day (a few hundred of the
    # company's, `schedule_pending_on`) that are their plan's first pending step. Working out
    # the next step of every running plan and joining every agent to sort them took 40-60 ms
    # at 50,000 agents. The same plans, in the same order: the step found is the next step.
    first_pending = ScheduleItem.objects.filter(
        pip=OuterRef("pip"), done_at__isnull=True, cancelled_at__isnull=True
    ).order_by("due_at", "pk")
    late_ids = (
        ScheduleItem.objects.filter(
            done_at__isnull=True,
            cancelled_at__isnull=True,
            due_on__lt=today,
            pip__status__in=RUNNING_STATUSES,
            pip__in=pips_visible(user).values("pk"),
        )
        .filter(pk=Subquery(first_pending.values("pk")[:1]))
        .order_by("due_on", "pip_id")
        .values("pip_id")[:TODO_LIMIT]
    )
    late = with_progress(Pip.objects.with_related()).filter(pk__in=Subquery(late_ids))
    for pip in late.order_by("next_step_on", "pk"):
        kind = ScheduleItem.Kind(pip.next_step_kind)
        supervisor = pip.supervisor.get_full_name() or pip.supervisor.username
        todos.append(
            Todo(
                TodoKind.MEETING,
                pip,
                # The page marks it overdue with a badge; the text does not say it again.
                _(
                    "%(step)s of %(reference)s (%(name)s) was due %(date)s; follow up with "
                    "%(supervisor)s"
                )
                % {
                    "step": kind.label,
                    "reference": pip.reference,
                    "name": pip.agent.full_name,
                    "date": date_format(pip.next_step_on, "D d M"),
                    "supervisor": supervisor,
                },
                reverse("pips:detail", args=[pip.pk]),
                pgettext("action", "Open"),
                due_on=pip.next_step_on,
                overdue=True,
            )
        )
    return todos


def _disagreements(user, today: dt.date) -> list[Todo]:
    """The employee's comments when they signed and said they disagree, for a while after."""
    from pips import rules

    since = timezone.now() - rules.DISAGREEMENT_FRESH
    signatures = (
        Signature.objects.filter(
            role=SignerRole.AGENT,
            agrees=False,
            signed_at__gte=since,
            version__pip__in=pips_visible(user).of_supervisor(user)
            if not roles.is_hr(user)
            else pips_visible(user),
        )
        .select_related("version__pip__agent")
        .order_by("-signed_at")[:TODO_LIMIT]
    )
    todos = []
    for signature in signatures:
        pip = signature.version.pip
        todos.append(
            Todo(
                TodoKind.DISAGREEMENT,
                pip,
                _("%(name)s signed %(reference)s and disagrees: read their comments")
                % {"name": pip.agent.full_name, "reference": pip.reference},
                reverse("pips:detail", args=[pip.pk]) + "#h-ack",
                _("Read"),
                due_on=timezone.localdate(signature.signed_at),
            )
        )
    return todos
