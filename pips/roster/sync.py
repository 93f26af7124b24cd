"""What a roster file would change, worked out against the people already stored.

`plan_roster` reads every row (through `pips.roster.parsing`), loads the stored teams, agents,
accounts and open plans in a constant number of queries, and returns a `RosterPlan`: each row
accounted for (new, changed with the fields, unchanged, refused with the reason), the transfers,
deactivations and the plans they move or end. The page's preview, the API's dry run and the
load itself (`pips.services.roster.roster_load`, inside its transaction) all use it, so what is
previewed is what is loaded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils.translation import gettext

from pips import roles
from pips.models import DEFAULT_JOB_TITLE, Agent, Pip, Team
from pips.roster.parsing import (
    AGENT,
    ANALYST,
    HR,
    SUPERVISOR,
    ErrorLog,
    PersonRow,
    RosterMapping,
    Table,
    read_rows,
)

User = get_user_model()

# The groups a roster role gives; the roster owns these groups for the people it lists.
ROLE_GROUPS = {
    AGENT: set(),
    SUPERVISOR: {roles.SUPERVISOR},
    HR: {roles.HR},
    ANALYST: {roles.ANALYST},
}
MANAGED_GROUPS = frozenset(roles.GROUP_ROLES)
# The stored fields an update compares, in the order the preview lists them.
AGENT_FIELDS = ("full_name", "email", "team", "department", "site", "job_title", "hired_on")
AGENT_FIELDS += ("language", "supervisor", "role", "active")


@dataclass(slots=True)
class PersonChange:
    """What the load does to one person."""

    line: int
    employee_id: str
    full_name: str
    kind: str  # "new", "changed" or "unchanged"
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name -> (old, new)
    transfer: tuple[str, str] | None = None  # supervisor employee IDs (old, new)
    deactivate: bool = False
    reactivate: bool = False
    open_plans: list[int] = field(default_factory=list)  # moved on transfer, ended on leaving
    row: PersonRow | None = None
    link_user: Any = None  # an existing account (same e-mail, no employee record) to link

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "line": self.line,
            "employee_id": self.employee_id,
            "name": self.full_name,
            "kind": self.kind,
        }
        if self.fields:
            data["fields"] = {k: [_plain(a), _plain(b)] for k, (a, b) in self.fields.items()}
        if self.transfer:
            data["transfer"] = list(self.transfer)
        if self.deactivate:
            data["deactivated"] = True
        if self.reactivate:
            data["reactivated"] = True
        if self.open_plans:
            data["plans"] = self.open_plans
        return data


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@dataclass
class RosterPlan:
    """Every row of a roster file, accounted for, and what loading it would do."""

    rows_total: int
    errors: ErrorLog
    people: list[PersonChange]
    teams_new: list[str]
    departments: dict[str, str]  # team -> department, where new or changed
    # Stored state the load writes against (so it need not query again).
    agents: dict[str, Agent] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    users_by_email: dict[str, Any] = field(default_factory=dict)
    groups: dict[int, set[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.errors.total == 0

    def count(self, kind: str) -> int:
        return sum(1 for p in self.people if p.kind == kind)

    @property
    def transfers(self) -> list[PersonChange]:
        return [p for p in self.people if p.transfer]

    @property
    def deactivations(self) -> list[PersonChange]:
        return [p for p in self.people if p.deactivate]

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.rows_total,
            "new": self.count("new"),
            "changed": self.count("changed"),
            "unchanged": self.count("unchanged"),
            "refused": self.rows_total - len(self.people),
            "transfers": len(self.transfers),
            "deactivations": len(self.deactivations),
            "teams_new": len(self.teams_new),
            "plans_moved": sum(len(p.open_plans) for p in self.transfers if not p.deactivate),
            "plans_ended": sum(len(p.open_plans) for p in self.deactivations),
            "errors": self.errors.total,
        }


def among(field: str, values, kind: str = "text") -> Q:
    """`field IN values` as one array parameter on PostgreSQL (`= ANY(%s)`): a roster's ten
    thousand IDs as ten thousand placeholders cost more to build than the query takes."""
    values = list(values)
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL(f"SELECT unnest(%s::{kind}[])", (values,))})
    return Q(**{f"{field}__in": values})


def plan_roster(table: Table, mapping: RosterMapping, *, error_limit: int = 1000) -> RosterPlan:
    errors = ErrorLog(limit=error_limit)
    with table:
        rows = list(read_rows(table, mapping, errors))
    # Every non-blank data row is a person or an error; count them as read.
    refused_lines = {e.line for e in errors.items}
    rows_total = len(rows) + max(errors.total, len(refused_lines))
    by_id = {row.employee_id: row for row in rows}

    referenced = {row.supervisor_id for row in rows if row.supervisor_id}
    wanted = set(by_id) | referenced
    agents = {
        agent.employee_id: agent
        for agent in Agent.objects.filter(among("employee_id", wanted)).select_related(
            "user", "team"
        )
    }
    supervisor_user_ids = {a.supervisor_id for a in agents.values() if a.supervisor_id}
    user_employee_ids = dict(
        Agent.objects.filter(among("user_id", supervisor_user_ids, "bigint")).values_list(
            "user_id", "employee_id"
        )
    )
    user_ids = {a.user_id for a in agents.values() if a.user_id}
    groups: dict[int, set[str]] = defaultdict(set)
    for user_id, name in User.groups.through.objects.filter(
        among("user_id", user_ids, "bigint"), group__name__in=MANAGED_GROUPS
    ).values_list("user_id", "group__name"):
        groups[user_id].add(name)
    teams = {t.name: t for t in Team.objects.filter(among("name", {row.team for row in rows}))}
    emails = {row.email.casefold() for row in rows if row.email}
    users_by_email: dict[str, Any] = {}
    for user in User.objects.annotate(email_lower=Lower("email")).filter(
        among("email_lower", emails)
    ):
        users_by_email.setdefault(user.email_lower, []).append(user)
    linked_users = set(
        Agent.objects.filter(
            among("user_id", [u.pk for users in users_by_email.values() for u in users], "bigint")
        ).values_list("user_id", flat=True)
    )
    taken_usernames = set(
        User.objects.filter(
            among("username", [row.employee_id for row in rows if row.employee_id not in agents])
        ).values_list("username", flat=True)
    )
    open_plans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pip_id, agent_id, supervisor_id in (
        Pip.objects.open()
        .filter(among("agent_id", [a.pk for a in agents.values()], "bigint"))
        .values_list("id", "agent_id", "supervisor_id")
    ):
        open_plans[agent_id].append((pip_id, supervisor_id))
    # A supervisor who is demoted or leaves must not strand people or plans the file does
    # not move.
    leading_outside: dict[int, int] = defaultdict(int)
    for supervisor_id in (
        Agent.objects.filter(among("supervisor_id", user_ids, "bigint"), is_active=True)
        .exclude(among("employee_id", by_id))
        .values_list("supervisor_id", flat=True)
    ):
        leading_outside[supervisor_id] += 1
    # Open plans each listed supervisor holds, by the employee ID of the plan's agent.
    plans_held: dict[int, list[str]] = defaultdict(list)
    for supervisor_id, agent_employee_id in (
        Pip.objects.open()
        .filter(among("supervisor_id", user_ids, "bigint"))
        .values_list("supervisor_id", "agent__employee_id")
    ):
        plans_held[supervisor_id].append(agent_employee_id)

    def stranded(leader: Agent) -> int:
        """Open plans the leader holds that this file neither moves nor ends."""
        count = 0
        for employee_id in plans_held.get(leader.user_id, []):
            row = by_id.get(employee_id)
            moved = row is not None and (
                not row.active or (row.supervisor_id and row.supervisor_id != leader.employee_id)
            )
            count += not moved
        return count

    def role_of_stored(agent: Agent) -> str:
        names = groups.get(agent.user_id, set()) if agent.user_id else set()
        for role in (SUPERVISOR, HR, ANALYST):
            if ROLE_GROUPS[role] & names:
                return role
        return AGENT

    def is_supervisor_after(employee_id: str) -> bool:
        row = by_id.get(employee_id)
        if row is not None:
            return row.role == SUPERVISOR and row.active
        agent = agents.get(employee_id)
        return bool(
            agent
            and agent.is_active
            and agent.user_id
            and roles.SUPERVISOR in groups.get(agent.user_id, set())
        )

    team_departments: dict[str, tuple[str, int]] = {}
    col = mapping.columns()
    people: list[PersonChange] = []
    for row in rows:
        agent = agents.get(row.employee_id)
        if row.supervisor_id:
            if row.supervisor_id not in by_id and row.supervisor_id not in agents:
                errors.add(
                    row.line,
                    gettext("supervisor %(id)s is neither in this file nor on the roster")
                    % {"id": row.supervisor_id},
                    col["supervisor_id"],
                )
                continue
            if row.active and not is_supervisor_after(row.supervisor_id):
                errors.add(
                    row.line,
                    gettext(
                        "%(id)s is not an active supervisor "
                        "(their role must be supervisor and their status active)"
                    )
                    % {"id": row.supervisor_id},
                    col["supervisor_id"],
                )
                continue
        link_user = None
        if row.email:
            holders = [
                u
                for u in users_by_email.get(row.email.casefold(), [])
                if not (agent and agent.user_id == u.pk)
            ]
            # An account without an employee record (made in the admin) with this person's
            # e-mail is theirs: it is linked. Any other holder is someone else.
            free = [u for u in holders if u.pk not in linked_users]
            if holders and (len(holders) > 1 or not free or (agent and agent.user_id)):
                errors.add(
                    row.line,
                    gettext("e-mail %(email)s already belongs to another account (%(username)s)")
                    % {"email": row.email, "username": holders[0].username},
                    col.get("email", ""),
                )
                continue
            link_user = free[0] if free else None
        department = team_departments.get(row.team)
        if row.department and department and department[0] != row.department:
            errors.add(
                row.line,
                gettext("team %(team)s has department %(department)s on line %(line)s")
                % {"team": row.team, "department": repr(department[0]), "line": department[1]},
                col["department"],
            )
            continue
        if row.department and not department:
            team_departments[row.team] = (row.department, row.line)
        if agent is None and link_user is None and row.employee_id in taken_usernames:
            errors.add(
                row.line,
                gettext(
                    "an account named %(id)s exists without an employee record; "
                    "link it in the admin or change its username"
                )
                % {"id": row.employee_id},
                col["employee_id"],
            )
            continue
        old_role = role_of_stored(agent) if agent else AGENT
        stops_leading = bool(agent and agent.user_id and old_role == SUPERVISOR) and (
            row.role != SUPERVISOR or not row.active
        )
        if stops_leading and (leading_outside.get(agent.user_id) or stranded(agent)):
            if not row.active:
                reason = gettext(
                    "%(id)s leaves but still leads %(people)s people not in this file and "
                    "%(plans)s open plans this file does not move; move them first"
                )
            else:
                reason = gettext(
                    "%(id)s is no longer a supervisor but still leads %(people)s people not in "
                    "this file and %(plans)s open plans this file does not move; move them first"
                )
            errors.add(
                row.line,
                reason
                % {
                    "id": row.employee_id,
                    "people": leading_outside.get(agent.user_id, 0),
                    "plans": stranded(agent),
                },
                col.get("status", "") if not row.active else col.get("role", ""),
            )
            continue
        change = _change(row, agent, old_role, user_employee_ids, open_plans)
        change.link_user = link_user
        people.append(change)

    teams_new = sorted({p.row.team for p in people if p.row.team not in teams})
    departments = {
        name: dep
        for name, (dep, _) in team_departments.items()
        if name not in teams or teams[name].department != dep
    }
    return RosterPlan(
        rows_total=rows_total,
        errors=errors,
        people=people,
        teams_new=teams_new,
        departments=departments,
        agents=agents,
        teams=teams,
        users_by_email=users_by_email,
        groups=groups,
    )


def _change(
    row: PersonRow,
    agent: Agent | None,
    old_role: str,
    user_employee_ids: dict[int, str],
    open_plans: dict[int, list[tuple[int, int]]],
) -> PersonChange:
    if agent is None:
        return PersonChange(row.line, row.employee_id, row.full_name, "new", row=row)
    fields: dict[str, tuple[Any, Any]] = {}

    def compare(name: str, old: Any, new: Any) -> None:
        if new is not None and old != new:
            fields[name] = (old, new)

    compare("full_name", agent.full_name, row.full_name)
    if row.email or agent.email:
        compare("email", agent.email, row.email)
    compare("team", agent.team.name, row.team)
    compare("site", agent.site, row.site)
    compare(
        "job_title",
        agent.job_title,
        None if row.job_title is None else (row.job_title or DEFAULT_JOB_TITLE),
    )
    if row.hire_date_given:
        compare("hired_on", agent.hired_on, row.hire_date)
    compare("language", agent.language, row.language)
    old_supervisor = user_employee_ids.get(agent.supervisor_id, "") if agent.supervisor_id else ""
    transfer = None
    if row.supervisor_id is not None and old_supervisor != row.supervisor_id:
        if agent.supervisor_id and not old_supervisor:
            old_supervisor = f"user:{agent.supervisor_id}"
        fields["supervisor"] = (old_supervisor, row.supervisor_id)
        if agent.supervisor_id is not None:
            transfer = (old_supervisor, row.supervisor_id)
    compare("role", old_role, row.role)
    compare("active", agent.is_active, row.active)
    change = PersonChange(
        row.line,
        row.employee_id,
        row.full_name,
        "changed" if fields else "unchanged",
        fields=fields,
        transfer=transfer,
        deactivate=agent.is_active and not row.active,
        reactivate=not agent.is_active and row.active,
        row=row,
    )
    if change.deactivate or transfer:
        change.open_plans = sorted(pip_id for pip_id, _ in open_plans.get(agent.pk, []))
    return change
