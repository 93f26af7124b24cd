"""Roster sync from a folder: the HR system (or an SFTP job) drops export files into
`ROSTER_DROP_FOLDER`; each is loaded in name order, as `ROSTER_DROP_USER` from
`ROSTER_DROP_SOURCE` with its saved mapping, then moved to `loaded/` or `refused/` beside it.

Run by the beat every `ROSTER_DROP_INTERVAL_SECONDS` when the folder is set, or by
`manage.py import_roster --folder DIR`. Safe to run twice or to die midway: a file is moved
only after its load is recorded, and loading the same file again changes nothing.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model

from pips.roster.models import ImportOrigin, ImportStatus, RosterSource
from pips.roster.parsing import RosterMapping
from pips.roster.uploads import EXTENSIONS
from pips.services.roster import RosterFile, roster_load_file

logger = logging.getLogger(__name__)


@dataclass
class DropReport:
    loaded: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class DropFolderError(Exception):
    pass


def sync_folder(folder: Path, *, source_name: str, username: str) -> DropReport:
    folder = Path(folder)
    if not folder.is_dir():
        raise DropFolderError(f"{folder} is not a folder")
    actor = get_user_model().objects.filter(username=username, is_active=True).first()
    if actor is None:
        raise DropFolderError(f"no active account named {username}")
    source = RosterSource.objects.filter(name=source_name).first()
    if source is None or not source.mapping:
        raise DropFolderError(
            f"{source_name} has no saved mapping: load one file from the page or with "
            "import_roster --mapping first"
        )
    mapping = RosterMapping.parse(source.mapping)
    report = DropReport()
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)
    for path in files:
        record = roster_load_file(
            actor=actor,
            source=source,
            file=RosterFile(data=path.read_bytes(), filename=path.name),
            mapping=mapping,
            origin=ImportOrigin.COMMAND,
        )
        outcome = "loaded" if record.status == ImportStatus.LOADED else "refused"
        target = folder / outcome
        target.mkdir(exist_ok=True)
        shutil.move(str(path), str(target / path.name))
        getattr(report, outcome).append(path.name)
        logger.info("roster file %s %s (import %s)", path.name, outcome, record.pk)
    return report
