"""What forms hand to services: who is asking from where, and the typed inputs of signing,
check-ins and reviews. Plain data, so forms need not import the services."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pips.languages import CONSENT_TEXT  # noqa: F401  (translated; defined with the languages)
from pipsystem.images import PNG_MAGIC, NotAPng, png_dimensions


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


PNG_PREFIX = "data:image/png;base64,"
#: A drawn signature: a PNG data URL of at most this many characters (about 300 KB; a drawing
#: is a few tens), and of at most this many pixels across and down (a signature pad the width
#: of a large screen at three or four device pixels per CSS pixel).
MAX_IMAGE_CHARS = 400_000
MAX_IMAGE_WIDTH, MAX_IMAGE_HEIGHT = 4000, 1000
_UNREADABLE = gettext_lazy("The drawn signature could not be read. Clear it and draw it again.")


def image_problem(image: str) -> str | None:
    """What is wrong with a drawn signature (a PNG data URL), or None when nothing is. Its size
    in pixels is read from the PNG header before anything else of it is decoded: a PNG of a
    few kilobytes can be 13,000 pixels square, which printing would then have to decode."""
    if not image:
        return None
    if not image.startswith(PNG_PREFIX):
        return _("The drawn signature was not a PNG image.")
    encoded = image[len(PNG_PREFIX) :]
    if len(image) > MAX_IMAGE_CHARS:
        return _("The drawn signature is too large. Clear it and draw it again.")
    try:
        head = base64.b64decode(encoded[:32], validate=True)  # 24 bytes: up to the size
        width, height = png_dimensions(head)
    except NotAPng:
        if not head.startswith(PNG_MAGIC[: len(head)]):
            return _("The drawn signature was not a PNG image.")
        return str(_UNREADABLE)
    except (binascii.Error, ValueError):
        return str(_UNREADABLE)
    if width > MAX_IMAGE_WIDTH or height > MAX_IMAGE_HEIGHT:
        return _(
            "The drawn signature is %(width)s × %(height)s pixels; at most %(max_width)s × "
            "%(max_height)s are accepted. Clear it and draw it again."
        ) % {
            "width": width,
            "height": height,
            "max_width": MAX_IMAGE_WIDTH,
            "max_height": MAX_IMAGE_HEIGHT,
        }
    try:
        base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return str(_UNREADABLE)
    return None
