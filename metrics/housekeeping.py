"""Loads that never finished, and uploaded files that were never loaded.

A background load runs in one transaction, so a worker that died in the middle (or a broker
that never delivered the task) leaves nothing half-loaded, but it does leave the load's record
"pending" or "loading" for ever, with a progress bar that never moves, and the uploaded file
in the uploads storage. An hourly beat job (`metrics.tasks.housekeeping`) closes such records
with a reason the analyst can act on and removes upload files older than a day.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from metrics.models import MetricLoad
from metrics.uploads import FOLDER, upload_storage

logger = logging.getLogger(__name__)

# Stored on the load in the language active when it is closed (the organisation's, in a job).
STALLED_REASON = gettext_noop(
    "the load did not finish: the background worker stopped or never started it. Nothing was "
    "saved; upload the file again."
)


@dataclass(frozen=True)
class Housekeeping:
    loads_closed: int
    files_removed: int


def stale_after() -> dt.timedelta:
    """How long a load may stay pending or loading before it counts as stalled. A million rows
    load in seconds; a day is far beyond any real load, or any broker outage worth waiting for."""
    return dt.timedelta(hours=settings.METRICS_STALE_LOAD_HOURS)


def close_stalled_loads(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    closed = MetricLoad.objects.filter(
        status__in=[MetricLoad.Status.PENDING, MetricLoad.Status.RUNNING],
        created_at__lt=now - stale_after(),
    ).update(
        status=MetricLoad.Status.REJECTED,
        errors=[{"line": None, "column": "", "reason": gettext(STALLED_REASON)}],
        finished_at=now,
    )
    if closed:
        logger.warning("Closed %d stalled metric loads", closed)
    return closed


def remove_old_uploads(now: dt.datetime | None = None) -> int:
    """Upload files (kept between the mapping, preview and load steps, in the uploads storage)
    older than the stall limit: their session has moved on, or their load has been closed
    above."""
    cutoff = (now or timezone.now()) - stale_after()
    storage = upload_storage()
    try:
        names = storage.listdir(FOLDER)[1]
    except FileNotFoundError:  # the local folder does not exist until the first upload
        return 0
    removed = 0
    for filename in names:
        name = f"{FOLDER}/{filename}"
        try:
            if storage.get_modified_time(name) < cutoff:
                storage.delete(name)
                removed += 1
        except FileNotFoundError:  # removed by its own load meanwhile
            continue
    return removed


def run(now: dt.datetime | None = None) -> Housekeeping:
    now = now or timezone.now()
    return Housekeeping(close_stalled_loads(now), remove_old_uploads(now))
