"""Every status a plan can be in has a badge colour: a badge without one is white text on
nothing, and the status it names is unreadable (the "ended" badge once was)."""

from __future__ import annotations

import re
from pathlib import Path

from pips.models import Status

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "app.css"


def test_every_status_has_a_badge_colour():
    styled = set(re.findall(r"\.status-([a-z_]+)", CSS.read_text()))
    assert set(Status.values) <= styled, sorted(set(Status.values) - styled)
