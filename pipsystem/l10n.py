"""Numbers, percentages, durations, dates and times written the way the active language writes
them: "87.1 %" / "87,1 %" / "87,1%", "29 Nov 2026" / "29/11/2026", and a time always with its
zone ("10:00 EST", "10 h 00 HNE"). Pages, e-mails and PDFs use these (and the `l10n` template
filters of pips.templatetags.l10n), never str.format or strftime, which know one locale.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils import formats, timezone, translation
from django.utils.translation import ngettext

#: How each language writes a percentage around the number: French and Spanish put a
#: non-breaking space before the sign (Office québécois de la langue française, RAE); Brazilian
#: Portuguese writes it close. English keeps the spaced sign pipsystem has always printed.
PERCENT_PATTERNS = {
    "en": "{} %",
    "es": "{}\xa0%",
    "fr": "{}\xa0%",
    "pt-br": "{}%",
}


def _language() -> str:
    return (translation.get_language() or "en").lower()


def number(value: float | int | None, decimals: int | None = None) -> str:
    """A number with the language's decimal separator and digit grouping."""
    if value is None:
        return "—"
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 1
    return formats.number_format(
        round(float(value), decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True
    )


def percent(value: float | None, decimals: int = 1) -> str:
    """A value already in percent (87.1 for 87.1 %), as "87.1 %", "87,1 %" or "87,1%". A whole
    number drops its decimals: "100 %"."""
    if value is None:
        return "—"
    rounded = round(float(value), decimals)
    shown = number(rounded, 0 if rounded.is_integer() else decimals)
    return PERCENT_PATTERNS.get(_language(), "{} %").format(shown)


def clock_duration(seconds: float | None) -> str:
    """A handle time as minutes and seconds, "5:07": the same in every language."""
    if seconds is None:
        return "—"
    total = round(seconds)
    minutes, rest = divmod(abs(total), 60)
    sign = "-" if total < 0 else ""
    return f"{sign}{minutes}:{rest:02d}"


def days(count: int) -> str:
    """A duration in days, "30 days" / "30 días" / "30 jours" / "30 dias"."""
    return ngettext("%(count)s day", "%(count)s days", count) % {"count": number(count, 0)}


def date(value: dt.date | None, long: bool = False) -> str:
    """A date as the language writes it: "29 Nov 2026", "29/11/2026"."""
    if not isinstance(value, dt.date):
        # As Django's date filter: what is not a date (None, an ISO string) is left as it is.
        return "" if value is None else str(value)
    return formats.date_format(value, "DATE_FORMAT" if long else "SHORT_DATE_FORMAT")


def zone_abbreviation(moment: dt.datetime) -> str:
    """The zone's short name at that moment ("EST", "CET"); the IANA name when the zone has
    no letters of its own ("-03" becomes "America/Sao_Paulo")."""
    abbreviation = moment.tzname() or ""
    if abbreviation and abbreviation[0] in "+-":
        key = getattr(moment.tzinfo, "key", "")
        return key or f"UTC{abbreviation}"
    return abbreviation


def time(moment: dt.datetime | None, zone: str | dt.tzinfo | None = None) -> str:
    """A time of day with its zone, "10:00 EST", in ``zone`` (a name or tzinfo; default the
    current zone)."""
    if moment is None:
        return ""
    local = _in_zone(moment, zone)
    return f"{formats.time_format(local, 'TIME_FORMAT')} {zone_abbreviation(local)}"


def datetime(moment: dt.datetime | None, zone: str | dt.tzinfo | None = None) -> str:
    """A date and time with its zone, "29/11/2026 10:00 EST"."""
    if not isinstance(moment, dt.datetime):
        return "" if moment is None else date(moment)
    local = _in_zone(moment, zone)
    return f"{formats.date_format(local, 'SHORT_DATETIME_FORMAT')} {zone_abbreviation(local)}"


def _in_zone(moment: dt.datetime, zone: str | dt.tzinfo | None) -> dt.datetime:
    if isinstance(zone, str):
        zone = zoneinfo.ZoneInfo(zone)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return timezone.localtime(moment, zone)
