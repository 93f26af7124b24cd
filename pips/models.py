"""The plan domain: teams and agents, plans and their versions, the sections of the contact-center
template, check-ins and reviews, signatures, reminders and the append-only audit trail.

Model methods answer questions about one record; every write that matters is in pips.services.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pips import limits
from pips.audit import AUDIT_LABELS, AuditAction
from pips.roles import ADMIN, HR, SUPERVISOR, roles_of
from pipsystem import l10n

User = settings.AUTH_USER_MODEL

#: The languages a person reads and a plan or template is written in (settings.LANGUAGES).
LANGUAGE_CHOICES = settings.LANGUAGES

DEFAULT_JOB_TITLE = "Contact Center Agent"
DEFAULT_OUTCOME_SUCCESS = (
    "PIP will be closed, and the employee will return to regular performance monitoring."
)
DEFAULT_OUTCOME_FAILURE = (
    "Further disciplinary action may be taken, up to and including termination."
)
DEFAULT_MONITORING_REPORTS = (
    "Weekly report of QA scores and CSAT\n"
    "Adherence reports from WFM\n"
    "Performance dashboard reviews in weekly 1-on-1s"
)


def validate_timezone(name: str) -> None:
    """An IANA time zone name, as the schedules need one."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _(
                "%(name)s is not a time zone name; use one such as Europe/Berlin or "
                "America/New_York."
            ),
            params={"name": name},
            code="invalid_timezone",
        ) from None


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    department = models.CharField(max_length=100, blank=True)
    # Where the team works (a contact center may have several): a filter of the plan lists.
    site = models.CharField(max_length=100, blank=True)
    # Check-ins and reminders are scheduled in the team's local time and stored in UTC.
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentQuerySet(models.QuerySet):
    def managed_by(self, user) -> AgentQuerySet:
        return self.filter(supervisor=user)


class Agent(models.Model):
    """An employee who can be put on a plan. May exist before the person has an account."""

    employee_id = models.CharField(max_length=32, unique=True)
    full_name = models.CharField(max_length=150)
    email = models.EmailField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="agents")
    job_title = models.CharField(max_length=100, default=DEFAULT_JOB_TITLE)
    supervisor = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="managed_agents", null=True, blank=True
    )
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="agent_profile", null=True, blank=True
    )
    hired_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # From the HR system's roster: where they work, and the language they read (a Django
    # language code such as "es" or "pt-br"; empty: the organisation's). Empty in the database
    # too when a bulk load (COPY) does not name them.
    site = models.CharField(max_length=100, blank=True, db_default="")
    language = models.CharField(max_length=16, blank=True, db_default="")

    objects = AgentQuerySet.as_manager()

    class Meta:
        ordering = ["full_name"]
        indexes = [models.Index(fields=["supervisor", "full_name"], name="agent_supervisor")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.employee_id})"


class Profile(models.Model):
    """What the app keeps about a person beyond Django's user: the language they read and the
    time zone they read times in.

    Blank means the default: the organisation's language (settings.LANGUAGE_CODE); for the
    zone, their team's, else the organisation's (pips.zones)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, blank=True)
    time_zone = models.CharField(
        max_length=64, blank=True, db_default="", validators=[validate_timezone]
    )

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class Comparator(models.TextChoices):
    GTE = "gte", "≥"
    LTE = "lte", "≤"


class DeadlineKind(models.TextChoices):
    DATE = "date", gettext_lazy("By a date")
    WITHIN = "within", gettext_lazy("Within a period")
    RECURRING = "recurring", gettext_lazy("Recurring")
    ONGOING = "ongoing", gettext_lazy("Ongoing")


class Cadence(models.TextChoices):
    WEEKLY = "weekly", gettext_lazy("Weekly")
    BIWEEKLY = "biweekly", gettext_lazy("Every two weeks")


WEEKDAYS = [
    (0, gettext_lazy("Monday")),
    (1, gettext_lazy("Tuesday")),
    (2, gettext_lazy("Wednesday")),
    (3, gettext_lazy("Thursday")),
    (4, gettext_lazy("Friday")),
    (5, gettext_lazy("Saturday")),
    (6, gettext_lazy("Sunday")),
]


# --- What plans and templates share, declared once ---------------------------------------------


class PlanTexts(models.Model):
    """The texts a template gives a plan and the plan keeps: job title, description (section
    1), reports used (4) and the outcomes (5)."""

    job_title = models.CharField(max_length=100, default=DEFAULT_JOB_TITLE)
    description = models.TextField(blank=True)
    monitoring_reports = models.TextField(default=DEFAULT_MONITORING_REPORTS)
    outcome_success = models.TextField(default=DEFAULT_OUTCOME_SUCCESS)
    outcome_failure = models.TextField(default=DEFAULT_OUTCOME_FAILURE)

    class Meta:
        abstract = True


class ReasonFields(models.Model):
    """A reason row of a plan version or a template."""

    text = models.CharField(max_length=300)
    kpi = models.ForeignKey("metrics.Kpi", on_delete=models.PROTECT, null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.text


class ExpectationFields(models.Model):
    """An expectation row of a plan version or a template."""

    area = models.CharField(max_length=120)
    kpi = models.ForeignKey("metrics.Kpi", on_delete=models.PROTECT, null=True, blank=True)
    comparator = models.CharField(max_length=3, choices=Comparator.choices, blank=True)
    target = models.FloatField(null=True, blank=True)
    # For qualitative rows, or a note beside the numbers ("Often incomplete").
    current_text = models.CharField(max_length=200, blank=True)
    standard_text = models.CharField(max_length=200, blank=True)
    improvement_needed = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.area


class ActionFields(models.Model):
    """An action row of a plan version or a template (the deadline itself differs: a date on a
    plan, days from the start on a template)."""

    action = models.CharField(max_length=200)
    responsible = models.CharField(max_length=100)
    deadline_kind = models.CharField(max_length=10, choices=DeadlineKind.choices)
    # Weekdays (0 = Monday) for a recurrence such as "every Tuesday & Friday"; empty = weekly.
    recurrence_weekdays = models.JSONField(default=list, blank=True)
    # "Every Tuesday & Friday", "Weekly", "Within 1 week": what the plan prints.
    deadline_text = models.CharField(max_length=100, blank=True)
    # Coaching or shadowing: each session held is recorded, to show the support was given.
    records_sessions = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.action


# The names of the shared texts, for the code that copies them between template, content and
# version.
PLAN_TEXT_FIELDS = tuple(f.name for f in PlanTexts._meta.fields)


# --- Templates -------------------------------------------------------------------------------


class PipTemplate(PlanTexts):
    """A starting point for plans. The contact-center template ships with the product."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=64, unique=True)
    # The language the template's text is written in; HR keeps one template per language.
    language = models.CharField(
        max_length=8, choices=LANGUAGE_CHOICES, default="en", db_default="en"
    )
    period_days = models.PositiveSmallIntegerField(default=30)
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            # The default template of each language: supervisors who write in it start there.
            models.UniqueConstraint(
                fields=["language"], condition=Q(is_default=True), name="one_default_template"
            ),
            *limits.constraints(
                "template",
                {
                    "description": limits.MEDIUM_TEXT,
                    "monitoring_reports": limits.LONG_TEXT,
                    "outcome_success": limits.LONG_TEXT,
                    "outcome_failure": limits.LONG_TEXT,
                },
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TemplateReason(ReasonFields):
    template = models.ForeignKey(PipTemplate, on_delete=models.CASCADE, related_name="reasons")

    class Meta:
        ordering = ["position", "id"]


class TemplateExpectation(ExpectationFields):
    template = models.ForeignKey(PipTemplate, on_delete=models.CASCADE, related_name="expectations")

    class Meta:
        ordering = ["position", "id"]


class TemplateAction(ActionFields):
    template = models.ForeignKey(PipTemplate, on_delete=models.CASCADE, related_name="actions")
    within_days = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]


# --- Plans -------------------------------------------------------------------------------------


class Status(models.TextChoices):
    DRAFT = "draft", gettext_lazy("Draft")
    PENDING_HR = "pending_hr", gettext_lazy("Waiting for HR")
    APPROVED = "approved", gettext_lazy("Approved by HR")
    ISSUED = "issued", gettext_lazy("Issued, awaiting signatures")
    ACTIVE = "active", gettext_lazy("Active")
    MIDPOINT = "midpoint", gettext_lazy("Midpoint review done")
    FINAL = "final", gettext_lazy("Final review")
    EXTENDED = "extended", gettext_lazy("Extended")
    CLOSED_SUCCESSFUL = "closed_successful", gettext_lazy("Closed: successful")
    CLOSED_UNSUCCESSFUL = "closed_unsuccessful", gettext_lazy("Closed: unsuccessful")
    CANCELLED = "cancelled", gettext_lazy("Cancelled")
    ENDED = "ended", gettext_lazy("Ended: employment ended")


OPEN_STATUSES = frozenset(
    {
        Status.DRAFT,
        Status.PENDING_HR,
        Status.APPROVED,
        Status.ISSUED,
        Status.ACTIVE,
        Status.MIDPOINT,
        Status.FINAL,
        Status.EXTENDED,
    }
)
RUNNING_STATUSES = frozenset({Status.ACTIVE, Status.MIDPOINT, Status.EXTENDED, Status.FINAL})
TERMINAL_STATUSES = frozenset(
    {Status.CLOSED_SUCCESSFUL, Status.CLOSED_UNSUCCESSFUL, Status.CANCELLED, Status.ENDED}
)


class Outcome(models.TextChoices):
    SUCCESSFUL = "successful", gettext_lazy("Successful: goals met")
    EXTENDED = "extended", gettext_lazy("Extended: more time granted")
    UNSUCCESSFUL = "unsuccessful", gettext_lazy("Unsuccessful: goals not met")


def status_label(value: str) -> str:
    """A stored status as people read it; an unknown or empty one as it is."""
    return Status(value).label if value in Status.values else value


def _of_supervisor(user) -> Q:
    """The plans a supervisor wrote or whose agent they manage, as conditions on the plan's own
    columns (supervisor_id =, agent_id IN a small set): PostgreSQL combines index scans instead
    of joining every plan to its agent to test an OR across two tables."""
    return Q(supervisor=user) | Q(agent__in=Agent.objects.managed_by(user).values("pk"))


class PipQuerySet(models.QuerySet):
    def visible_to(self, user) -> PipQuerySet:
        """The one rule for who may see a plan: HR and administrators everything, a supervisor
        the plans of agents they manage (and, on a day they cover for another supervisor, that
        supervisor's plans), an agent their own plans once a version was issued to them (a plan
        cancelled before its issue never was); anything else none."""
        roles = roles_of(user)
        if not roles:
            return self.none()
        if roles & {HR, ADMIN}:
            return self
        # Each branch a condition on the plan's own columns (agent_id IN a small set of
        # agents, supervisor_id =), so PostgreSQL combines index scans instead of joining every
        # plan to its agent to test an OR across two tables.
        condition = Q(pk__in=[])
        if SUPERVISOR in roles:
            condition |= _of_supervisor(user)
            covered = (
                Delegation.objects.active_on(timezone.localdate())
                .filter(delegate=user)
                .values("supervisor")
            )
            condition |= Q(supervisor__in=covered)
        condition |= Q(
            agent__in=Agent.objects.filter(user=user).values("pk"), issued_at__isnull=False
        )
        return self.filter(condition)

    def of_supervisor(self, user) -> PipQuerySet:
        """The plans of the agents a supervisor manages, or that they wrote. A condition on
        the plan's own columns (as in `visible_to`): an OR across the plan and its agent makes
        PostgreSQL read every agent of the company."""
        return self.filter(_of_supervisor(user))

    def open(self) -> PipQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def running(self) -> PipQuerySet:
        return self.filter(status__in=RUNNING_STATUSES)

    def with_related(self) -> PipQuerySet:
        return self.select_related(
            "agent", "agent__team", "agent__supervisor", "current_version", "supervisor"
        )


class Pip(models.Model):
    """A plan for one agent. Its content lives in versions; the status is the lifecycle's."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="pips")
    # The supervisor who owns the plan: records check-ins and reviews, signs as manager.
    supervisor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="supervised_pips")
    template = models.ForeignKey(
        PipTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="pips"
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DRAFT)
    # The version in force (or, before the first issue, the draft being written).
    current_version = models.OneToOneField(
        "PipVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hr_comment = models.TextField(blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    meeting_held_on = models.DateField(null=True, blank=True)
    ack_due_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    hr_decision = models.TextField(blank=True)
    consequence = models.TextField(blank=True)
    cancel_reason = models.TextField(blank=True)
    extension_count = models.PositiveSmallIntegerField(default=0)
    # Leave: the day the current pause began (None while running), and the days of every pause
    # that has ended, by which the plan's dates still ahead moved.
    paused_since = models.DateField(null=True, blank=True)
    paused_days = models.PositiveSmallIntegerField(default=0, db_default=0)

    objects = PipQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # No second open plan for the same agent.
            models.UniqueConstraint(
                fields=["agent"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="one_open_pip_per_agent",
            ),
            *limits.constraints(
                "pip",
                {
                    "hr_comment": limits.MEDIUM_TEXT,
                    "hr_decision": limits.MEDIUM_TEXT,
                    "consequence": limits.MEDIUM_TEXT,
                    "cancel_reason": limits.MEDIUM_TEXT,
                },
            ),
        ]
        indexes = [
            # HR's approval queue and the status filters.
            models.Index(fields=["status", "submitted_at"], name="pip_status_submitted"),
            models.Index(fields=["supervisor", "status"], name="pip_supervisor_status"),
            # HR's list of every plan, most recently changed first: read a page, not sort all.
            models.Index(fields=["-updated_at", "-id"], name="pip_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.agent.full_name}"

    def get_absolute_url(self) -> str:
        return reverse("pips:detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"PIP-{self.pk:05d}" if self.pk else "PIP-new"

    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def is_ack_overdue(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.status == Status.ISSUED and self.ack_due_at is not None and now > self.ack_due_at
        )

    def shifted(self, day: dt.date | None) -> dt.date | None:
        """A date of the plan as its pauses moved it: by the days of every ended pause that
        began on or before it. The signed content keeps the date as issued."""
        if day is None or not self.paused_days:
            return day
        moved = sum(p.days or 0 for p in self.pauses.all() if p.end_on and p.start_on <= day)
        return day + dt.timedelta(days=moved)

    def period_end(self) -> dt.date | None:
        return self.shifted(self.current_version.period_end)

    def final_review_date(self) -> dt.date | None:
        return self.shifted(self.current_version.final_review_date)

    def midpoint_date(self) -> dt.date | None:
        return self.shifted(self.current_version.midpoint_date)

    def current_pause(self) -> PipPause | None:
        if self.paused_since is None:
            return None
        return next((p for p in self.pauses.all() if p.end_on is None), None)


class VersionState(models.TextChoices):
    DRAFT = "draft", gettext_lazy("Draft")
    PENDING_HR = "pending_hr", gettext_lazy("Waiting for HR")
    APPROVED = "approved", gettext_lazy("Approved")
    ISSUED = "issued", gettext_lazy("Issued")
    SUPERSEDED = "superseded", gettext_lazy("Superseded")
    WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn")


class PipVersion(PlanTexts):
    """The content of a plan at one version: every section of the template.

    Frozen from issue on; a change after that is an amendment, a new version copied from this one.
    """

    pip = models.ForeignKey(Pip, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=16, choices=VersionState.choices, default="draft")
    # Header, copied from the agent when the plan is drafted so the document does not drift.
    employee_name = models.CharField(max_length=150)
    employee_id = models.CharField(max_length=32)
    department = models.CharField(max_length=100)
    supervisor_name = models.CharField(max_length=150)
    # The language the supervisor wrote the plan's own text in (reasons, expectations, actions,
    # notes): shown as written, marked with it, whatever language the reader's page is in.
    language = models.CharField(
        max_length=8, choices=LANGUAGE_CHOICES, default="en", db_default="en"
    )
    issued_on = models.DateField(null=True, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    # 4. Monitoring.
    checkin_cadence = models.CharField(
        max_length=10, choices=Cadence.choices, default=Cadence.WEEKLY
    )
    checkin_weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, default=0)
    midpoint_date = models.DateField(null=True, blank=True)
    final_review_date = models.DateField()
    # For an amendment: why, as the supervisor put it.
    change_summary = models.TextField(blank=True)
    # Set when issued: the SHA-256 of the canonical content that signatures bind to.
    content_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pip", "number"]
        constraints = [
            models.UniqueConstraint(fields=["pip", "number"], name="version_number_unique"),
            *limits.constraints(
                "version",
                {
                    "description": limits.LONG_TEXT,
                    "monitoring_reports": limits.LONG_TEXT,
                    "outcome_success": limits.LONG_TEXT,
                    "outcome_failure": limits.LONG_TEXT,
                    "change_summary": limits.MEDIUM_TEXT,
                },
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")),
                name="version_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(final_review_date__gte=models.F("period_start")),
                name="version_final_review_in_period",
            ),
            models.CheckConstraint(
                condition=Q(midpoint_date__isnull=True)
                | (
                    Q(midpoint_date__gt=models.F("period_start"))
                    & Q(midpoint_date__lt=models.F("period_end"))
                ),
                name="version_midpoint_inside_period",
            ),
            models.CheckConstraint(
                condition=Q(checkin_weekday__gte=0) & Q(checkin_weekday__lte=6),
                name="version_weekday_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pip.reference} v{self.number}"

    @property
    def period_days(self) -> int:
        return (self.period_end - self.period_start).days

    def is_frozen(self) -> bool:
        return self.state in {VersionState.ISSUED, VersionState.SUPERSEDED}


class Reason(ReasonFields):
    """1. One specific, objective concern, optionally tied to a KPI."""

    version = models.ForeignKey(PipVersion, on_delete=models.CASCADE, related_name="reasons")

    class Meta:
        ordering = ["position", "id"]


class Expectation(ExpectationFields):
    """2. A row: performance area | current performance | expected standard | improvement needed.

    KPI-linked rows carry a comparator and a target in the KPI's unit and a baseline taken from
    the agent's data (frozen at issue with its source and date range); qualitative rows carry text.
    """

    version = models.ForeignKey(PipVersion, on_delete=models.CASCADE, related_name="expectations")
    # The same expectation across amendments keeps its lineage, so progress can be followed.
    lineage = models.UUIDField(default=uuid.uuid4)
    baseline_value = models.FloatField(null=True, blank=True)
    baseline_from = models.DateField(null=True, blank=True)
    baseline_to = models.DateField(null=True, blank=True)
    baseline_source = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kpi__isnull=True) | (Q(target__isnull=False) & ~Q(comparator="")),
                name="expectation_kpi_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(kpi__isnull=True) | ~Q(standard_text=""),
                name="expectation_qualitative_has_standard",
            ),
        ]

    def is_met(self, value: float | None) -> bool | None:
        """Whether a measured value meets the target; None when there is nothing to judge."""
        if value is None or self.target is None or not self.comparator:
            return None
        if self.comparator == Comparator.GTE:
            return value >= self.target
        return value <= self.target

    def standard_display(self) -> str:
        if self.kpi_id is None:
            return self.standard_text
        return f"{self.get_comparator_display()} {self.kpi.format_value(self.target)}"

    def current_display(self) -> str:
        if self.kpi_id is None or self.baseline_value is None:
            return self.current_text or "—"
        return self.kpi.format_value(self.baseline_value)


class ActionStatus(models.TextChoices):
    NOT_STARTED = "not_started", gettext_lazy("Not started")
    IN_PROGRESS = "in_progress", gettext_lazy("In progress")
    DONE = "done", gettext_lazy("Done")
    MISSED = "missed", gettext_lazy("Missed")


class ActionItem(ActionFields):
    """3. A row of the action plan: action item | responsible | deadline, with its status."""

    version = models.ForeignKey(PipVersion, on_delete=models.CASCADE, related_name="actions")
    lineage = models.UUIDField(default=uuid.uuid4)
    deadline_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=ActionStatus.choices, default=ActionStatus.NOT_STARTED
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(deadline_kind=DeadlineKind.DATE) | Q(deadline_date__isnull=False),
                name="action_date_deadline_has_date",
            ),
        ]

    @property
    def deadline_is_written(self) -> bool:
        """Whether `deadline_display` is the text the supervisor wrote (in the plan's
        language), rather than a date or a deadline put in the reader's words."""
        return not (self.deadline_kind == DeadlineKind.DATE and self.deadline_date) and bool(
            self.deadline_text
        )

    def deadline_display(self) -> str:
        if self.deadline_kind == DeadlineKind.DATE and self.deadline_date:
            return l10n.date(self.deadline_date)
        if self.deadline_text:
            return self.deadline_text
        if self.deadline_kind == DeadlineKind.RECURRING:
            days = [str(name) for num, name in WEEKDAYS if num in (self.recurrence_weekdays or [])]
            if not days:
                return str(Cadence.WEEKLY.label)
            return _("Every %(days)s") % {"days": _(" & ").join(days)}
        return str(self.get_deadline_kind_display())


class ActionSession(models.Model):
    """One session of recurring support actually held (coaching, shadowing, training)."""

    action_item = models.ForeignKey(ActionItem, on_delete=models.PROTECT, related_name="sessions")
    checkin = models.ForeignKey(
        "CheckIn", on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    held_on = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return f"{self.action_item} on {self.held_on}"


# --- Check-ins and reviews ---------------------------------------------------------------------


class CheckIn(models.Model):
    class State(models.TextChoices):
        HELD = "held", gettext_lazy("Held")
        MISSED = "missed", gettext_lazy("Missed")

    pip = models.ForeignKey(Pip, on_delete=models.PROTECT, related_name="checkins")
    version = models.ForeignKey(PipVersion, on_delete=models.PROTECT, related_name="+")
    scheduled_for = models.DateField(null=True, blank=True)
    held_on = models.DateField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.HELD)
    missed_reason = models.TextField(blank=True)
    attendees = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    coaching_done = models.TextField(blank=True)
    next_steps = models.TextField(blank=True)
    # The KPI numbers for the period since the last check-in, as the data said on the day.
    kpi_snapshot = models.JSONField(default=list, blank=True)
    snapshot_note = models.TextField(blank=True)
    agent_comment = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # Set when a delegate recorded it: the supervisor they covered for.
    on_behalf_of = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["held_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pip", "scheduled_for"],
                condition=Q(scheduled_for__isnull=False),
                name="one_checkin_per_scheduled_date",
            ),
            models.CheckConstraint(
                condition=~Q(state="missed") | ~Q(missed_reason=""),
                name="missed_checkin_has_reason",
            ),
            *limits.constraints(
                "checkin",
                {
                    "missed_reason": limits.MEDIUM_TEXT,
                    "notes": limits.LONG_TEXT,
                    "coaching_done": limits.LONG_TEXT,
                    "next_steps": limits.LONG_TEXT,
                    "snapshot_note": limits.MEDIUM_TEXT,
                    "agent_comment": limits.MEDIUM_TEXT,
                },
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.held_on} ({self.get_state_display()})"


class CheckInActionUpdate(models.Model):
    checkin = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="action_updates")
    action_item = models.ForeignKey(ActionItem, on_delete=models.PROTECT, related_name="updates")
    status = models.CharField(max_length=12, choices=ActionStatus.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["checkin", "action_item"], name="one_update_per_action_per_checkin"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action_item}: {self.get_status_display()}"


class Review(models.Model):
    class Kind(models.TextChoices):
        MIDPOINT = "midpoint", gettext_lazy("Midpoint review")
        FINAL = "final", gettext_lazy("Final review")

    class State(models.TextChoices):
        OPEN = "open", gettext_lazy("Open")
        DONE = "done", gettext_lazy("Done")

    pip = models.ForeignKey(Pip, on_delete=models.PROTECT, related_name="reviews")
    version = models.ForeignKey(PipVersion, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    due_on = models.DateField()
    opened_at = models.DateTimeField(default=timezone.now)
    held_on = models.DateField(null=True, blank=True)
    summary = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    new_end_date = models.DateField(null=True, blank=True)
    supervisor_comments = models.TextField(blank=True)
    hr_comments = models.TextField(blank=True)
    # A final review proposing success although a target is not met: why, for HR to decide.
    justification = models.TextField(blank=True, db_default="")
    # Set when a delegate recorded it: the supervisor they covered for.
    on_behalf_of = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            # A review is opened once per plan version and kind, however often the job runs.
            models.UniqueConstraint(
                fields=["pip", "kind", "version"], name="one_review_per_kind_and_version"
            ),
            models.CheckConstraint(
                condition=Q(kind="final") | Q(outcome=""), name="only_final_has_outcome"
            ),
            *limits.constraints(
                "review",
                {
                    "summary": limits.LONG_TEXT,
                    "supervisor_comments": limits.LONG_TEXT,
                    "hr_comments": limits.MEDIUM_TEXT,
                    "justification": limits.MEDIUM_TEXT,
                },
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"


class ReviewItem(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="items")
    expectation = models.ForeignKey(Expectation, on_delete=models.PROTECT, related_name="+")
    current_value = models.FloatField(null=True, blank=True)
    suggested = models.BooleanField(null=True)  # on track / met, as the data suggests
    confirmed = models.BooleanField()  # on track / met, as the supervisor decided
    evidence = models.TextField(blank=True)
    adjustment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "expectation"], name="one_item_per_expectation"
            ),
            *limits.constraints(
                "reviewitem", {"evidence": limits.MEDIUM_TEXT, "adjustment": limits.MEDIUM_TEXT}
            ),
        ]

    def __str__(self) -> str:
        return f"{self.expectation}: {'yes' if self.confirmed else 'no'}"


# --- Signatures --------------------------------------------------------------------------------


class SignerRole(models.TextChoices):
    MANAGER = "manager", gettext_lazy("Manager")
    AGENT = "agent", gettext_lazy("Employee")
    HR = "hr", gettext_lazy("HR Representative")


class SignatureQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Signatures are never changed.")

    def delete(self):
        raise PermissionError("Signatures are never deleted.")


class Signature(models.Model):
    """An e-signature on one plan version. Never edited or deleted.

    Valid only while `content_sha256` matches the canonical content of the version it signed.
    """

    class Kind(models.TextChoices):
        SIGNED = "signed", gettext_lazy("Signed")
        REFUSED = "refused", gettext_lazy("Refused to sign (witnessed)")

    version = models.ForeignKey(PipVersion, on_delete=models.PROTECT, related_name="signatures")
    role = models.CharField(max_length=8, choices=SignerRole.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SIGNED)
    signer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    typed_name = models.CharField(max_length=150)
    image = models.TextField(blank=True)  # a data:image/png;base64 URL from signature_pad
    consent_text = models.TextField()
    # The language of the consent statement as shown to the signer (and stored in consent_text).
    consent_language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES)
    agrees = models.BooleanField(null=True)
    comments = models.TextField(blank=True)
    witness = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    content_sha256 = models.CharField(max_length=64)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "role"], name="one_signature_per_role"),
            models.CheckConstraint(
                condition=~Q(kind="refused") | Q(witness__isnull=False),
                name="refusal_has_witness",
            ),
            models.CheckConstraint(
                condition=~Q(agrees=False) | ~Q(comments=""),
                name="disagreement_has_comments",
            ),
            *limits.constraints("signature", {"comments": limits.MEDIUM_TEXT}),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.typed_name}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("Signatures are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Signatures are never deleted.")


# --- Schedules and notifications ---------------------------------------------------------------


class ScheduleItem(models.Model):
    """A dated step of an active plan: a check-in, the midpoint or the final review."""

    class Kind(models.TextChoices):
        CHECKIN = "checkin", gettext_lazy("Check-in")
        MIDPOINT = "midpoint", gettext_lazy("Midpoint review")
        FINAL = "final", gettext_lazy("Final review")

    pip = models.ForeignKey(Pip, on_delete=models.PROTECT, related_name="schedule")
    version = models.ForeignKey(PipVersion, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    due_on = models.DateField()
    due_at = models.DateTimeField()  # the meeting time in the team's zone, stored in UTC
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pip", "kind", "due_on"], name="one_schedule_item"),
        ]
        indexes = [
            # The sweep: what is due and not done.
            models.Index(
                fields=["due_at"],
                condition=Q(done_at__isnull=True, cancelled_at__isnull=True),
                name="schedule_pending_due",
            ),
            # HR's overdue steps: the pending steps of a past day (a few hundred of the
            # company's steps), to find the plans behind schedule without working out the next
            # step of every running plan.
            models.Index(
                fields=["due_on"],
                condition=Q(done_at__isnull=True, cancelled_at__isnull=True),
                name="schedule_pending_on",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.due_on}"


class Reminder(models.Model):
    """A reminder recorded once per plan, kind, due date and recipient, then sent.

    The unique constraint is what makes the sweep safe to run twice, or twice at once.
    """

    pip = models.ForeignKey(Pip, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=32)
    due_on = models.DateField()
    recipient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # When its e-mail went out (alone or in a digest).
    sent_at = models.DateTimeField(null=True, blank=True)
    # When it was put in the recipient's in-app list: at once, even while its e-mail is held.
    notified_at = models.DateTimeField(null=True, blank=True)
    # Its e-mail is held until then: the recipient had a reminder e-mail less than
    # PIP_REMINDER_DIGEST_MINUTES ago; the first sweep after it sends the held ones as a digest.
    held_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pip", "kind", "due_on", "recipient"], name="one_reminder"
            )
        ]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True), name="unsent"),
            # The last reminder e-mail to each person of a send chunk (the hourly digest); only
            # sent rows, so recording a reminder does not write to it.
            models.Index(
                fields=["recipient", "sent_at"],
                condition=Q(sent_at__isnull=False),
                name="reminder_mailed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.due_on}"


class Notification(models.Model):
    """What a user sees in the app's notification list."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    pip = models.ForeignKey(Pip, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user"),
            # The unread count on every page: only the unread rows, however many were read.
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.text


# --- The audit trail ---------------------------------------------------------------------------


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only.")

    def delete(self):
        raise PermissionError("The audit trail is append-only.")


class AuditEvent(models.Model):
    """One row per thing that happened to a plan: at once its history, its audit trail and the
    source of what to notify. Append-only: no update or delete path; on PostgreSQL triggers
    refuse UPDATE, DELETE and TRUNCATE; each event is chained to the one before by its hash
    (pips.audit_chain.append, the only way one is written)."""

    pip = models.ForeignKey(
        Pip, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    version = models.ForeignKey(
        PipVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True)
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    comment = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    # The hash chain (pips.audit): the hash of the event written before this one, and this one's.
    prev_hash = models.CharField(max_length=64, default="", editable=False)
    event_hash = models.CharField(max_length=64, default="", editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["pip", "at"], name="audit_pip_at")]
        constraints = [
            # The chain never forks: no two events follow the same one.
            models.UniqueConstraint(fields=["prev_hash"], name="audit_chain_one_successor"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("The audit trail is append-only.")
        if not self.event_hash:
            raise PermissionError("Audit events are written through pips.audit_chain.append.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only.")

    @property
    def label(self) -> str:
        label = AUDIT_LABELS.get(self.action, self.action.replace("_", " ").capitalize())
        if self.action == AuditAction.SIGNED and self.changes.get("role"):
            who = {"manager": _("manager"), "agent": _("employee"), "hr": _("HR")}
            role = self.changes["role"]
            label = _("Signed as %(role)s") % {"role": who.get(role, role)}
        return str(label)


class Delivery(models.Model):
    """That an audit event's e-mails and notifications went out: claimed once per event, so a
    task run twice, or redelivered after a crash, does not send twice."""

    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="delivery")
    sent_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Delivery of {self.event_id}"


# --- Changes plans go through: leave, cover ------------------------------------------------------


class PipPause(models.Model):
    """A pause of a running plan for documented leave. While it lasts, no meeting is held and
    nothing is reminded; when it ends, the plan's dates still ahead move by its days."""

    class Kind(models.TextChoices):
        SICK_LEAVE = "sick_leave", gettext_lazy("Sick leave")
        STATUTORY_LEAVE = (
            "statutory_leave",
            gettext_lazy("Statutory leave (parental, maternity, other)"),
        )
        OTHER_LEAVE = "other_leave", gettext_lazy("Other documented leave")

    pip = models.ForeignKey(Pip, on_delete=models.PROTECT, related_name="pauses")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    note = models.TextField()
    start_on = models.DateField()
    end_on = models.DateField(null=True, blank=True)  # the day the plan resumed
    paused_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    resumed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gt=models.F("start_on")),
                name="pause_ends_after_start",
            ),
            # One pause at a time.
            models.UniqueConstraint(
                fields=["pip"], condition=Q(end_on__isnull=True), name="one_open_pause"
            ),
            *limits.constraints("pause", {"note": limits.MEDIUM_TEXT}),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.start_on}"

    @property
    def days(self) -> int | None:
        return (self.end_on - self.start_on).days if self.end_on else None


class DelegationQuerySet(models.QuerySet):
    def active_on(self, day: dt.date) -> DelegationQuerySet:
        return self.filter(start_on__lte=day, end_on__gte=day, revoked_at__isnull=True)


class Delegation(models.Model):
    """A supervisor's delegate for a date range (both days included): on those days the
    delegate sees the supervisor's plans and may record check-ins and reviews on their behalf."""

    supervisor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="delegations_given")
    delegate = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="delegations_received"
    )
    start_on = models.DateField()
    end_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = DelegationQuerySet.as_manager()

    class Meta:
        ordering = ["-start_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__gte=models.F("start_on")), name="delegation_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(supervisor=models.F("delegate")), name="delegate_is_someone_else"
            ),
        ]
        indexes = [
            # Who covers whom today: the plan access rule and the recording check.
            models.Index(fields=["delegate", "start_on", "end_on"], name="delegation_delegate"),
        ]

    def __str__(self) -> str:
        return f"{self.delegate} for {self.supervisor}, {self.start_on}–{self.end_on}"
