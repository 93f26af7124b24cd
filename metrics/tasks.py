"""Background loads of large KPI files. Thin: the task takes the pending `MetricLoad` and the
stored file's name in the uploads storage (so a worker on any machine can read it), and
`metrics.uploads.load_stored` does the work (claiming the load first, so a second delivery of
the same message does nothing)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import translation

from metrics import housekeeping as housekeeping_
from metrics import uploads

logger = logging.getLogger(__name__)


# A monthly export of a few million values takes minutes, longer than the default limit for
# tasks; METRICS_LOAD_TIME_LIMIT is sized for the largest file the upload page accepts.
@shared_task(
    acks_late=True,
    soft_time_limit=settings.METRICS_LOAD_TIME_LIMIT,
    time_limit=settings.METRICS_LOAD_TIME_LIMIT + 60,
)
def load_file_task(load_id: int, path: str, language: str = "") -> str | None:
    # The reasons a load is refused are stored as text, in the uploader's language (the one
    # active on the page that queued it); "" for the organisation's (settings.LANGUAGE_CODE).
    with translation.override(language or settings.LANGUAGE_CODE):
        load = uploads.load_stored(load_id, path)
    return None if load is None else load.status


@shared_task(
    acks_late=True,
    soft_time_limit=settings.METRICS_LOAD_TIME_LIMIT,
    time_limit=settings.METRICS_LOAD_TIME_LIMIT + 60,
)
def preview_file_task(
    path: str, filename: str, mapping: dict, sha256: str, language: str = ""
) -> None:
    """Preview a large upload (a file the web request should not parse); safe to run twice.
    Its problems are written in `language`, the uploader's."""
    with translation.override(language or settings.LANGUAGE_CODE):
        uploads.preview_stored(path, filename, mapping, sha256)


def enqueue_preview(path: str, filename: str, mapping: dict, sha256: str) -> None:
    try:
        preview_file_task.delay(path, filename, mapping, sha256, translation.get_language() or "")
    except Exception:
        logger.exception("Could not queue the background preview of %s", filename)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def housekeeping() -> dict:
    """Hourly: close loads that stalled and remove uploaded files nobody loaded."""
    done = housekeeping_.run()
    return {"loads_closed": done.loads_closed, "files_removed": done.files_removed}


def enqueue_load(load_id: int, path: str) -> None:
    """Queue a background load; called after the pending record is committed."""
    try:
        load_file_task.delay(load_id, path, translation.get_language() or "")
    except Exception:
        # The load stays pending and the page says so; the analyst can upload the file again.
        logger.exception("Could not queue the background load %s", load_id)
