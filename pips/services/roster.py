"""Loading a roster: all or nothing, idempotent, recorded.

`roster_load` works out the plan again inside its transaction (`pips.roster.sync.plan_roster`),
refuses the whole file if any row is refused, and otherwise writes teams, accounts, employee
records and roles in bulk; transfers move open plans to the new supervisor and departures end
them, through the plan services, on each plan's record. Every load, loaded or rejected, leaves a
`RosterImport`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction

from pips import rules
from pips.models import DEFAULT_JOB_TITLE, Agent, Pip, Team
from pips.roster.models import ImportOrigin, ImportStatus, RosterImport, RosterSource
from pips.roster.parsing import FileError, RosterMapping, Table, open_roster
from pips.roster.sync import MANAGED_GROUPS, ROLE_GROUPS, RosterPlan, plan_roster

User = get_user_model()

# One roster load at a time across the whole site (two at once could each create a team).
_LOCK_KEY = 0x524F53544552  # "ROSTER"


may_load_roster = rules.may_manage_roster


@dataclass
class RosterFile:
    """A file to read: its bytes or stream, and its name (the extension picks CSV or XLSX)."""

    data: bytes
    filename: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def table(self) -> Table:
        return open_roster(self.data, filename=self.filename)


def roster_preview(*, table: Table, mapping: RosterMapping) -> RosterPlan:
    """What loading would do; nothing is written or recorded. FileError if unreadable."""
    return plan_roster(table, mapping)


def roster_load(
    *,
    actor,
    source: RosterSource,
    table: Table,
    mapping: RosterMapping,
    origin: str = ImportOrigin.PAGE,
    filename: str = "",
    sha256: str = "",
    meta: Any = None,
    save_mapping: bool = True,
) -> RosterImport:
    """Load the roster, or record why not (and remember the file's mapping for its source).
    Raises PermissionDenied for a user who may not."""
    if not may_load_roster(actor):
        raise PermissionDenied("Only HR and administrators may load the roster.")
    started = time.perf_counter()
    record = RosterImport(
        source=source,
        origin=origin,
        filename=filename[:255],
        sha256=sha256,
        created_by=actor,
    )
    with transaction.atomic():
        _lock()
        try:
            plan = plan_roster(table, mapping)
        except FileError as exc:
            record.status = ImportStatus.REJECTED
            record.error_count = 1
            record.errors = [{"line": exc.line, "column": "", "reason": exc.reason}]
            return _finish(record, started)
        record.rows_total = plan.rows_total
        if not plan.ok:
            record.status = ImportStatus.REJECTED
            record.error_count = plan.errors.total
            record.errors = [e.as_dict() for e in plan.errors.items]
            return _finish(record, started)
        counts = _apply(plan, actor=actor, meta=meta, source=source)
        summary = plan.summary()
        record.status = ImportStatus.LOADED
        record.created = summary["new"]
        record.updated = summary["changed"]
        record.unchanged = summary["unchanged"]
        record.transferred = summary["transfers"]
        record.deactivated = summary["deactivations"]
        record.teams_created = summary["teams_new"]
        record.plans_reassigned = counts["plans_reassigned"]
        record.plans_ended = counts["plans_ended"]
        record.changes = [p.as_dict() for p in plan.people if p.kind != "unchanged"]
        if save_mapping and mapping.as_dict() != source.mapping:
            source.mapping = mapping.as_dict()
            source.save(update_fields=["mapping"])
        return _finish(record, started)


def roster_load_file(
    *, actor, source: RosterSource, file: RosterFile, mapping: RosterMapping, origin: str
) -> RosterImport:
    """A whole file: a file that cannot be read at all is recorded as rejected too."""
    try:
        table = file.table()
    except FileError as exc:
        if not may_load_roster(actor):
            raise PermissionDenied("Only HR and administrators may load the roster.") from None
        return RosterImport.objects.create(
            source=source,
            origin=origin,
            filename=file.filename[:255],
            sha256=file.sha256,
            created_by=actor,
            status=ImportStatus.REJECTED,
            error_count=1,
            errors=[{"line": exc.line, "column": "", "reason": exc.reason}],
        )
    return roster_load(
        actor=actor,
        source=source,
        table=table,
        mapping=mapping,
        origin=origin,
        filename=file.filename,
        sha256=file.sha256,
    )


def read_file(stream: IO[bytes] | bytes, filename: str) -> RosterFile:
    data = stream if isinstance(stream, bytes) else stream.read()
    return RosterFile(data=data, filename=filename)


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _finish(record: RosterImport, started: float) -> RosterImport:
    record.duration_ms = round((time.perf_counter() - started) * 1000)
    record.save()
    return record


def _split_name(full_name: str) -> tuple[str, str]:
    first, _, last = full_name.partition(" ")
    return first[:150], last[:150]


def _apply(plan: RosterPlan, *, actor, meta: Any, source: RosterSource) -> dict[str, int]:
    from pips.services.employment import pip_end_employment, pip_reassign

    # Teams: new ones, and departments the file gives.
    teams = dict(plan.teams)
    new_teams = [
        Team(name=name, department=plan.departments.get(name, "")) for name in plan.teams_new
    ]
    Team.objects.bulk_create(new_teams)
    if new_teams:
        teams.update({t.name: t for t in Team.objects.filter(name__in=plan.teams_new)})
    changed_teams = []
    for name, department in plan.departments.items():
        team = teams[name]
        if team.department != department:
            team.department = department
            changed_teams.append(team)
    Team.objects.bulk_update(changed_teams, ["department"])

    # Accounts: every person on the roster has one (without a password until they join).
    new_users: list[Any] = []
    linked: dict[str, Any] = {}
    changed_users: list[Any] = []
    for change in plan.people:
        row = change.row
        agent = plan.agents.get(change.employee_id)
        first, last = _split_name(row.full_name)
        user = agent.user if agent and agent.user_id else change.link_user
        if user is None:
            user = User(
                username=row.employee_id,
                email=row.email,
                first_name=first,
                last_name=last,
                is_active=row.active,
                password=make_password(None),
            )
            new_users.append(user)
        else:
            wanted = {
                "first_name": first,
                "last_name": last,
                "email": row.email if row.email else user.email,
            }
            # The account follows the roster's status when it changes (or is first linked);
            # an account locked by hand stays locked while the status stays the same.
            if agent is None or row.active != agent.is_active:
                wanted["is_active"] = row.active
            if any(getattr(user, k) != v for k, v in wanted.items()):
                for k, v in wanted.items():
                    setattr(user, k, v)
                changed_users.append(user)
        linked[row.employee_id] = user
    User.objects.bulk_create(new_users, batch_size=2000)
    if connection.vendor != "postgresql" and new_users:
        # Only PostgreSQL returns the keys of a bulk insert.
        ids = dict(
            User.objects.filter(username__in=[u.username for u in new_users]).values_list(
                "username", "pk"
            )
        )
        for user in new_users:
            user.pk = user.id = ids[user.username]
    User.objects.bulk_update(
        changed_users, ["first_name", "last_name", "email", "is_active"], batch_size=2000
    )

    def supervisor_user_id(employee_id: str | None, current: int | None) -> int | None:
        if employee_id is None:
            return current
        if not employee_id:
            return None
        if employee_id in linked:
            return linked[employee_id].pk
        return plan.agents[employee_id].user_id

    # Employee records.
    new_agents: list[Agent] = []
    changed_agents: list[Agent] = []
    update_fields: set[str] = set()
    for change in plan.people:
        row = change.row
        agent = plan.agents.get(change.employee_id)
        user = linked[row.employee_id]
        values = {
            "full_name": row.full_name,
            "team_id": teams[row.team].pk,
            "user_id": user.pk,
            "is_active": row.active,
        }
        if row.email or (agent and agent.email):
            values["email"] = row.email
        if row.site is not None:
            values["site"] = row.site
        if row.job_title is not None:
            values["job_title"] = row.job_title or DEFAULT_JOB_TITLE
        if row.hire_date_given:
            values["hired_on"] = row.hire_date
        if row.language is not None:
            values["language"] = row.language
        values["supervisor_id"] = supervisor_user_id(
            row.supervisor_id, agent.supervisor_id if agent else None
        )
        if agent is None:
            new_agents.append(Agent(employee_id=row.employee_id, **values))
            continue
        differs = {k: v for k, v in values.items() if getattr(agent, k) != v}
        if differs:
            for k, v in differs.items():
                setattr(agent, k, v)
            update_fields |= set(differs)
            changed_agents.append(agent)
    Agent.objects.bulk_create(new_agents, batch_size=2000)
    if changed_agents:
        Agent.objects.bulk_update(changed_agents, sorted(update_fields), batch_size=2000)

    # Roles: the roster's role decides the supervisor, HR and analyst groups of the people it
    # lists (superusers and other groups are left alone).
    group_ids = dict(Group.objects.filter(name__in=MANAGED_GROUPS).values_list("name", "pk"))
    through = User.groups.through
    to_remove: list[tuple[int, int]] = []
    to_add: list[Any] = []
    for change in plan.people:
        user = linked[change.employee_id]
        have = plan.groups.get(user.pk, set())
        want = ROLE_GROUPS[change.row.role]
        for name in have - want:
            to_remove.append((user.pk, group_ids[name]))
        for name in want - have:
            to_add.append(through(user_id=user.pk, group_id=group_ids[name]))
    for user_id, group_id in to_remove:
        through.objects.filter(user_id=user_id, group_id=group_id).delete()
    through.objects.bulk_create(to_add, ignore_conflicts=True, batch_size=2000)

    # People who left can no longer join with a link sent earlier.
    leaving = [linked[p.employee_id] for p in plan.deactivations]
    if leaving:
        from pipsystem.identity import invitations

        invitations.revoke_for(leaving)

    # Plans: a transfer moves open plans to the new supervisor, a departure ends them.
    reason = f"Roster import from {source.name}"
    reassigned = ended = 0
    if any(p.open_plans for p in plan.people):
        ids = [pip_id for p in plan.people for pip_id in p.open_plans]
        pips = {pip.pk: pip for pip in Pip.objects.filter(pk__in=ids)}
        for change in plan.people:
            for pip_id in change.open_plans:
                pip = pips[pip_id]
                if change.deactivate:
                    pip_end_employment(actor=actor, pip=pip, reason=reason, meta=meta)
                    ended += 1
                elif change.transfer:
                    new_supervisor = linked.get(change.transfer[1]) or User.objects.get(
                        pk=plan.agents[change.transfer[1]].user_id
                    )
                    if pip.supervisor_id != new_supervisor.pk:
                        pip_reassign(
                            actor=actor,
                            pip=pip,
                            supervisor=new_supervisor,
                            reason=reason,
                            meta=meta,
                        )
                        reassigned += 1
    return {"plans_reassigned": reassigned, "plans_ended": ended}


def people_invite(*, actor, agents: list[Agent]) -> list:
    """Invite each of these employees who has not joined yet (an employee record without an
    account gets one, without a password, first). PermissionDenied if any is not the actor's to
    invite. Returns the invitations made (people with no e-mail address are skipped)."""
    from pips.roster.directory import user_for_employee
    from pipsystem.identity import invitations

    refused = [a for a in agents if not rules.may_invite(actor, a)]
    if refused:
        raise PermissionDenied(f"You may not invite {refused[0].full_name}.")
    users = []
    for agent in agents:
        if not agent.is_active:
            continue
        user = agent.user if agent.user_id else user_for_employee(agent.employee_id)
        if user is not None:
            users.append(user)
    return invitations.invitations_send(actor=actor, users=users)
