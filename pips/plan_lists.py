"""The plan lists of HR and supervisors: search, filters, sorting, a page at a time, and the
same query exported as CSV or XLSX.

One query builds the list for any filters (`plan_list`); the page is a slice of it and the export
iterates over it in chunks of plain values (no model objects), so neither grows with the company
beyond what the filters let through. Who sees what is `Pip.objects.visible_to`, as everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from pips import roles
from pips.models import OPEN_STATUSES, TERMINAL_STATUSES, Outcome, Pip, Status, Team

PAGE_SIZE = 50
# An export is every matching plan; more than this is refused (narrow the filters).
MAX_EXPORT_ROWS = 50_000
# Suggestions an autocomplete returns.
LOOKUP_LIMIT = 20

# Sort keys the URL may carry, and the columns they sort by (a stable tie-break is added).
SORTS: dict[str, tuple[str, ...]] = {
    "ref": ("id",),
    "name": ("agent__full_name",),
    "id": ("agent__employee_id",),
    "team": ("agent__team__name",),
    "supervisor": ("supervisor__last_name", "supervisor__first_name"),
    "state": ("status",),
    "start": ("current_version__period_start",),
    "end": ("current_version__period_end",),
    "updated": ("updated_at",),
    "submitted": ("submitted_at",),
}
DEFAULT_SORT = "-updated"
STATE_GROUPS = {"open": sorted(OPEN_STATUSES), "closed": sorted(TERMINAL_STATUSES)}


@dataclass(frozen=True)
class PlanQuery:
    """What the list shows: the search text and filters, as the URL carries them."""

    q: str = ""
    state: str = ""
    team: Team | None = None
    supervisor: object | None = None
    site: str = ""
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    sort: str = DEFAULT_SORT


def may_list(user) -> bool:
    """HR, administrators and supervisors have plan lists; agents and analysts do not."""
    return bool(roles.roles_of(user) & {roles.HR, roles.ADMIN, roles.SUPERVISOR})


def sees_all(user) -> bool:
    return bool(roles.roles_of(user) & {roles.HR, roles.ADMIN})


def _search(text: str) -> Q:
    """A plan number ("PIP-00042", "42"), an employee ID, or part of the employee's name."""
    text = text.strip()
    condition = Q(agent__full_name__icontains=text) | Q(agent__employee_id__iexact=text)
    number = text.upper().removeprefix("PIP-").removeprefix("PIP")
    if number.isdigit():
        condition |= Q(pk=int(number))
    return condition


def plan_list(user, query: PlanQuery) -> QuerySet[Pip]:
    plans = (
        Pip.objects.all()
        if sees_all(user)
        else Pip.objects.filter(
            # A supervisor's plans are few: their ids first (see selectors.visible_ids).
            pk__in=list(Pip.objects.visible_to(user).order_by().values_list("pk", flat=True))
        )
    )
    plans = plans.select_related("agent", "agent__team", "supervisor", "current_version")
    if query.q:
        plans = plans.filter(_search(query.q))
    if query.state in STATE_GROUPS:
        plans = plans.filter(status__in=STATE_GROUPS[query.state])
    elif query.state:
        plans = plans.filter(status=query.state)
    if query.team is not None:
        plans = plans.filter(agent__team=query.team)
    if query.supervisor is not None:
        plans = plans.filter(supervisor=query.supervisor)
    if query.site:
        plans = plans.filter(agent__team__site=query.site)
    # Plans whose review period overlaps the dates asked for.
    if query.period_from:
        plans = plans.filter(current_version__period_end__gte=query.period_from)
    if query.period_to:
        plans = plans.filter(current_version__period_start__lte=query.period_to)
    key = query.sort.lstrip("-")
    columns = SORTS.get(key, SORTS["updated"])
    descending = query.sort.startswith("-") if key in SORTS else True
    order = [f"-{c}" if descending else c for c in columns]
    return plans.order_by(*order, "-id" if descending else "id")


# --- export ------------------------------------------------------------------------------------

# The column headings, in the language of the person exporting.
EXPORT_HEADER = [
    _("plan"),
    _("employee"),
    _("employee ID"),
    _("team"),
    _("site"),
    _("supervisor"),
    _("state"),
    _("review period from"),
    _("review period to"),
    _("issued"),
    _("closed"),
    _("outcome"),
]
_EXPORT_FIELDS = (
    "id",
    "agent__full_name",
    "agent__employee_id",
    "agent__team__name",
    "agent__team__site",
    "supervisor__first_name",
    "supervisor__last_name",
    "supervisor__username",
    "status",
    "current_version__period_start",
    "current_version__period_end",
    "issued_at",
    "closed_at",
    "outcome",
)


def export_rows(plans: QuerySet[Pip]) -> Iterator[list]:
    """The header, then one row per plan, read in chunks as plain values.

    The header and the labels are put in words here, in the language active when the export is
    asked for: a streamed response reads its rows after the view has returned, and per row would
    translate the same few labels thousands of times."""
    header = [str(heading) for heading in EXPORT_HEADER]
    states = {value: str(label) for value, label in Status.choices}
    outcomes = {value: str(label) for value, label in Outcome.choices}
    return _export_rows(plans, header, states, outcomes)


def _export_rows(
    plans: QuerySet[Pip], header: list[str], states: dict[str, str], outcomes: dict[str, str]
) -> Iterator[list]:
    yield header
    for row in plans.values_list(*_EXPORT_FIELDS).iterator(chunk_size=2000):
        (pk, name, employee_id, team, site, first, last, username, status) = row[:9]
        start, end, issued, closed, outcome = row[9:]
        yield [
            f"PIP-{pk:05d}",
            name,
            employee_id,
            team,
            site,
            f"{first} {last}".strip() or username,
            states.get(status, status),
            start.isoformat() if start else "",
            end.isoformat() if end else "",
            issued.date().isoformat() if issued else "",
            closed.date().isoformat() if closed else "",
            outcomes.get(outcome, outcome or ""),
        ]


# --- autocomplete ------------------------------------------------------------------------------


def team_choices(user) -> QuerySet[Team]:
    """Teams a user may filter by: all for HR, the teams of their agents for a supervisor."""
    if sees_all(user):
        return Team.objects.all()
    return Team.objects.filter(agents__supervisor=user).distinct()


def supervisor_choices(user) -> QuerySet:
    users = get_user_model().objects.filter(groups__name=roles.SUPERVISOR)
    if not sees_all(user):
        users = users.filter(pk=user.pk)
    return users


def lookup_teams(user, text: str) -> list[dict]:
    teams = team_choices(user).filter(name__icontains=text.strip()).order_by("name")
    return [{"id": t.pk, "label": t.name} for t in teams[:LOOKUP_LIMIT]]


def lookup_supervisors(user, text: str) -> list[dict]:
    text = text.strip()
    people = supervisor_choices(user)
    for word in text.split()[:3]:
        people = people.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
        )
    people = people.order_by("last_name", "first_name", "pk")[:LOOKUP_LIMIT]
    # The login in brackets tells apart two people of the same name (the form reads it back).
    return [
        {"id": u.pk, "label": f"{u.get_full_name() or u.get_username()} ({u.get_username()})"}
        for u in people
    ]
