"""Scale data: a company of tens of thousands of agents on PostgreSQL, for the benchmarks in
bench/ (docs/benchmarks.md), built in minutes and the same on every run.

The demo (`seed_demo`, every step through the services) comes first, so the demo logins work;
then, sized by the arguments, teams with one supervisor each, agents with logins (one password
hash for all), plans in every state with their versions, reasons, expectations, actions,
schedules, check-ins, reviews and signatures (hashed with the project's `content_hash`, so
they are valid), the audit trail with views and downloads, in-app notifications, and daily KPI
samples. Rows go in with COPY and INSERT … SELECT, not one save at a time; check-in dates come
from the services' own `checkin_dates`, so the shapes are those the app writes.

PostgreSQL only. Refuses a prefix (`--prefix`, "scale" by default) whose logins exist already;
another prefix adds another company beside the first (the tests build two sizes that way).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re
import time
import zoneinfo
from collections.abc import Iterable, Sequence
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from metrics import rollups
from metrics.models import Kpi, Sample
from pips import services
from pips.audit_chain import GENESIS, event_hash
from pips.content import content_hash
from pips.models import (
    ActionItem,
    Agent,
    AuditEvent,
    CheckIn,
    Expectation,
    Notification,
    Pip,
    PipVersion,
    Reason,
    Review,
    ScheduleItem,
    Signature,
    Status,
    Team,
)

PASSWORD = "pipsystem-demo"
PREFIX = "scale"
ZONES = ["America/New_York", "America/Chicago", "Europe/London", "Europe/Berlin", "Asia/Manila"]
FIRST = [
    "Alex",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Drew",
    "Skyler",
    "Reese",
    "Rowan",
]
LAST = [
    "Rivera",
    "Patel",
    "Kim",
    "Okafor",
    "Schmidt",
    "Rossi",
    "Silva",
    "Novak",
    "Haddad",
    "Larsen",
    "Tanaka",
    "Moreau",
]
# Share of plans in each state (every state the lifecycle has).
STATE_WEIGHTS = [
    (Status.DRAFT, 8),
    (Status.PENDING_HR, 6),
    (Status.APPROVED, 3),
    (Status.ISSUED, 8),
    (Status.ACTIVE, 28),
    (Status.MIDPOINT, 12),
    (Status.FINAL, 5),
    (Status.EXTENDED, 3),
    (Status.CLOSED_SUCCESSFUL, 13),
    (Status.CLOSED_UNSUCCESSFUL, 7),
    (Status.CANCELLED, 7),
]
ISSUED_ON = {
    Status.ISSUED,
    Status.ACTIVE,
    Status.MIDPOINT,
    Status.FINAL,
    Status.EXTENDED,
    Status.CLOSED_SUCCESSFUL,
    Status.CLOSED_UNSUCCESSFUL,
}
SIGNED_ALL = ISSUED_ON - {Status.ISSUED}
CLOSED = {Status.CLOSED_SUCCESSFUL, Status.CLOSED_UNSUCCESSFUL}
# Each KPI's typical value and spread: an agent's own level is drawn once, days vary around it.
KPI_SHAPE = {
    "qa_score": (86.0, 8.0),
    "aht": (290.0, 60.0),
    "csat": (82.0, 8.0),
    "adherence": (95.0, 3.0),
    "fcr": (76.0, 8.0),
    "wrapup": (97.0, 4.0),
}


def _cell(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_rows(model, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY rows into a model's table; returns how many."""
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(_cell(v) for v in row))
        buffer.write("\n")
        count += 1
    if not count:
        return 0
    buffer.seek(0)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", buffer)
    return count


def _chained(events: list[tuple]) -> Iterable[tuple]:
    """The events (in id order) with the audit trail's hash chain, continued from the last event
    already stored, as pips.audit_chain.append would have written them one by one."""
    last = AuditEvent.objects.order_by("-pk").values_list("event_hash", flat=True).first()
    previous = last or GENESIS
    for row in sorted(events, key=lambda r: r[0]):
        (pk, pip_id, version_id, actor_id, action, from_s, to_s, comment) = row[:8]
        changes, at, ip, agent = row[8:12]
        event = SimpleNamespace(
            pk=pk,
            pip_id=pip_id,
            version_id=version_id,
            actor_id=actor_id,
            action=action,
            from_status=from_s,
            to_status=to_s,
            comment=comment,
            changes=changes,
            at=at,
            ip_address=ip,
            user_agent=agent,
        )
        digest = event_hash(event, previous)
        yield (*row, previous, digest)
        previous = digest


class Ids:
    """Primary keys handed out here, so rows can point at each other before they are written;
    the table's identity sequence is moved past them at the end."""

    def __init__(self, model) -> None:
        self.model = model
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {model._meta.db_table}")
            self.next = cursor.fetchone()[0] + 1

    def take(self) -> int:
        value = self.next
        self.next += 1
        return value

    def sync(self) -> None:
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))",
                [table],
            )


class Command(BaseCommand):
    help = "Build the scale data set (PostgreSQL only), sized by the arguments."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--teams", type=int, default=500)
        parser.add_argument("--agents", type=int, default=50_000)
        parser.add_argument("--plans", type=int, default=5_000)
        parser.add_argument("--hr", type=int, default=5)
        parser.add_argument(
            "--sample-days", type=int, default=40, help="days of the six KPIs per agent"
        )
        parser.add_argument(
            "--views", type=int, default=45, help="views and downloads per plan, on average"
        )
        parser.add_argument(
            "--big-plan-views", type=int, default=5_000, help="views of the one busiest plan"
        )
        parser.add_argument(
            "--notifications", type=int, default=6_000, help="notifications of the first HR user"
        )
        parser.add_argument("--seed", type=int, default=19)
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
        parser.add_argument("--skip-demo", action="store_true")
        parser.add_argument(
            "--prefix",
            default="scale",
            help="of logins, team names and employee IDs (another prefix adds another company)",
        )

    def handle(self, *args, **opts) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("seed_scale needs PostgreSQL (DATABASE_URL).")
        self.prefix = opts["prefix"]
        if not re.fullmatch(r"[a-z][a-z0-9]{0,9}", self.prefix):
            raise CommandError("--prefix: up to ten lower-case letters and digits.")
        if get_user_model().objects.filter(username__startswith=f"{self.prefix}-").exists():
            raise CommandError("This database holds scale data already; use a fresh database.")
        if opts["agents"] < opts["plans"] or opts["teams"] < 1 or opts["agents"] < opts["teams"]:
            raise CommandError("Need at least as many agents as plans, and as teams.")
        self.rng = random.Random(opts["seed"])
        self.today = opts["today"] or timezone.localdate()
        self.now = timezone.now()
        started = time.perf_counter()
        if not opts["skip_demo"]:
            call_command("seed_demo", stdout=io.StringIO())
            self._step("demo (through the services)", started)
        with transaction.atomic():
            self._people(opts)
            self._step("teams, supervisors, HR, agents with logins", started)
            self._plans(opts)
            self._step("plans and everything on them", started)
            self._events(opts)
            self._step("audit trail and notifications", started)
        self._samples(opts)
        self._step("KPI samples", started)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self._step("ANALYZE", started)

    def _step(self, what: str, started: float) -> None:
        self.stdout.write(f"{time.perf_counter() - started:7.1f} s  {what}")

    # --- people ----------------------------------------------------------------------------

    def _people(self, opts) -> None:
        User = get_user_model()
        password = make_password(PASSWORD)
        n_teams, n_agents = opts["teams"], opts["agents"]
        team_ids = Ids(Team)
        user_ids = Ids(User)
        self.teams = [
            (team_ids.take(), f"{self.prefix.capitalize()} team {t + 1:04d}", ZONES[t % len(ZONES)])
            for t in range(n_teams)
        ]
        copy_rows(
            Team,
            ["id", "name", "department", "site", "timezone"],
            [
                (pk, name, "Customer Care", f"Site {t % 7 + 1}", zone)
                for t, (pk, name, zone) in enumerate(self.teams)
            ],
        )
        user_columns = [
            "id",
            "password",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
        ]
        people: list[tuple] = []

        def person(username: str, first: str, last: str) -> int:
            pk = user_ids.take()
            people.append(
                (pk, password, False, username, first, last, f"{username}@example.com", False)
                + (True, self.now)
            )
            return pk

        self.supervisors = [
            person(f"{self.prefix}-sup-{t + 1:04d}", "Supervisor", f"{t + 1:04d}")
            for t in range(n_teams)
        ]
        self.hr = [
            person(f"{self.prefix}-hr-{h + 1}", "HR", f"Scale {h + 1}") for h in range(opts["hr"])
        ]
        self.agent_users = [
            person(
                f"{self.prefix}-agent-{a + 1:06d}",
                FIRST[a % len(FIRST)],
                f"{LAST[(a // len(FIRST)) % len(LAST)]} {a + 1:06d}",
            )
            for a in range(n_agents)
        ]
        copy_rows(User, user_columns, people)
        user_ids.sync()
        team_ids.sync()
        groups = dict(Group.objects.values_list("name", "id"))
        member = User.groups.through
        copy_rows(
            member,
            ["user_id", "group_id"],
            [(u, groups["supervisor"]) for u in self.supervisors]
            + [(u, groups["hr"]) for u in self.hr],
        )
        agent_ids = Ids(Agent)
        per_team = n_agents // n_teams
        self.agents = []  # (pk, employee_id, name, team index, supervisor, user)
        rows = []
        for a, user_id in enumerate(self.agent_users):
            t = min(a // per_team, n_teams - 1)
            pk = agent_ids.take()
            name = f"{FIRST[a % len(FIRST)]} {LAST[(a // len(FIRST)) % len(LAST)]} {a + 1:06d}"
            self.agents.append(
                (pk, f"{self.prefix.upper()}{a + 1:06d}", name, t, self.supervisors[t], user_id)
            )
            rows.append(
                (
                    pk,
                    f"{self.prefix.upper()}{a + 1:06d}",
                    name,
                    f"{name.split()[0].lower()}{a}@example.com",
                )
                + (self.teams[t][0], "Contact Center Agent", self.supervisors[t], user_id)
                + (self.today - dt.timedelta(days=200 + a % 900), True)
            )
        copy_rows(
            Agent,
            ["id", "employee_id", "full_name", "email", "team_id", "job_title", "supervisor_id"]
            + ["user_id", "hired_on", "is_active"],
            rows,
        )
        agent_ids.sync()

    # --- plans -----------------------------------------------------------------------------

    def _plans(self, opts) -> None:
        rng = self.rng
        kpis = {k.code: k for k in Kpi.objects.all()}
        n_plans = opts["plans"]
        step = len(self.agents) / max(n_plans, 1)
        states = [s for s, w in STATE_WEIGHTS for _ in range(w)]
        ids = {m: Ids(m) for m in (Pip, PipVersion, Reason, Expectation, ActionItem)}
        ids.update({m: Ids(m) for m in (ScheduleItem, CheckIn, Review)})
        pips, versions, reasons, expectations, actions = [], [], [], [], []
        schedule, checkins, reviews = [], [], []
        self.plans = []  # (pip pk, version pk, status, agent tuple, issued_at, hr user)
        for p in range(n_plans):
            agent = self.agents[int(p * step)]
            agent_pk, employee_id, name, t, supervisor, _user = agent
            team_pk, team_name, zone = self.teams[t]
            # Spread over the states (37 is prime to their 100 shares), so that a small build
            # has plans in most of them too; the first plan is active and the busiest.
            status = states[(p * 37) % len(states)] if p else Status.ACTIVE
            hr_user = self.hr[p % len(self.hr)]
            length = 30 if p % 3 else 60
            # Running plans started within their period; closed ones earlier; drafts start soon.
            if status in CLOSED or status == Status.CANCELLED:
                start = self.today - dt.timedelta(days=length + 20 + p % 200)
            elif status in ISSUED_ON - {Status.ISSUED}:
                progress = {Status.ACTIVE: 0.3, Status.MIDPOINT: 0.6}.get(status, 0.97)
                start = self.today - dt.timedelta(days=int(length * progress) + p % 5)
            else:
                start = self.today + dt.timedelta(days=1 + p % 7)
            end = start + dt.timedelta(days=length)
            midpoint = start + dt.timedelta(days=length // 2) if length > 30 else None
            created = timezone.make_aware(
                dt.datetime.combine(start - dt.timedelta(days=10), dt.time(9, p % 60))
            )
            issued = status in ISSUED_ON or (status == Status.CANCELLED and p % 2 == 0)
            issued_at = created + dt.timedelta(days=4) if issued else None
            pip_pk, version_pk = ids[Pip].take(), ids[PipVersion].take()
            submitted = status != Status.DRAFT
            approved = status not in (Status.DRAFT, Status.PENDING_HR)
            closed_at = (
                timezone.make_aware(dt.datetime.combine(end, dt.time(15)))
                if status in CLOSED
                else (created + dt.timedelta(days=12) if status == Status.CANCELLED else None)
            )
            pips.append(
                (pip_pk, agent_pk, supervisor, status, version_pk, supervisor, created)
                + (
                    created + dt.timedelta(days=p % 9),
                    created + dt.timedelta(days=1) if submitted else None,
                )
                + (
                    created + dt.timedelta(days=2) if approved else None,
                    hr_user if approved else None,
                )
                + ("", issued_at, start if issued else None)
                + (issued_at + dt.timedelta(days=3) if issued_at else None,)
                + (issued_at + dt.timedelta(days=1) if status in SIGNED_ALL else None, closed_at)
                + (
                    {
                        Status.CLOSED_SUCCESSFUL: "successful",
                        Status.CLOSED_UNSUCCESSFUL: "unsuccessful",
                    }.get(status, ""),
                    "Agreed with the supervisor's findings."
                    if status == Status.CLOSED_UNSUCCESSFUL
                    else "",
                    "Written warning." if status == Status.CLOSED_UNSUCCESSFUL else "",
                    "Agent moved to another role." if status == Status.CANCELLED else "",
                    1 if status == Status.EXTENDED else 0,
                )
            )
            version_state = (
                "issued"
                if issued
                else {Status.DRAFT: "draft", Status.PENDING_HR: "pending_hr"}.get(
                    status, "approved"
                )
            )
            versions.append(
                (version_pk, pip_pk, 1, version_state, name, employee_id, team_name)
                + ("Contact Center Agent", f"Supervisor {t + 1:04d}", start if issued else None)
                + (start, end, "QA scores and CSAT below standard for the last month.")
                + ("weekly", p % 5, "Weekly report of QA scores and CSAT", midpoint, end)
                + (PipVersion._meta.get_field("outcome_success").default,)
                + (PipVersion._meta.get_field("outcome_failure").default,)
                + ("", "", supervisor, created, issued_at)
            )
            for position, (text, code) in enumerate(
                [("QA scores below 85 % for four weeks", "qa_score"), ("CSAT below 80 %", "csat")]
            ):
                reasons.append((ids[Reason].take(), version_pk, text, kpis[code].pk, position))
            for position, (code, comparator, target) in enumerate(
                [("qa_score", "gte", 85.0), ("aht", "lte", 300.0), ("csat", "gte", 80.0)]
            ):
                base = KPI_SHAPE[code][0] + (-6 if comparator == "gte" else 40)
                expectations.append(
                    (ids[Expectation].take(), version_pk, str(self._uuid(p, position)))
                    + (kpis[code].name, kpis[code].pk, comparator, target, round(base, 1))
                    + (start - dt.timedelta(days=30), start - dt.timedelta(days=1), "seed_scale")
                    + ("", "", "Reach the standard", position)
                )
            expectations.append(
                (ids[Expectation].take(), version_pk, str(self._uuid(p, 9)))
                + ("Call wrap-up notes", None, "", None, None, None, None, "")
                + ("Often incomplete", "100 % complete and accurate", "Every call", 3)
            )
            for position, (action, kind, text, sessions) in enumerate(
                [
                    ("Coaching sessions with the team lead", "recurring", "Every Tuesday", True),
                    ("Shadow a top performer", "within", "Within 2 weeks", False),
                    ("Complete the call-handling refresher", "ongoing", "", False),
                ]
            ):
                actions.append(
                    (ids[ActionItem].take(), version_pk, str(self._uuid(p, 20 + position)))
                    + (action, "Supervisor" if position == 0 else "Agent", kind, None)
                    + ([1] if kind == "recurring" else [], text, sessions, "in_progress", position)
                )
            self.plans.append((pip_pk, version_pk, status, agent, issued_at, hr_user, created))
            if status not in ISSUED_ON:
                continue
            version = PipVersion(
                period_start=start,
                period_end=end,
                final_review_date=end,
                midpoint_date=midpoint,
                checkin_cadence="weekly",
                checkin_weekday=p % 5,
            )
            tz = zoneinfo.ZoneInfo(zone)
            dates = [("checkin", d) for d in services.checkin_dates(version)]
            if midpoint:
                dates.append(("midpoint", midpoint))
            dates.append(("final", end))
            for kind, day in dates:
                due_at = dt.datetime.combine(day, dt.time(10), tzinfo=tz).astimezone(dt.UTC)
                past = day < self.today
                done = past and (status in CLOSED or rng.random() > 0.04)
                if status in CLOSED and not done:
                    done = True
                schedule.append(
                    (ids[ScheduleItem].take(), pip_pk, version_pk, kind, day, due_at)
                    + (due_at + dt.timedelta(hours=1) if done else None, None)
                )
                if kind == "checkin" and done:
                    checkins.append(
                        (ids[CheckIn].take(), pip_pk, version_pk, day, day, "held", "")
                        + ("Supervisor, agent", "Went through the week's calls and scores.")
                        + ("Listened to two calls together.", "Keep the checklist open.")
                        + ([], "", "", supervisor, due_at + dt.timedelta(hours=1))
                    )
            if midpoint and (
                status in (Status.MIDPOINT, Status.FINAL, Status.EXTENDED) or status in CLOSED
            ):
                reviews.append(
                    self._review(ids, pip_pk, version_pk, "midpoint", midpoint, "done", supervisor)
                )
            if status in CLOSED:
                reviews.append(
                    self._review(ids, pip_pk, version_pk, "final", end, "done", hr_user, status)
                )
            elif status == Status.FINAL:
                reviews.append(self._review(ids, pip_pk, version_pk, "final", end, "open", None))
        copy_rows(
            Pip,
            ["id", "agent_id", "supervisor_id", "status", "current_version_id", "created_by_id"]
            + ["created_at", "updated_at", "submitted_at", "approved_at", "approved_by_id"]
            + ["hr_comment", "issued_at", "meeting_held_on", "ack_due_at", "activated_at"]
            + ["closed_at", "outcome", "hr_decision", "consequence", "cancel_reason"]
            + ["extension_count"],
            pips,
        )
        copy_rows(
            PipVersion,
            ["id", "pip_id", "number", "state", "employee_name", "employee_id", "department"]
            + ["job_title", "supervisor_name", "issued_on", "period_start", "period_end"]
            + ["description", "checkin_cadence", "checkin_weekday", "monitoring_reports"]
            + ["midpoint_date", "final_review_date", "outcome_success", "outcome_failure"]
            + ["change_summary", "content_sha256", "created_by_id", "created_at", "issued_at"],
            versions,
        )
        copy_rows(Reason, ["id", "version_id", "text", "kpi_id", "position"], reasons)
        copy_rows(
            Expectation,
            ["id", "version_id", "lineage", "area", "kpi_id", "comparator", "target"]
            + ["baseline_value", "baseline_from", "baseline_to", "baseline_source"]
            + ["current_text", "standard_text", "improvement_needed", "position"],
            expectations,
        )
        copy_rows(
            ActionItem,
            ["id", "version_id", "lineage", "action", "responsible", "deadline_kind"]
            + ["deadline_date", "recurrence_weekdays", "deadline_text", "records_sessions"]
            + ["status", "position"],
            actions,
        )
        copy_rows(
            ScheduleItem,
            ["id", "pip_id", "version_id", "kind", "due_on", "due_at", "done_at", "cancelled_at"],
            schedule,
        )
        copy_rows(
            CheckIn,
            ["id", "pip_id", "version_id", "scheduled_for", "held_on", "state", "missed_reason"]
            + ["attendees", "notes", "coaching_done", "next_steps", "kpi_snapshot"]
            + ["snapshot_note", "agent_comment", "recorded_by_id", "created_at"],
            checkins,
        )
        copy_rows(
            Review,
            ["id", "pip_id", "version_id", "kind", "state", "due_on", "opened_at", "held_on"]
            + ["summary", "outcome", "new_end_date", "supervisor_comments", "hr_comments"]
            + ["completed_by_id", "completed_at"],
            reviews,
        )
        for counter in ids.values():
            counter.sync()
        self._hashes_and_signatures()
        self.counts = {
            "plans": len(pips),
            "schedule items": len(schedule),
            "check-ins": len(checkins),
            "reviews": len(reviews),
        }

    def _uuid(self, plan: int, row: int) -> str:
        import uuid

        return str(uuid.UUID(int=(plan << 16) | row | (1 << 120)))

    def _review(self, ids, pip_pk, version_pk, kind, day, state, by, status=None) -> tuple:
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(11)))
        done = state == "done"
        outcome = ""
        if kind == "final" and status is not None:
            outcome = "successful" if status == Status.CLOSED_SUCCESSFUL else "unsuccessful"
        return (
            (ids[Review].take(), pip_pk, version_pk, kind, state, day, at, day if done else None)
            + ("Progress reviewed against each expectation." if done else "", outcome, None)
            + ("Reviewed together." if done else "", "", by if done else None)
            + (at + dt.timedelta(hours=1) if done else None,)
        )

    def _hashes_and_signatures(self) -> None:
        """Each issued version's content hash, by the project's own `content_hash`, and the
        signatures that bind to it."""
        issued = {p[1]: p for p in self.plans if p[4] is not None}
        hashes: dict[int, str] = {}
        keys = sorted(issued)
        for first in range(0, len(keys), 1000):
            chunk = keys[first : first + 1000]
            for version in PipVersion.objects.filter(pk__in=chunk).prefetch_related(
                "reasons__kpi",
                "expectations__kpi",
                Prefetch("actions", queryset=ActionItem.objects.order_by("position", "id")),
            ):
                hashes[version.pk] = content_hash(version)
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE scale_hash (id bigint, sha varchar(64))")
            buffer = io.StringIO("".join(f"{k}\t{v}\n" for k, v in hashes.items()))
            cursor.cursor.copy_expert("COPY scale_hash FROM STDIN", buffer)
            cursor.execute(
                "UPDATE pips_pipversion v SET content_sha256 = h.sha FROM scale_hash h "
                "WHERE v.id = h.id"
            )
            cursor.execute("DROP TABLE scale_hash")
        consent = (
            "I confirm that I have received this plan. Signing confirms receipt, not agreement."
        )
        rows = []
        sig_ids = Ids(Signature)
        for pip_pk, version_pk, status, agent, issued_at, hr_user, _created in issued.values():
            roles = [("manager", agent[4], "Supervisor")]
            if status in SIGNED_ALL:
                roles += [("agent", agent[5], agent[2]), ("hr", hr_user, "HR")]
            elif pip_pk % 2:
                roles += [("agent", agent[5], agent[2])]
            for n, (role, signer, typed) in enumerate(roles):
                rows.append(
                    (sig_ids.take(), version_pk, role, "signed", signer, typed, "", consent)
                    + (None, "", None, issued_at + dt.timedelta(hours=n), "10.0.0.1")
                    + ("seed_scale", hashes[version_pk], "en")
                )
        copy_rows(
            Signature,
            ["id", "version_id", "role", "kind", "signer_id", "typed_name", "image"]
            + ["consent_text", "agrees", "comments", "witness_id", "signed_at", "ip_address"]
            + ["user_agent", "content_sha256", "consent_language"],
            rows,
        )
        sig_ids.sync()

    # --- audit trail -----------------------------------------------------------------------

    def _events(self, opts) -> None:
        rng = self.rng
        ids = Ids(AuditEvent)
        events = []
        steps = {
            Status.DRAFT: ["created"],
            Status.PENDING_HR: ["created", "submitted"],
            Status.APPROVED: ["created", "submitted", "approved"],
        }
        issued_steps = ["created", "submitted", "approved", "issued", "signed"]
        running = issued_steps + ["signed", "signed", "activated", "checkin_recorded"]

        def event(pip_pk, version_pk, actor, action, at, from_s="", to_s="", changes=None):
            events.append(
                (ids.take(), pip_pk, version_pk, actor, action, from_s, to_s, "")
                + (changes or {}, at, "10.0.0.1", "seed_scale")
            )

        busiest = self.plans[0][0] if self.plans else None
        for pip_pk, version_pk, status, agent, _issued_at, hr_user, created in self.plans:
            supervisor, agent_user = agent[4], agent[5]
            if status in steps:
                actions = steps[status]
            elif status == Status.ISSUED:
                actions = issued_steps
            elif status == Status.CANCELLED:
                actions = ["created", "submitted", "approved", "cancelled"]
            else:
                actions = running + ["checkin_recorded"] * 3
                if status not in (Status.ACTIVE,):
                    actions += ["midpoint_recorded"]
                if status in CLOSED:
                    actions += ["closed"]
            for n, action in enumerate(actions):
                actor = hr_user if action in ("approved", "cancelled", "closed") else supervisor
                event(pip_pk, version_pk, actor, action, created + dt.timedelta(hours=n * 7))
            views = (
                opts["big_plan_views"] if pip_pk == busiest else rng.randint(0, 2 * opts["views"])
            )
            who = [supervisor, hr_user] + ([agent_user] if status not in steps else [])
            for n in range(views):
                action = "downloaded" if n % 12 == 11 else "viewed"
                at = created + dt.timedelta(days=1, minutes=17 * n + rng.randint(0, 9))
                event(pip_pk, version_pk, who[n % len(who)], action, at)
        copy_rows(
            AuditEvent,
            ["id", "pip_id", "version_id", "actor_id", "action", "from_status", "to_status"]
            + ["comment", "changes", "at", "ip_address", "user_agent", "prev_hash", "event_hash"],
            _chained(events),
        )
        ids.sync()
        note_ids = Ids(Notification)
        hr_user = self.hr[0]
        notes = [
            (note_ids.take(), hr_user, self.plans[n % len(self.plans)][0] if self.plans else None)
            + (f"Plan {n} needs a look", "/", self.now - dt.timedelta(minutes=n))
            + (None if n % 3 else self.now,)
            for n in range(opts["notifications"])
        ]
        copy_rows(
            Notification, ["id", "user_id", "pip_id", "text", "url", "created_at", "read_at"], notes
        )
        note_ids.sync()
        self.counts.update(events=len(events), notifications=len(notes))
        self.stdout.write(
            "         "
            + ", ".join(f"{v:,} {k}" for k, v in self.counts.items())
            + f"; the busiest plan is {busiest} ({opts['big_plan_views']:,} views)"
        )

    # --- KPI samples -----------------------------------------------------------------------

    def _samples(self, opts) -> None:
        """Daily values of every KPI for every scale agent, generated by PostgreSQL itself
        (deterministic: each value is a function of agent, KPI and day)."""
        days = opts["sample_days"]
        if days <= 0:
            return
        kpis = list(Kpi.objects.values_list("pk", "code", "max_value"))
        first, last = self.agents[0][1], self.agents[-1][1]
        start = self.today - dt.timedelta(days=days)
        total = 0
        with connection.cursor() as cursor:
            for kpi_pk, code, maximum in kpis:
                maximum = maximum if maximum is not None else 1e9
                mean, spread = KPI_SHAPE.get(code, (50.0, 10.0))
                # An agent's own level (a fifth sit clearly below the standard) plus a daily swing.
                cursor.execute(
                    f"INSERT INTO {Sample._meta.db_table} "
                    "(employee_id, kpi_id, date, value, weight, load_id) "
                    "SELECT %s || lpad(a::text, 6, '0'), %s, %s::date + d, "
                    "least(%s, greatest(0, %s + %s * ((((a * 7919) %% 101) / 50.0) - 1.2) "
                    "+ %s * 0.5 * ((((a * 131 + d * 977 + %s) %% 61) / 30.0) - 1))), "
                    "1 + (a + d) %% 40, NULL "
                    "FROM generate_series(%s, %s) a, generate_series(0, %s) d",
                    [
                        self.prefix.upper(),
                        kpi_pk,
                        start,
                        maximum,
                        mean,
                        spread,
                        spread,
                        kpi_pk,
                        int(first[len(self.prefix) :]),
                        int(last[len(self.prefix) :]),
                    ]
                    + [days - 1],
                )
                total += cursor.rowcount
        # Written beside the loader: the weekly totals of those days, in one statement.
        weeks = rollups.rebuild(start, start + dt.timedelta(days=days - 1))
        self.stdout.write(f"         {total:,} samples over {days} days ({weeks:,} weekly totals)")
