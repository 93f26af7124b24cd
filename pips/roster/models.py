"""Roster sources (an HR system's export, with its saved column mapping) and the record of
every roster load: who loaded what file, what it changed, or why it was refused."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RosterSource(models.Model):
    """An HR system that exports the roster (Workday, BambooHR, ADP…), with its mapping."""

    name = models.CharField(max_length=100, unique=True)
    mapping = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    LOADED = "loaded", pgettext_lazy("roster import", "Loaded")
    REJECTED = "rejected", pgettext_lazy("roster import", "Rejected")


class ImportOrigin(models.TextChoices):
    PAGE = "page", _("Upload page")
    COMMAND = "command", _("Command")
    API = "api", _("API")


class RosterImport(models.Model):
    """One roster load, loaded or rejected as a whole. `changes` lists what happened to each
    person it touched (created, updated fields, transfers, deactivations, plans moved or
    ended); a rejected load lists the refusals by line instead and changed nothing."""

    source = models.ForeignKey(RosterSource, on_delete=models.PROTECT, related_name="imports")
    status = models.CharField(max_length=10, choices=ImportStatus.choices)
    origin = models.CharField(max_length=10, choices=ImportOrigin.choices)
    filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    transferred = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    teams_created = models.PositiveIntegerField(default=0)
    plans_reassigned = models.PositiveIntegerField(default=0)
    plans_ended = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    changes = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The imports page: newest first.
        indexes = [models.Index(fields=["-created_at", "-id"], name="roster_import_recent")]

    def __str__(self) -> str:
        return f"{self.source} {self.created_at:%Y-%m-%d %H:%M} {self.status}"
