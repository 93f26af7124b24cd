"""Template filters for numbers, percentages, dates and times in the reader's language, each
time with its zone (pipsystem.l10n): `{{ value|percent }}`, `{{ moment|zoned }}`,
`{{ moment|zoned:team.timezone }}`, `{{ day|shortdate }}`, `{{ n|days }}`,
`{{ version|written_in }}`."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext, pgettext_lazy

from metrics.catalog import CATALOG
from pips import languages
from pipsystem import l10n

register = template.Library()


@register.filter
def percent(value):
    return l10n.percent(value)


@register.filter
def number(value, decimals=None):
    return l10n.number(value, None if decimals in (None, "") else int(decimals))


@register.filter
def shortdate(value):
    return l10n.date(value)


@register.filter
def longdate(value):
    return l10n.date(value, long=True)


@register.filter
def zoned(value, zone=None):
    """Date and time with the zone's name: "29/11/2026 10:00 EST"."""
    return l10n.datetime(value, zone or None)


@register.filter
def zoned_time(value, zone=None):
    return l10n.time(value, zone or None)


@register.filter
def days(value):
    return l10n.days(int(value))


@register.filter
def language_name(code):
    """The language's name in the reader's language, for a sentence: "espagnol"."""
    return languages.language_in_words(code)


ROLE_LABELS = {
    "agent": pgettext_lazy("role", "agent"),
    "supervisor": pgettext_lazy("role", "supervisor"),
    "hr": pgettext_lazy("role", "HR"),
    "analyst": pgettext_lazy("role", "analyst"),
    "admin": pgettext_lazy("role", "admin"),
}


@register.filter
def role_label(role):
    """A role's name in the reader's language, as the badges beside their name show it."""
    return ROLE_LABELS.get(role, role)


# --- KPI snapshots: stored with a check-in in English; shown in the reader's language ---------

_UNITS = {kpi["code"]: kpi["unit"] for kpi in CATALOG}


def _kpi_value(code: str | None, value, fallback: str) -> str:
    """A stored KPI value written again in the reader's language, when its unit is known (the
    shipped KPIs); otherwise as it was stored."""
    if value is None:
        return fallback or "—"
    unit = _UNITS.get(code or "")
    if unit == "percent":
        return l10n.percent(value)
    if unit == "seconds":
        return l10n.clock_duration(value)
    if unit == "count":
        return l10n.number(value)
    return fallback


@register.filter
def kpi_label(name):
    """A shipped KPI's name in the reader's language (its English name is the msgid)."""
    return gettext(name) if name else name


@register.filter
def snapshot_value(entry):
    return _kpi_value(entry.get("kpi"), entry.get("value"), entry.get("formatted", ""))


@register.filter
def snapshot_standard(entry):
    standard = entry.get("standard") or ""
    target = entry.get("target")
    if target is None or standard[:1] not in ("≥", "≤"):
        return standard
    return f"{standard[0]} {_kpi_value(entry.get('kpi'), target, standard[1:].strip())}"
