"""The reminder sweep: what the schedule says is due, found from the database and told once.

A beat job calls `sweep()` every few minutes. It finds what is due (never "what is exactly today",
so a missed run is caught up by the next one) and records one Reminder per plan, kind, due date
and recipient:

- a day before each scheduled meeting (check-in, midpoint or final review) the supervisor and
  the agent are reminded, with the week's QA and CSAT against the plan's targets and an
  iCalendar invitation;
- an acknowledgment not signed by its deadline reminds the agent, and a working day later is
  escalated to the supervisor and HR; a missing HR countersignature reminds HR;
- a draft waiting for HR for more than two working days reminds HR;
- a check-in or review two working days overdue is escalated to HR.

On the day of the midpoint and the final review the review is opened: the sweep names the
schedule items, and the `open_review` task calls services.review_open for each (idempotent);
the audit event's handler then tells the supervisor and HR.

Claiming is what makes it safe to run twice, or twice at once. Reminders are inserted with
ON CONFLICT DO NOTHING RETURNING id against the unique (pip, kind, due_on, recipient), so only
the run that inserted a row claims it. The claimed rows are sent by `send_claimed` tasks, in
chunks (each person's rows side by side, sent to them as one digest e-mail), and each row's
sent_at is set by a conditional UPDATE as soon as its e-mail is out (a worker killed mid-batch
sends at most that one e-mail again). The start of a row's current claim is its created_at: a
send task takes only rows still under the claim it was given, and a row
left unsent by a task that died is claimed again by a later sweep once the lease has passed,
by a conditional UPDATE that only one run can win. The sweep runs a fixed number of queries
whatever the number of plans: every read is one batched query, the KPI numbers one aggregate
query per chunk sent. The meeting reminders (nearly all of them at the day's peak) are found and
inserted by one INSERT … SELECT inside the database; the rest, which need working days in the
team's zone, are worked out here from rows read in batches, and what a plan has already is not
offered again.

One e-mail per person per hour. A send task looks up, in one query, who of its recipients had a
reminder e-mail less than PIP_REMINDER_DIGEST_MINUTES ago. Their reminders are not e-mailed:
in one transaction each is put in the app's notification list (notified_at) and held until that
hour is over (held_until), still under the task's claim, so a duplicate task finds nothing.
Held rows are not abandoned claims: `reclaim` leaves them, and the first sweep after the hour
`release`s all of that person's held rows (a conditional UPDATE, claimed like new ones), to go
out with whatever else that sweep has for them as one digest, marked sent as it goes out; a
task that dies then is reclaimed after the lease as before. No reminder is urgent enough to skip
the wait: meeting reminders go out a day ahead, and escalations, signatures and approvals are
already working days late; the in-app entry is immediate in every case. The hour is not held
against two send tasks e-mailing one person at the same moment (a person's reminders of one
sweep are in one chunk; two sweeps' tasks for one person would have to run side by side).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.postgres.expressions import ArraySubquery
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import CharField, Exists, F, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import dateformat, timezone, translation
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metrics.models import Kpi
from metrics.queries import windows_for
from pips import languages
from pips.audit import AuditAction
from pips.models import (
    RUNNING_STATUSES,
    AuditEvent,
    Comparator,
    Expectation,
    Notification,
    Pip,
    PipVersion,
    Reminder,
    Review,
    ScheduleItem,
    Signature,
    SignerRole,
    Status,
    VersionState,
)
from pips.notifications import emails
from pips.notifications.handlers import HANDLERS
from pips.notifications.meetings import (
    MEETINGS,
    display_name,
    email_of,
    local_date,
    meeting_invitation,
    plan_url,
    relative_day,
    team_zone,
    when_text,
    working_days_after,
)
from pips.roles import HR
from pipsystem import ics

logger = logging.getLogger(__name__)

# Meeting reminders go out this long before the meeting.
MEETING_LEAD = dt.timedelta(days=1)
OVERDUE_WORKING_DAYS = 2
ACK_ESCALATION_WORKING_DAYS = 1
APPROVAL_WORKING_DAYS = 2
# A reminder claimed longer ago than this and still unsent was abandoned by a task that died;
# twice the hard time limit, so a task still running is never overtaken (10 minutes by default).
LEASE = dt.timedelta(seconds=2 * getattr(settings, "CELERY_TASK_TIME_LIMIT", 300))
# Reminders for things more than a week past are no longer worth sending after a failure.
GIVE_UP_AFTER = dt.timedelta(days=7)
# Audit events whose notification task never ran (the broker was down at commit) are delivered
# by the sweep once they are this old, and for this long.
EVENT_GRACE = dt.timedelta(minutes=5)
EVENT_HORIZON = dt.timedelta(days=2)
# Claimed reminders are sent by tasks of this many, so no task runs long and workers share them.
SEND_CHUNK = 50
# The sweep reads the meetings and plans it looks at in batches of this many rows.
STREAM_ROWS = 2000
# The numbers a meeting reminder carries: the week before it, against the plan's targets.
REMINDER_KPIS = ("qa_score", "csat")
KPI_WINDOW_DAYS = 7

REVIEW_KINDS = (ScheduleItem.Kind.MIDPOINT, ScheduleItem.Kind.FINAL)


class Kind:
    """Reminder kinds, as stored in Reminder.kind."""

    ACK = "ack_reminder"
    ACK_ESCALATION = "ack_escalation"
    COUNTERSIGN = "countersign_reminder"
    APPROVAL = "approval_reminder"
    # An amendment in force that the employee has not signed yet, and one waiting for HR.
    AMENDMENT_ACK = "amendment_ack_reminder"
    AMENDMENT_APPROVAL = "amendment_approval_reminder"

    @staticmethod
    def meeting(item_kind: str) -> str:
        return f"{item_kind}_reminder"

    @staticmethod
    def overdue(item_kind: str) -> str:
        return f"{item_kind}_overdue"


MEETING_REMINDER_KINDS = {Kind.meeting(k): k for k in MEETINGS}
OVERDUE_KINDS = {Kind.overdue(k): k for k in MEETINGS}


@dataclass(frozen=True)
class Want:
    """A reminder the schedule calls for: the unique key of a Reminder row."""

    pip_id: int
    kind: str
    due_on: dt.date
    recipient_id: int


@dataclass
class SweepReport:
    """What one sweep found: the reminders it claimed (to be sent in chunks by send_claimed),
    the reviews to open and the audit events to deliver."""

    claimed_at: dt.datetime
    recorded: int = 0
    reclaimed: int = 0
    # Held reminders whose hold is over, to go out as a digest.
    released: int = 0
    to_send: list[int] = field(default_factory=list)
    reviews_to_open: list[int] = field(default_factory=list)
    events_to_deliver: list[int] = field(default_factory=list)
    # The recipient of each reminder in to_send (to_send is in recipient order).
    recipients: list[int] = field(default_factory=list)

    def claim(self, rows: Iterable[tuple[int, int]]) -> None:
        """Set to_send from (id, recipient) rows: each person's reminders side by side."""
        rows = sorted(rows, key=lambda row: (row[1], row[0]))
        self.to_send = [pk for pk, _ in rows]
        self.recipients = [recipient for _, recipient in rows]

    def chunks(self, size: int = SEND_CHUNK) -> list[list[int]]:
        """The reminders in chunks of about `size`, never splitting one person's: what one
        send task gets, and each person's come in one e-mail."""
        if len(self.recipients) != len(self.to_send):
            return [self.to_send[i : i + size] for i in range(0, len(self.to_send), size)]
        chunks: list[list[int]] = []
        chunk: list[int] = []
        previous = None
        for pk, recipient in zip(self.to_send, self.recipients, strict=True):
            if len(chunk) >= size and recipient != previous:
                chunks.append(chunk)
                chunk = []
            chunk.append(pk)
            previous = recipient
        if chunk:
            chunks.append(chunk)
        return chunks

    def as_dict(self) -> dict:
        return {
            "recorded": self.recorded,
            "reclaimed": self.reclaimed,
            "released": self.released,
            "reviews_to_open": len(self.reviews_to_open),
            "events_to_deliver": len(self.events_to_deliver),
        }


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    # Claimed again by a later sweep (this claim had lapsed) or already sent.
    skipped: int = 0
    # In the app now, their e-mail held for the recipient's next digest.
    held: int = 0

    def as_dict(self) -> dict:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "held": self.held,
        }


# --- finding what is due -----------------------------------------------------------------------


class _HrIds:
    """The ids of all active HR users, loaded once per sweep and only if someone needs them."""

    def __init__(self) -> None:
        self._ids: list[int] | None = None

    def all(self) -> list[int]:
        if self._ids is None:
            self._ids = list(
                get_user_model()
                .objects.filter(groups__name=HR, is_active=True)
                .distinct()
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        return self._ids

    def for_plan(self, row: dict) -> list[int]:
        """The plan's HR: whoever approved it, or every HR user when no one has yet."""
        if row["approved_by_id"] and row["approved_by_active"]:
            return [row["approved_by_id"]]
        return [pk for pk in self.all() if pk != row["supervisor_id"]]


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name or "UTC")


# The columns due_work reads of a plan, as plain values (a sweep over 50,000 plans builds no
# model objects).
_PLAN_COLUMNS = {
    "supervisor_id": F("supervisor_id"),
    "approved_by_id": F("approved_by_id"),
    "approved_by_active": F("approved_by__is_active"),
    "agent_user_id": F("agent__user_id"),
    "zone": F("agent__team__timezone"),
}


def _meeting_reminders(now: dt.datetime) -> tuple[str, list]:
    """The SQL (and its parameters) of the meeting reminders due at `now` and not recorded
    yet, as rows (pip_id, kind, due_on, recipient_id): a day before each meeting of a running
    plan that is not done, one to the supervisor and one to the agent. It runs inside the
    database (INSERT … SELECT in `record_meetings`): at the day's peak these are nearly all the
    reminders, and none of them travels through Python."""
    reminded = Reminder.objects.filter(
        pip_id=OuterRef("pip_id"),
        due_on=OuterRef("due_on"),
        kind__in=sorted(MEETING_REMINDER_KINDS),
    )
    items = (
        ScheduleItem.objects.filter(
            done_at__isnull=True,
            cancelled_at__isnull=True,
            due_at__gt=now,
            due_at__lte=now + MEETING_LEAD,
            pip__status__in=RUNNING_STATUSES,
        )
        .filter(~Exists(reminded))
        .order_by()
        .values(
            m_pip=F("pip_id"),
            m_kind=F("kind"),
            m_due_on=F("due_on"),
            m_supervisor=F("pip__supervisor_id"),
            m_agent=F("pip__agent__user_id"),
        )
    )
    sql, params = items.query.sql_with_params()
    suffix = Kind.meeting("")
    return (
        f"WITH m AS ({sql}) "
        "SELECT m_pip AS pip_id, m_kind || %s AS kind, m_due_on AS due_on, "
        "m_supervisor AS recipient_id FROM m WHERE m_supervisor IS NOT NULL "
        "UNION ALL SELECT m_pip, m_kind || %s, m_due_on, m_agent FROM m WHERE m_agent IS NOT NULL",
        [*params, suffix, suffix],
    )


def _pending_items(now: dt.datetime) -> Iterator[dict]:
    """Every meeting of a running plan that is not done, is past or due within a day, and still
    calls for something here: its escalation not recorded yet once it may be overdue (n
    working days are at least n days), or its review not opened (its reminders are found by
    `_meeting_reminders`). What was recorded before is not read again, nor offered to the
    database again. Streamed: a sweep over 50,000 plans does not hold every row at once."""
    current_review = Review.objects.filter(
        pip_id=OuterRef("pip_id"),
        kind=OuterRef("kind"),
        version_id=OuterRef("pip__current_version"),
    )
    midpoint_done = Review.objects.filter(
        pip_id=OuterRef("pip_id"), kind=Review.Kind.MIDPOINT, state=Review.State.DONE
    )
    recorded = Reminder.objects.filter(pip_id=OuterRef("pip_id"), due_on=OuterRef("due_on"))
    escalated = recorded.filter(kind__in=sorted(OVERDUE_KINDS))
    may_be_overdue = now - dt.timedelta(days=OVERDUE_WORKING_DAYS)
    return (
        ScheduleItem.objects.filter(
            done_at__isnull=True,
            cancelled_at__isnull=True,
            due_at__lte=now + MEETING_LEAD,
            pip__status__in=RUNNING_STATUSES,
        )
        .filter(
            (Q(due_at__lte=may_be_overdue) & ~Exists(escalated))
            | (Q(kind__in=REVIEW_KINDS) & ~Exists(current_review))
        )
        .annotate(
            review_exists=Exists(current_review),
            escalated=Exists(escalated),
            midpoint_done=Exists(midpoint_done),
            status=F("pip__status"),
            midpoint_date=F("pip__current_version__midpoint_date"),
            **{k: F(f"pip__{v.name}") for k, v in _PLAN_COLUMNS.items()},
        )
        .order_by("due_at", "pk")
        .values(
            "pk",
            "pip_id",
            "kind",
            "due_on",
            "due_at",
            "review_exists",
            "escalated",
            "midpoint_done",
            "status",
            "midpoint_date",
            *_PLAN_COLUMNS,
        )
        .iterator(chunk_size=STREAM_ROWS)
    )


def _waiting_plans(now: dt.datetime) -> Iterator[dict]:
    """Plans waiting for someone: a signature past its deadline, or HR's decision on a draft,
    and the same for an amendment of a running plan. The date filters are coarse (n working
    days are at least n days); due_work applies the working days in the team's zone. Only
    plans with an amendment (a version after the first) are looked at for the amendment
    steps, so the sweep does not read the audit trail of every running plan."""
    agent_signed = Signature.objects.filter(
        version_id=OuterRef("current_version_id"), role=SignerRole.AGENT
    )
    amendment_submitted = (
        AuditEvent.objects.filter(
            pip_id=OuterRef("pk"),
            action=AuditAction.AMENDMENT_SUBMITTED,
            version__state=VersionState.PENDING_HR,
        )
        .order_by("-at")
        .values("at")[:1]
    )
    # The employee signs an amended version after the manager has (at the meeting about it).
    manager_signed = Signature.objects.filter(
        version_id=OuterRef("current_version_id"), role=SignerRole.MANAGER
    ).values("signed_at")[:1]
    running = sorted(RUNNING_STATUSES)
    amended = PipVersion.objects.filter(number__gt=1).values("pip_id")
    extra = {}
    if connection.vendor == "postgresql":
        # The reminders each plan has already, so due_work offers none of them again (a plan
        # waits for a signature for days: without this, every sweep offered them all again).
        extra["recorded"] = ArraySubquery(
            Reminder.objects.filter(pip_id=OuterRef("pk")).values(
                key=Concat(
                    "kind",
                    Value("|"),
                    Cast("due_on", CharField()),
                    Value("|"),
                    Cast("recipient_id", CharField()),
                    output_field=CharField(),
                )
            )
        )
    return (
        Pip.objects.filter(
            Q(status=Status.ISSUED, ack_due_at__lte=now)
            | Q(
                status=Status.PENDING_HR,
                submitted_at__lte=now - dt.timedelta(days=APPROVAL_WORKING_DAYS),
            )
            | Q(status__in=running, pk__in=amended)
        )
        .annotate(
            agent_signed=Exists(agent_signed),
            amendment_submitted_at=Subquery(amendment_submitted),
            manager_signed_at=Subquery(manager_signed),
            version_number=F("current_version__number"),
            # supervisor_id and approved_by_id are the plan's own columns.
            **{k: v for k, v in _PLAN_COLUMNS.items() if not hasattr(Pip, k)},
            **extra,
        )
        .filter(
            Q(status__in=[Status.ISSUED, Status.PENDING_HR])
            | Q(amendment_submitted_at__lte=now - dt.timedelta(days=APPROVAL_WORKING_DAYS))
            | Q(
                agent_signed=False,
                version_number__gt=1,
                manager_signed_at__lte=now
                - dt.timedelta(days=settings.PIP_ACK_DEADLINE_WORKING_DAYS),
            )
        )
        # A plan paused for leave is reminded of nothing until it resumes.
        .filter(paused_since__isnull=True)
        .order_by("pk")
        .values(
            "pk",
            "status",
            "ack_due_at",
            "submitted_at",
            "agent_signed",
            "amendment_submitted_at",
            "manager_signed_at",
            "version_number",
            *_PLAN_COLUMNS,
            *extra,
        )
        .iterator(chunk_size=STREAM_ROWS)
    )


def _review_due(item: dict, now: dt.datetime, zone: dt.tzinfo) -> bool:
    """A review opens on its day in the team's zone, once, when the plan's state allows it."""
    if item["kind"] not in REVIEW_KINDS or item["review_exists"]:
        return False
    if local_date(now, zone) < item["due_on"]:
        return False
    status = item["status"]
    if item["kind"] == ScheduleItem.Kind.MIDPOINT:
        return status == Status.ACTIVE
    has_midpoint = bool(item["midpoint_date"])
    return status in (Status.ACTIVE, Status.MIDPOINT, Status.EXTENDED) and (
        item["midpoint_done"] or not has_midpoint
    )


def due_work(now: dt.datetime, *, meetings: bool = True) -> tuple[list[Want], list[int]]:
    """What the schedule calls for at `now` and is not recorded yet: the reminders, and the
    schedule items whose review should be opened. Without `meetings`, the meeting reminders
    are left out: the sweep records those inside the database (`record_meetings`)."""
    hr = _HrIds()
    wanted: list[Want] = []
    reviews: list[int] = []
    if meetings:
        with connection.cursor() as cursor:
            cursor.execute(*_meeting_reminders(now))
            wanted += [Want(*row) for row in cursor.fetchall()]

    # "kind|due_on|recipient" of the reminders the plan at hand has already.
    recorded: set[str] = set()

    def want(pip_id: int, kind: str, due_on: dt.date, users: Iterable[int | None]) -> None:
        for user_id in users:
            if user_id is not None and f"{kind}|{due_on.isoformat()}|{user_id}" not in recorded:
                wanted.append(Want(pip_id, kind, due_on, user_id))

    for item in _pending_items(now):
        zone = _zone(item["zone"])
        if _review_due(item, now, zone):
            reviews.append(item["pk"])
        if not item["escalated"] and now >= working_days_after(
            item["due_at"], OVERDUE_WORKING_DAYS, zone
        ):
            want(item["pip_id"], Kind.overdue(item["kind"]), item["due_on"], hr.for_plan(item))

    for pip in _waiting_plans(now):
        zone = _zone(pip["zone"])
        pk = pip["pk"]
        recorded.clear()
        recorded.update(pip.get("recorded") or ())
        if pip["status"] == Status.ISSUED:
            due_on = local_date(pip["ack_due_at"], zone)
            if pip["agent_signed"]:
                want(pk, Kind.COUNTERSIGN, due_on, hr.for_plan(pip))
                continue
            want(pk, Kind.ACK, due_on, [pip["agent_user_id"]])
            escalate_at = working_days_after(pip["ack_due_at"], ACK_ESCALATION_WORKING_DAYS, zone)
            if now >= escalate_at:
                want(pk, Kind.ACK_ESCALATION, due_on, [pip["supervisor_id"], *hr.for_plan(pip)])
        elif pip["status"] == Status.PENDING_HR:
            deadline = working_days_after(pip["submitted_at"], APPROVAL_WORKING_DAYS, zone)
            if now >= deadline:
                others = [u for u in hr.all() if u != pip["supervisor_id"]]
                want(pk, Kind.APPROVAL, local_date(deadline, zone), others)
        else:  # a running plan with an amendment waiting for HR, or for the employee
            if pip["amendment_submitted_at"]:
                deadline = working_days_after(
                    pip["amendment_submitted_at"], APPROVAL_WORKING_DAYS, zone
                )
                if now >= deadline:
                    want(pk, Kind.AMENDMENT_APPROVAL, local_date(deadline, zone), hr.for_plan(pip))
            if pip["version_number"] > 1 and not pip["agent_signed"] and pip["manager_signed_at"]:
                due = working_days_after(
                    pip["manager_signed_at"], settings.PIP_ACK_DEADLINE_WORKING_DAYS, zone
                )
                if now >= due:
                    want(pk, Kind.AMENDMENT_ACK, local_date(due, zone), [pip["agent_user_id"]])
    return list(dict.fromkeys(wanted)), reviews


# --- claiming ----------------------------------------------------------------------------------


_COLUMNS = "(pip_id, kind, due_on, recipient_id, created_at)"
_CONFLICT = "ON CONFLICT (pip_id, kind, due_on, recipient_id) DO NOTHING RETURNING id, recipient_id"


def record(wanted: list[Want], now: dt.datetime) -> list[int]:
    """Insert the wanted reminders; return the ids of the rows this call inserted. A row that
    already exists (recorded by an earlier run, or by a concurrent one) is not returned, so
    only one run ever sends it."""
    return [pk for pk, _ in _insert(wanted, now)]


def record_due(wanted: list[Want], now: dt.datetime) -> list[tuple[int, int]]:
    """Record the meeting reminders due at `now`, found inside the database, and the `wanted`
    ones due_work found; return (id, recipient) of the rows this call inserted, as `record`
    does. On PostgreSQL one INSERT … SELECT does it all, the wanted rows joining as arrays."""
    table = connection.ops.quote_name(Reminder._meta.db_table)
    select, params = _meeting_reminders(now)
    rest = wanted
    if wanted and connection.vendor == "postgresql":
        select += (
            " UNION ALL SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::date[], %s::bigint[])"
        )
        params = [
            *params,
            [w.pip_id for w in wanted],
            [w.kind for w in wanted],
            [w.due_on for w in wanted],
            [w.recipient_id for w in wanted],
        ]
        rest = []
    created = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        if not wanted:
            # Asked first (it stops at the first row): most sweeps have nothing new, and so
            # run no INSERT.
            cursor.execute(f"SELECT EXISTS ({select})", params)
            if not cursor.fetchone()[0]:
                return []
        cursor.execute(
            f"INSERT INTO {table} {_COLUMNS} SELECT w.pip_id, w.kind, w.due_on, w.recipient_id, "
            f"%s FROM ({select}) AS w WHERE TRUE {_CONFLICT}",
            [created, *params],
        )
        rows = [(pk, recipient) for pk, recipient in cursor.fetchall()]
    return rows + _insert(rest, now)


def _insert(wanted: list[Want], now: dt.datetime) -> list[tuple[int, int]]:
    if not wanted:
        return []
    table = connection.ops.quote_name(Reminder._meta.db_table)
    created = connection.ops.adapt_datetimefield_value(now)
    columns, conflict = _COLUMNS, _CONFLICT
    ids: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement however many rows: the columns travel as arrays.
            cursor.execute(
                f"INSERT INTO {table} {columns} "
                "SELECT w.pip_id, w.kind, w.due_on, w.recipient_id, %s FROM "
                "unnest(%s::bigint[], %s::varchar[], %s::date[], %s::bigint[]) "
                f"AS w(pip_id, kind, due_on, recipient_id) {conflict}",
                [
                    created,
                    [w.pip_id for w in wanted],
                    [w.kind for w in wanted],
                    [w.due_on for w in wanted],
                    [w.recipient_id for w in wanted],
                ],
            )
            return [(pk, recipient) for pk, recipient in cursor.fetchall()]
        for first in range(0, len(wanted), 500):
            chunk = wanted[first : first + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            params: list = []
            for w in chunk:
                params += [
                    w.pip_id,
                    w.kind,
                    connection.ops.adapt_datefield_value(w.due_on),
                    w.recipient_id,
                    created,
                ]
            cursor.execute(f"INSERT INTO {table} {columns} VALUES {values} {conflict}", params)
            ids += [(pk, recipient) for pk, recipient in cursor.fetchall()]
    return ids


def reclaim(now: dt.datetime) -> list[tuple[int, int]]:
    """Reminders claimed but left unsent by a run that died: claimed again by moving their
    created_at (the start of the current claim) to now. Of two runs at once, only one matches.
    Held reminders are not abandoned: `release` takes them. Returns (id, recipient) of each."""
    stamp = connection.ops.adapt_datetimefield_value
    return _update_returning(
        "created_at = %s",
        "sent_at IS NULL AND held_until IS NULL AND created_at < %s AND due_on >= %s",
        [
            stamp(now),
            stamp(now - LEASE),
            connection.ops.adapt_datefield_value((now - GIVE_UP_AFTER).date()),
        ],
    )


def release(now: dt.datetime) -> list[tuple[int, int]]:
    """The held reminders of each person whose hold is over: all of that person's, so they go
    out as one digest, claimed (created_at = now) and no longer held, by a conditional UPDATE
    that only one run can win. If the send task dies, `reclaim` takes them after the lease.
    Returns (id, recipient) of each."""
    stamp = connection.ops.adapt_datetimefield_value(now)
    table = connection.ops.quote_name(Reminder._meta.db_table)
    return _update_returning(
        "created_at = %s, held_until = NULL",
        "sent_at IS NULL AND held_until IS NOT NULL AND recipient_id IN "
        f"(SELECT recipient_id FROM {table} WHERE sent_at IS NULL AND held_until <= %s)",
        [stamp, stamp],
    )


# --- what each reminder says -------------------------------------------------------------------


@dataclass(frozen=True)
class KpiLine:
    name: str
    value: str
    target: str
    met: bool | None


@dataclass
class Outgoing:
    """One reminder as it goes out: an e-mail from templates and an in-app notification."""

    template: str
    to: str
    context: dict
    text: str
    url: str
    meeting: ics.Meeting | None = None


def reminder_window(due_on: dt.date) -> tuple[dt.date, dt.date]:
    """The seven days before the reminder's day (the day before the meeting)."""
    end = due_on - dt.timedelta(days=2)
    return end - dt.timedelta(days=KPI_WINDOW_DAYS - 1), end


def week_numbers(pairs: Iterable[tuple[Pip, dt.date]]) -> dict[tuple[int, dt.date], list[KpiLine]]:
    """QA and CSAT for each (plan, meeting date) over the week before the reminder, against the
    plan's targets, for every plan in one aggregate query (metrics.queries.windows_for)."""
    pairs = list(dict.fromkeys((pip, due_on) for pip, due_on in pairs))
    if not pairs:
        return {}
    kpis = list(Kpi.objects.filter(code__in=REMINDER_KPIS).order_by("sort_order", "code"))
    if not kpis:
        return {}
    kpi_ids = [k.pk for k in kpis]
    targets: dict[tuple[int, int], tuple[str, float]] = {}
    rows = (
        Expectation.objects.filter(
            version_id__in={pip.current_version_id for pip, _ in pairs}, kpi_id__in=kpi_ids
        )
        .order_by("-position", "-pk")
        .values_list("version_id", "kpi_id", "comparator", "target")
    )
    for version_id, kpi_id, comparator, target in rows:
        targets[(version_id, kpi_id)] = (comparator, target)  # the first row wins
    windows = {(pip.pk, due_on): reminder_window(due_on) for pip, due_on in pairs}
    figures = windows_for(
        windows=[(pip.agent.employee_id, *windows[(pip.pk, due_on)]) for pip, due_on in pairs],
        kpis=kpis,
    )
    result = {}
    for pip, due_on in pairs:
        numbers = figures[(pip.agent.employee_id, *windows[(pip.pk, due_on)])]
        lines = []
        for kpi in kpis:
            value = numbers[kpi.code].value
            comparator, target = targets.get((pip.current_version_id, kpi.pk), ("", None))
            met = None
            if value is not None and target is not None:
                met = value >= target if comparator == Comparator.GTE else value <= target
            # Lazy: each reminder is written in its reader's language (numbers included).
            shown = lazy(kpi.format_value, str)
            lines.append(
                KpiLine(
                    # Kpi.display_name, lazily: the shipped KPIs in the reader's language.
                    name=gettext_lazy(kpi.name),
                    value=shown(value) if value is not None else gettext_lazy("no data"),
                    target=format_lazy("{} {}", Comparator(comparator).label, shown(target))
                    if target is not None
                    else gettext_lazy("no target in this plan"),
                    met=met,
                )
            )
        result[(pip.pk, due_on)] = lines
    return result


def _outgoing(
    reminder: Reminder,
    item: ScheduleItem | None,
    numbers: dict[tuple[int, dt.date], list[KpiLine]],
) -> Outgoing:
    pip = reminder.pip
    user = reminder.recipient
    zone = team_zone(pip)
    url = plan_url(pip)
    base = {
        "pip": pip,
        "recipient_name": pip.agent.full_name
        if pip.agent.user_id == user.pk
        else display_name(user),
        "agent_name": pip.agent.full_name,
        "supervisor_name": display_name(pip.supervisor),
        "due_on": reminder.due_on,
        "url": emails.absolute(url),
    }
    kind = reminder.kind
    due = dateformat.format(reminder.due_on, "d M Y")  # in the reader's language
    if kind in MEETING_REMINDER_KINDS:
        label = MEETINGS[item.kind][0]
        is_agent = pip.agent.user_id == user.pk
        start, end = reminder_window(reminder.due_on)
        when = when_text(item.due_at, zone)
        day = relative_day(item.due_at, zone)
        text = (
            _("Your %(meeting)s with %(person)s is %(day)s: %(when)s.")
            % {"meeting": label, "person": display_name(pip.supervisor), "day": day, "when": when}
            if is_agent
            else _("Your %(meeting)s with %(person)s (%(reference)s) is %(day)s: %(when)s.")
            % {
                "meeting": label,
                "person": pip.agent.full_name,
                "reference": pip.reference,
                "day": day,
                "when": when,
            }
        )
        return Outgoing(
            template="reminder-meeting",
            to=email_of(user, pip),
            context={
                **base,
                "is_agent": is_agent,
                "meeting": label,
                "when": when,
                "day": day,
                "kpi_lines": numbers.get((pip.pk, reminder.due_on), []),
                # Formatted here, not with the date filter: these go out by the thousand.
                "window": _("%(start)s to %(end)s")
                % {
                    "start": dateformat.format(start, "d M"),
                    "end": dateformat.format(end, "d M Y"),
                },
            },
            text=text,
            url=url,
            meeting=meeting_invitation(item, pip),
        )
    if kind in OVERDUE_KINDS:
        label = MEETINGS[OVERDUE_KINDS[kind]][0]
        return Outgoing(
            template="escalation-overdue",
            to=user.email,
            context={
                **base,
                "meeting": label,
                "when": when_text(item.due_at, zone) if item else due,
            },
            text=_(
                "The %(meeting)s of %(date)s for %(agent)s (%(reference)s) is two working days "
                "overdue."
            )
            % {
                "meeting": label,
                "date": due,
                "agent": pip.agent.full_name,
                "reference": pip.reference,
            },
            url=url,
        )
    if kind == Kind.ACK:
        return Outgoing(
            template="reminder-ack",
            to=email_of(user, pip),
            context=base,
            text=_(
                "Please read and sign your plan %(reference)s: the acknowledgment was due on "
                "%(date)s."
            )
            % {"reference": pip.reference, "date": due},
            url=plan_url(pip, "pips:sign"),
        )
    if kind == Kind.AMENDMENT_ACK:
        number = pip.current_version.number
        sign_url = plan_url(pip, "pips:sign")
        return Outgoing(
            template="reminder-ack",
            to=email_of(user, pip),
            context={**base, "amendment": number, "url": emails.absolute(sign_url)},
            text=_(
                "Please read and sign version %(number)s of your plan %(reference)s, which was "
                "amended: the acknowledgment was due on %(date)s."
            )
            % {"number": number, "reference": pip.reference, "date": due},
            url=sign_url,
        )
    if kind == Kind.AMENDMENT_APPROVAL:
        review_url = plan_url(pip, "pips:amendment")
        return Outgoing(
            template="reminder-approval",
            to=user.email,
            context={**base, "amendment": True, "url": emails.absolute(review_url)},
            text=_(
                "An amendment to %(reference)s for %(agent)s has been waiting for HR approval for "
                "more than two working days."
            )
            % {"reference": pip.reference, "agent": pip.agent.full_name},
            url=review_url,
        )
    if kind == Kind.ACK_ESCALATION:
        return Outgoing(
            template="escalation-ack",
            to=user.email,
            context=base,
            text=_(
                "%(agent)s has not signed %(reference)s; the acknowledgment was due on %(date)s."
            )
            % {"agent": pip.agent.full_name, "reference": pip.reference, "date": due},
            url=url,
        )
    if kind == Kind.COUNTERSIGN:
        return Outgoing(
            template="reminder-countersign",
            to=user.email,
            context=base,
            text=_("%(reference)s for %(agent)s is waiting for HR's countersignature.")
            % {"reference": pip.reference, "agent": pip.agent.full_name},
            url=plan_url(pip, "pips:sign"),
        )
    if kind == Kind.APPROVAL:
        submitted = pip.submitted_at.astimezone(zone) if pip.submitted_at else None
        return Outgoing(
            template="reminder-approval",
            to=user.email,
            context={**base, "submitted_at": submitted},
            text=_("%(reference)s for %(agent)s has been waiting for HR approval since %(date)s.")
            % {
                "reference": pip.reference,
                "agent": pip.agent.full_name,
                "date": dateformat.format(submitted, "d M Y"),
            }
            if submitted
            else _("%(reference)s awaits HR.") % {"reference": pip.reference},
            url=plan_url(pip, "pips:hr_review"),
        )
    raise ValueError(f"Unknown reminder kind {kind!r}")


# --- sending -----------------------------------------------------------------------------------


def _update_returning(set_sql: str, where_sql: str, params: list) -> list[tuple[int, int]]:
    table = connection.ops.quote_name(Reminder._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {set_sql} WHERE {where_sql} RETURNING id, recipient_id", params
        )
        return [(pk, recipient) for pk, recipient in cursor.fetchall()]


def take(ids: list[int], claimed_at: dt.datetime, now: dt.datetime) -> list[int]:
    """Take the reminders that are still under the claim made at `claimed_at`, renewing it to
    `now`. A claim that lapsed and was taken again by a later sweep is not ours any more."""
    if not ids:
        return []
    stamp = connection.ops.adapt_datetimefield_value
    placeholders = ", ".join(["%s"] * len(ids))
    taken = _update_returning(
        "created_at = %s",
        f"id IN ({placeholders}) AND sent_at IS NULL AND held_until IS NULL AND created_at = %s",
        [stamp(now), *ids, stamp(claimed_at)],
    )
    return [pk for pk, _ in taken]


def digest_groups(
    built: list[tuple[Reminder, Outgoing]],
) -> list[list[tuple[Reminder, Outgoing]]]:
    """The reminders of one send, grouped by the address they go to, in the order of each
    address's first reminder: one e-mail per person, however many reminders and escalations a
    sweep has for them (a digest when there are several)."""
    groups: dict[str, list[tuple[Reminder, Outgoing]]] = {}
    for reminder, out in built:
        groups.setdefault(out.to.strip().lower(), []).append((reminder, out))
    return list(groups.values())


def _send_group(group: list[tuple[Reminder, Outgoing]], mail) -> None:
    if len(group) == 1:
        _, out = group[0]
        attachments = [ics.attachment([out.meeting])] if out.meeting else []
        emails.send(
            out.template,
            [out.to],
            out.context,
            attachments=attachments,
            connection=mail,
            language=languages.language_of(group[0][0].recipient),
        )
        return
    reminder, first = group[0]
    meetings = [out.meeting for _, out in group if out.meeting]
    emails.send(
        "reminder-digest",
        [first.to],
        {
            "recipient_name": display_name(reminder.recipient),
            "items": [
                {"text": out.text, "url": emails.absolute(out.url), "pip": r.pip}
                for r, out in group
            ],
            "overdue": sum(r.kind in OVERDUE_KINDS or "escalation" in r.kind for r, _ in group),
        },
        attachments=[ics.attachment(meetings)] if meetings else [],
        connection=mail,
        language=languages.language_of(reminder.recipient),
    )


def send_claimed(ids: list[int], claimed_at: dt.datetime) -> SendReport:
    """Send reminders a sweep claimed: one e-mail per person (with the meetings' invitations;
    a digest when there are several) and one in-app notification each, each marked sent as
    soon as it is out. A person who had a reminder e-mail less than
    PIP_REMINDER_DIGEST_MINUTES ago gets the notifications now and the e-mail later, as a
    digest (`release`). A reminder that fails is logged and left unsent, to be claimed again
    by a sweep after the lease."""
    report = SendReport()
    taken_at = timezone.now()
    mine = take(ids, claimed_at, taken_at)
    report.skipped = len(ids) - len(mine)
    if not mine:
        return report
    reminders = list(
        Reminder.objects.filter(pk__in=mine, sent_at__isnull=True)
        .select_related(
            "recipient",
            "recipient__profile",  # their language (pips.languages.language_of)
            "recipient__agent_profile",
            "pip__agent__team",
            "pip__agent__user",
            "pip__supervisor",
            "pip__current_version",
        )
        .order_by("pk")
    )
    meeting_keys = {
        (r.pip_id, MEETING_REMINDER_KINDS.get(r.kind) or OVERDUE_KINDS[r.kind], r.due_on)
        for r in reminders
        if r.kind in MEETING_REMINDER_KINDS or r.kind in OVERDUE_KINDS
    }
    items: dict[tuple[int, str, dt.date], ScheduleItem] = {}
    if meeting_keys:
        for item in ScheduleItem.objects.filter(
            pip_id__in={k[0] for k in meeting_keys},
            kind__in={k[1] for k in meeting_keys},
            due_on__in={k[2] for k in meeting_keys},
        ):
            items[(item.pip_id, item.kind, item.due_on)] = item
    numbers = week_numbers(
        (r.pip, r.due_on)
        for r in reminders
        if r.kind in MEETING_REMINDER_KINDS
        and (r.pip_id, MEETING_REMINDER_KINDS[r.kind], r.due_on) in items
    )
    built: list[tuple[Reminder, Outgoing]] = []
    for reminder in reminders:
        item_kind = MEETING_REMINDER_KINDS.get(reminder.kind) or OVERDUE_KINDS.get(reminder.kind)
        item = items.get((reminder.pip_id, item_kind, reminder.due_on)) if item_kind else None
        try:
            if reminder.kind in MEETING_REMINDER_KINDS and item is None:
                raise ValueError("the meeting is no longer on the schedule")
            # Written in the reader's language: the e-mail's fixed text, the notification
            # and the meeting's invitation.
            with translation.override(languages.language_of(reminder.recipient)):
                built.append((reminder, _outgoing(reminder, item, numbers)))
        except Exception:
            # One bad reminder must not hold up the others; it is tried again later.
            logger.exception("Reminder %s (%s) could not be sent", reminder.pk, reminder.kind)
            report.failed += 1
    held_until = hold_until({r.recipient_id for r, _ in built}, taken_at)
    mail = get_connection()
    try:
        mail.open()
        for group in digest_groups(built):
            holds = [held_until[r.recipient_id] for r, _ in group if r.recipient_id in held_until]
            if holds:
                report.held += _hold(group, max(holds), taken_at)
                continue
            try:
                _send_group(group, mail)
            except Exception:
                logger.exception(
                    "Reminders %s could not be sent", ", ".join(str(r.pk) for r, _ in group)
                )
                report.failed += len(group)
                continue
            # Recorded as sent the moment their e-mail has gone out, not at the end of the
            # batch: a worker killed mid-batch leaves at most the e-mail it was sending to go
            # out again.
            for reminder, out in group:
                report.sent += _mark_sent(reminder, out)
    finally:
        mail.close()
    return report


def _mark_sent(reminder: Reminder, out: Outgoing) -> int:
    """Two queries, committed together: sent_at set (if still unset) and the notification,
    unless it is in the app already (its e-mail was held)."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        marked = Reminder.objects.filter(pk=reminder.pk, sent_at__isnull=True).update(
            sent_at=now, notified_at=Coalesce("notified_at", Value(now))
        )
        if marked and reminder.notified_at is None:
            Notification.objects.create(
                user=reminder.recipient, pip=reminder.pip, text=out.text[:300], url=out.url
            )
    return marked


def hold_until(recipients: set[int], now: dt.datetime) -> dict[int, dt.datetime]:
    """Whom of `recipients` had a reminder e-mail less than PIP_REMINDER_DIGEST_MINUTES ago,
    and until when their reminders are held: the end of that time (one query)."""
    window = dt.timedelta(minutes=settings.PIP_REMINDER_DIGEST_MINUTES)
    if not recipients or not window:
        return {}
    last = (
        Reminder.objects.filter(recipient_id__in=recipients, sent_at__gt=now - window)
        .values("recipient_id")
        .annotate(last=Max("sent_at"))
        .order_by()
        .values_list("recipient_id", "last")
    )
    return {recipient: at + window for recipient, at in last}


def _hold(group: list[tuple[Reminder, Outgoing]], until: dt.datetime, taken_at: dt.datetime) -> int:
    """Hold a person's reminders for their digest: each in the app now, its e-mail held until
    `until`, if still under this task's claim; one transaction. Returns how many were held."""
    stamp = connection.ops.adapt_datetimefield_value
    ids = [r.pk for r, _ in group]
    placeholders = ", ".join(["%s"] * len(ids))
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        held = {
            pk
            for pk, _ in _update_returning(
                "held_until = %s, notified_at = COALESCE(notified_at, %s)",
                f"id IN ({placeholders}) AND sent_at IS NULL AND held_until IS NULL "
                "AND created_at = %s",
                [stamp(until), stamp(now), *ids, stamp(taken_at)],
            )
        }
        Notification.objects.bulk_create(
            Notification(user=r.recipient, pip=r.pip, text=out.text[:300], url=out.url)
            for r, out in group
            if r.pk in held and r.notified_at is None
        )
    return len(held)


def undelivered_events(now: dt.datetime) -> list[int]:
    """Audit events whose notifications never went out because the task was never queued (the
    broker was down when the step committed). notify_event delivers each once."""
    return list(
        AuditEvent.objects.filter(
            action__in=sorted(HANDLERS),
            at__gte=now - EVENT_HORIZON,
            at__lte=now - EVENT_GRACE,
            delivery__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def sweep(*, now: dt.datetime | None = None) -> SweepReport:
    """Find what is due and claim it: record the reminders the schedule calls for and take
    back those a dead run left unsent. The task layer then queues send_claimed for the claimed
    reminders (in chunks), open_review for each review and notify_event for each event."""
    now = now or timezone.now()
    report = SweepReport(claimed_at=now)
    wanted, report.reviews_to_open = due_work(now, meetings=False)
    fresh = record_due(wanted, now)
    stale = reclaim(now)
    released = release(now)
    report.recorded, report.reclaimed, report.released = len(fresh), len(stale), len(released)
    report.claim(fresh + stale + released)
    report.events_to_deliver = undelivered_events(now)
    if report.to_send or report.reviews_to_open or report.events_to_deliver:
        logger.info("Reminder sweep: %s", report.as_dict())
    return report
