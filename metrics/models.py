"""The KPI catalog and the daily samples loaded from WFM, QA and ACD exports.

Samples are keyed by employee ID (not by user or agent record) because that is how the
exports arrive, sometimes before the agent has an account. This app knows nothing about plans.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from pipsystem import l10n


class Unit(models.TextChoices):
    PERCENT = "percent", _("Percent")
    SECONDS = "seconds", _("Duration (seconds)")
    COUNT = "count", pgettext_lazy("KPI unit", "Count")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class Kpi(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    # The team standard, in the KPI's unit, used when no plan says otherwise.
    standard = models.FloatField(_("standard"), null=True, blank=True)
    min_value = models.FloatField(_("minimum value"), default=0)
    max_value = models.FloatField(_("maximum value"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_value__isnull=True)
                | models.Q(max_value__gt=models.F("min_value")),
                name="kpi_max_above_min",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def lower_is_better(self) -> bool:
        return self.direction == Direction.LOWER

    @property
    def display_name(self) -> str:
        """The name in the reader's language: the shipped KPIs are translated (their names are
        in the catalogs); a KPI an administrator added shows as named."""
        return gettext(self.name)

    def format_value(self, value: float | None) -> str:
        """Show a value the way supervisors read it: AHT as m:ss, QA as %."""
        if value is None:
            return "—"
        if self.unit == Unit.SECONDS:
            return l10n.clock_duration(value)
        if self.unit == Unit.PERCENT:
            # In the reader's language: "87.1 %", "87,1 %", "87,1%".
            return l10n.percent(value)
        return l10n.number(value, None if float(value).is_integer() else 2)

    def is_better_or_equal(self, value: float, target: float) -> bool:
        if self.lower_is_better:
            return value <= target
        return value >= target

    def in_range(self, value: float) -> bool:
        if value < self.min_value:
            return False
        return not (self.max_value is not None and value > self.max_value)


class MetricSource(models.Model):
    """A system that exports KPI files (WFM, QA, ACD), with its saved column mapping."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    # {"employee_id": "Agent ID", "date": "Day", "kpis": {"qa_score": "QA %"}, "layout": "wide"}
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("KPI source")
        verbose_name_plural = _("KPI sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MetricLoad(models.Model):
    """One file (or API batch) loaded: who, when, what, how many rows."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("KPI load", "Pending")
        RUNNING = "running", pgettext_lazy("KPI load", "Loading")
        LOADED = "loaded", pgettext_lazy("KPI load", "Loaded")
        REJECTED = "rejected", pgettext_lazy("KPI load", "Rejected")

    source = models.ForeignKey(
        MetricSource, on_delete=models.PROTECT, related_name="loads", verbose_name=_("source")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name=_("uploaded by"),
    )
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # The column mapping and options the load used, frozen when it was queued (the mapping that
    # was previewed): a source's mapping saved again afterwards does not change this load.
    mapping = models.JSONField(default=dict, blank=True)
    rows_total = models.PositiveIntegerField(_("rows in the file"), default=0)
    rows_loaded = models.PositiveIntegerField(_("rows loaded"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # What became of every row of the file: read, loaded, refused, skipped by which rule.
    account = models.JSONField(_("row account"), default=dict, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("KPI load")
        verbose_name_plural = _("KPI loads")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source} {self.filename or gettext('batch')} ({self.get_status_display()})"


class Sample(models.Model):
    """One day's value of one KPI for one employee, as the source reported it."""

    # Samples are the one table that grows to tens of millions of rows, loaded a million at a
    # time, so its two references are not foreign-key constraints in the database: PostgreSQL
    # checks those row by row at commit, which cost more than the insert itself. Every writer
    # goes through `metrics.loading`, which takes KPI IDs from the catalog and writes `load` in
    # the transaction that creates that load; catalog KPIs are never deleted (they are
    # deactivated), and a load that wrote samples cannot be deleted (PROTECT, checked by
    # Django). Nor do they get an index of their own: (kpi, date) below serves `kpi`, and
    # nothing looks samples up by load.
    employee_id = models.CharField(_("employee ID"), max_length=32)
    kpi = models.ForeignKey(
        Kpi,
        verbose_name=_("KPI"),
        on_delete=models.PROTECT,
        related_name="samples",
        db_constraint=False,
        db_index=False,
    )
    date = models.DateField(_("date"))
    value = models.FloatField(_("value"))
    # Calls, chats or surveys behind the value: window means are weighted by it.
    weight = models.FloatField(_("weight"), default=1)
    # The load that last set this value: where a number on a plan came from.
    load = models.ForeignKey(
        MetricLoad,
        verbose_name=_("load"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="samples",
        db_constraint=False,
        db_index=False,
    )

    # The natural key of every export, and the table's only identity: loads upsert on it, so
    # loading is idempotent, and its index serves "one employee's KPI over a window".
    pk = models.CompositePrimaryKey("employee_id", "kpi", "date")

    class Meta:
        verbose_name = _("KPI sample")
        verbose_name_plural = _("KPI samples")
        constraints = [
            models.CheckConstraint(condition=models.Q(weight__gt=0), name="sample_weight_positive"),
        ]
        indexes = [
            # Team roll-ups and "who is below standard": one KPI over a date range.
            models.Index(fields=["kpi", "date"], name="sample_kpi_date"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.kpi_id} {self.date}: {self.value}"


class WeeklyTotal(models.Model):
    """One employee's KPI over one ISO week (Monday to Sunday), summed from the samples: what
    the weekly series and "below standard" read instead of the week's daily samples.

    Derived data, kept equal to the samples by whatever writes them, in the same transaction:
    the loader (`metrics.loading`, for files, the API and the command) recomputes the weeks a
    load touched; any other writer calls `metrics.rollups.rebuild`. A week's weighted mean is
    `weighted_sum / weight_sum`, exactly as `metrics.queries` computes it from the samples."""

    employee_id = models.CharField(max_length=32)
    kpi = models.ForeignKey(
        Kpi,
        on_delete=models.PROTECT,
        related_name="weekly_totals",
        db_constraint=False,  # like Sample's: the loader writes catalog KPIs only
        db_index=False,
    )
    week = models.DateField()  # the Monday
    weighted_sum = models.FloatField()  # of value × weight
    weight_sum = models.FloatField()
    sample_count = models.PositiveIntegerField()  # daily samples in the week

    # "One employee's KPIs over a span of weeks" (a plan's charts).
    pk = models.CompositePrimaryKey("employee_id", "kpi", "week")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sample_count__gt=0), name="weekly_total_has_samples"
            ),
        ]
        indexes = [
            # "Below standard" for everyone: one KPI over the last weeks.
            models.Index(fields=["kpi", "week"], name="weekly_total_kpi_week"),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.kpi_id} week of {self.week}"
