"""What an audit event tells people: `handlers` (one per action that notifies: e-mails and in-app
notifications, delivered once per event after the step commits), `emails` (rendering and
sending) and `inbox` (the in-app notifications a user reads)."""

from __future__ import annotations

from pips.notifications.handlers import HANDLERS, deliver, wants_delivery

__all__ = ["HANDLERS", "deliver", "wants_delivery"]
