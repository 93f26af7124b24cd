"""Working days: the deadlines of plans (the employee's signature, escalations) count Monday to
Friday."""

from __future__ import annotations

import datetime as dt


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """`days` working days (Monday to Friday) after `start`, at the same time of day."""
    result = start
    while days > 0:
        result += dt.timedelta(days=1)
        if result.weekday() < 5:
            days -= 1
    return result
