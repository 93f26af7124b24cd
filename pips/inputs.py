"""What forms hand to services: who is asking from where, and the typed inputs of signing,
check-ins and reviews. Plain data, so forms need not import the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pips.languages import CONSENT_TEXT  # noqa: F401  (translated; defined with the languages)


@dataclass(frozen=True)
class RequestMeta:
    """Who is asking from where: recorded on audit events and signatures."""

    ip_address: str | None = None
    user_agent: str = ""


@dataclass
class SignatureInput:
    typed_name: str
    consent: bool
    image: str = ""
    agrees: bool | None = None
    comments: str = ""
    # The language the consent statement was shown in; empty: the language active now.
    language: str = ""


@dataclass
class ReviewItemInput:
    expectation_id: int
    confirmed: bool
    evidence: str = ""
    adjustment: str = ""


@dataclass
class CheckInInput:
    held_on: dt.date
    scheduled_for: dt.date | None = None
    attendees: str = ""
    notes: str = ""
    coaching_done: str = ""
    next_steps: str = ""
    snapshot_note: str = ""
    action_statuses: dict[int, str] = field(default_factory=dict)
    # The sessions of recurring support held since the last check-in, by action item.
    sessions_held: dict[int, list[dt.date]] = field(default_factory=dict)


NO_META = RequestMeta()
