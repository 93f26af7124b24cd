"""Template filters for numbers, percentages, dates and times in the reader's language, each
time with its zone (pipsystem.l10n): `{{ value|percent }}`, `{{ moment|zoned }}`,
`{{ moment|zoned:team.timezone }}`, `{{ day|shortdate }}`, `{{ n|days }}`,
`{{ version|written_in }}`."""

from __future__ import annotations

from django import template

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
