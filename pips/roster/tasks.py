"""The beat's roster sync from a drop folder (ROSTER_DROP_FOLDER): thin, safe to run twice."""

from __future__ import annotations

from pathlib import Path

from celery import shared_task
from django.conf import settings

from pips.roster.dropfolder import sync_folder


@shared_task(acks_late=True)
def sync_drop_folder() -> dict:
    if not settings.ROSTER_DROP_FOLDER:
        return {"skipped": "ROSTER_DROP_FOLDER is not set"}
    report = sync_folder(
        Path(settings.ROSTER_DROP_FOLDER),
        source_name=settings.ROSTER_DROP_SOURCE,
        username=settings.ROSTER_DROP_USER,
    )
    return {"loaded": report.loaded, "refused": report.refused}
