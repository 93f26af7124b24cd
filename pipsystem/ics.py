"""iCalendar invitations (RFC 5545, with the iTIP method of RFC 5546) for the meetings a plan
schedules: check-ins, the midpoint review and the final review.

Written by hand: one VEVENT per meeting, times in UTC, a UID that stays the same for a schedule
item however often it is sent, so a calendar updates the one entry instead of adding another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

MIMETYPE = "text/calendar; method=REQUEST"
FILENAME = "invite.ics"
PRODID = "-//pipsystem//Performance Improvement Plans//EN"
LINE_OCTETS = 75


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class Meeting:
    uid: str
    start: dt.datetime  # aware
    duration: dt.timedelta
    summary: str
    description: str = ""
    url: str = ""
    location: str = ""
    organizer: Person | None = None
    attendees: Sequence[Person] = field(default_factory=tuple)
    sequence: int = 0
    #: The language the summary and description are written in (a language tag such as "es"
    #: or "pt-br"): the recipient's, as the invitation is written for them (RFC 5545 3.2.10).
    language: str = ""


def uid_for(schedule_item_id: int) -> str:
    """The same UID for a schedule item every time: a resent invitation updates the entry."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"pip-schedule-{schedule_item_id}@{host}"


def escape_text(value: str) -> str:
    """TEXT values (RFC 5545 3.3.11): backslash, semicolon, comma and newlines are escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _param(value: str) -> str:
    """A parameter value (CN=…): quoted when it holds , ; or :, and never a double quote."""
    value = " ".join(value.replace('"', "'").split())
    return f'"{value}"' if any(c in value for c in ",;:") else value


def fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 3.1) without splitting a UTF-8
    character: CRLF and one space before each continuation."""
    encoded = line.encode()
    if len(encoded) <= LINE_OCTETS:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    limit = LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
            limit = LINE_OCTETS - 1  # the leading space of a continuation counts
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def utc_stamp(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("iCalendar times must be aware datetimes")
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _duration(value: dt.timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes or not hours else "")


def _person(name: str, person: Person, extra: str = "") -> str:
    return f"{name};CN={_param(person.name)}{extra}:mailto:{person.email}"


def calendar(
    meetings: Sequence[Meeting], *, method: str = "REQUEST", now: dt.datetime | None = None
) -> str:
    """A VCALENDAR with one VEVENT per meeting, CRLF line endings as the RFC requires."""
    stamp = utc_stamp(now or dt.datetime.now(dt.UTC))
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
    ]
    for meeting in meetings:
        text_param = f";LANGUAGE={_param(meeting.language)}" if meeting.language else ""
        lines += [
            "BEGIN:VEVENT",
            f"UID:{meeting.uid}",
            f"SEQUENCE:{meeting.sequence}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{utc_stamp(meeting.start)}",
            f"DURATION:{_duration(meeting.duration)}",
            f"SUMMARY{text_param}:{escape_text(meeting.summary)}",
        ]
        if meeting.description:
            lines.append(f"DESCRIPTION{text_param}:{escape_text(meeting.description)}")
        if meeting.location:
            lines.append(f"LOCATION:{escape_text(meeting.location)}")
        if meeting.url:
            lines.append(f"URL:{meeting.url}")
        if meeting.organizer and meeting.organizer.email:
            lines.append(_person("ORGANIZER", meeting.organizer))
        for attendee in meeting.attendees:
            if attendee.email:
                lines.append(
                    _person(
                        "ATTENDEE",
                        attendee,
                        ";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE",
                    )
                )
        # Plans are HR records: calendars that share free/busy show no details.
        lines += ["CLASS:PRIVATE", "STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def attachment(
    meetings: Sequence[Meeting], *, now: dt.datetime | None = None
) -> tuple[str, str, str]:
    """(filename, content, mimetype) for pips.notifications.emails.send(attachments=[…])."""
    return FILENAME, calendar(meetings, now=now), MIMETYPE
