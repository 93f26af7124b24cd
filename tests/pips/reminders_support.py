"""What the reminder tests share: New York time, the reminders sent, KPI data for a plan."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

import time_machine

from metrics import rollups
from metrics.models import Kpi, Sample
from pips import reminders
from pips.models import (
    Reminder,
)
from pips.services import SignatureInput

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# The subjects of the sweep's e-mails.
OURS = re.compile(r"^(Tomorrow: |Please sign |Not signed: |Overdue: )|waiting for HR|is open: ")
UTC = dt.UTC


def ny(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NEW_YORK)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def sent_reminders() -> set[tuple[str, str, str, str]]:
    """(kind, due on, recipient, local day sent) of every reminder sent."""
    return {
        (
            r.kind,
            r.due_on.isoformat(),
            r.recipient.username,
            f"{r.sent_at.astimezone(NEW_YORK):%m-%d}",
        )
        for r in Reminder.objects.select_related("recipient").exclude(sent_at=None)
    }


def load_samples(employee_id: str, start: dt.date, end: dt.date, qa, csat) -> None:
    codes = {k.code: k for k in Kpi.objects.filter(code__in=["qa_score", "csat"])}
    rows = []
    day = start
    while day <= end:
        rows.append(Sample(employee_id=employee_id, kpi=codes["qa_score"], date=day, value=qa(day)))
        rows.append(
            Sample(employee_id=employee_id, kpi=codes["csat"], date=day, value=csat(day), weight=2)
        )
        day += dt.timedelta(days=1)
    Sample.objects.bulk_create(rows)
    rollups.rebuild()  # written beside the loader: the weekly totals too


def sig(user, **extra) -> SignatureInput:
    return SignatureInput(typed_name=user.get_full_name(), consent=True, **extra)


def unfold(text: str) -> list[str]:
    assert "\n" not in text.replace("\r\n", "")
    return text.replace("\r\n ", "").split("\r\n")


@dataclass
class Run:
    recorded: int
    reclaimed: int
    sent: int
    failed: int
    skipped: int


def run_sweep(now: dt.datetime | None = None) -> Run:
    """A sweep and then its send tasks, one after the other here, as a worker would run them."""
    report = reminders.sweep(now=now)
    sends = [reminders.send_claimed(chunk, report.claimed_at) for chunk in report.chunks()]
    return Run(
        recorded=report.recorded,
        reclaimed=report.reclaimed,
        sent=sum(s.sent for s in sends),
        failed=sum(s.failed for s in sends),
        skipped=sum(s.skipped for s in sends),
    )


def sweep_at(moment: dt.datetime) -> Run:
    with time_machine.travel(moment, tick=False):
        return run_sweep()
