"""Load a roster file from the HR system: the same preview and load as the page and the API.

    manage.py import_roster FILE --source Workday --user hr.service [--mapping JSON] [--dry-run]
    manage.py import_roster --folder DIR --source Workday --user hr.service

The source's saved mapping is used unless --mapping gives one (then it is saved). Exit status:
0 loaded (or previewed clean), 1 refused (nothing changed; the refusals are printed by line),
2 bad arguments. Suitable for a scheduled job over a folder the HR system drops files into.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from pips.roster.models import ImportOrigin, ImportStatus, RosterSource
from pips.roster.parsing import FileError, MappingError, RosterMapping
from pips.services.roster import RosterFile, may_load_roster, roster_load, roster_preview


class Command(BaseCommand):
    help = "Preview or load a roster export (CSV or XLSX) from the HR system."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, nargs="?")
        parser.add_argument(
            "--folder",
            type=Path,
            help="load every CSV/XLSX file in this folder, moving each to loaded/ or refused/",
        )
        parser.add_argument("--source", required=True, help="the HR system, e.g. Workday")
        parser.add_argument(
            "--user", required=True, help="username of the HR account the load is recorded as"
        )
        parser.add_argument("--mapping", help="column mapping as JSON (saved for the source)")
        parser.add_argument("--dry-run", action="store_true", help="preview only")

    def handle(self, *args, file, source: str, user: str, mapping, dry_run, folder, **options):
        if folder is not None:
            from pips.roster.dropfolder import DropFolderError, sync_folder

            try:
                report = sync_folder(folder, source_name=source, username=user)
            except DropFolderError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{len(report.loaded)} loaded, {len(report.refused)} refused")
            if report.refused:
                raise SystemExit(1)
            return
        if file is None:
            raise CommandError("give a FILE, or --folder")
        actor = get_user_model().objects.filter(username=user).first()
        if actor is None or not may_load_roster(actor):
            raise CommandError(f"{user} is not an HR or administrator account.")
        record_source = RosterSource.objects.filter(name=source).first()
        raw = json.loads(mapping) if mapping else (record_source.mapping if record_source else None)
        if not raw:
            raise CommandError(f"No mapping saved for {source}: give --mapping.")
        try:
            column_mapping = RosterMapping.parse(raw)
        except (MappingError, ValueError) as exc:
            raise CommandError(f"--mapping: {exc}") from None
        try:
            roster_file = RosterFile(data=file.read_bytes(), filename=file.name)
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        if dry_run:
            try:
                plan = roster_preview(table=roster_file.table(), mapping=column_mapping)
            except FileError as exc:
                self.stderr.write(f"line {exc.line}: {exc.reason}")
                raise SystemExit(1) from None
            self.stdout.write(json.dumps(plan.summary()))
            for error in plan.errors.items:
                self.stderr.write(str(error))
            if not plan.ok:
                raise SystemExit(1)
            return
        record_source = record_source or RosterSource.objects.create(name=source)
        try:
            table = roster_file.table()
        except FileError as exc:
            self.stderr.write(f"line {exc.line}: {exc.reason}")
            raise SystemExit(1) from None
        record = roster_load(
            actor=actor,
            source=record_source,
            table=table,
            mapping=column_mapping,
            origin=ImportOrigin.COMMAND,
            filename=file.name,
            sha256=roster_file.sha256,
        )
        summary = (
            f"{record.status}: {record.rows_total} rows, {record.created} new, "
            f"{record.updated} changed, {record.unchanged} unchanged, {record.transferred} "
            f"transfers, {record.deactivated} left, {record.plans_reassigned} plans moved, "
            f"{record.plans_ended} plans ended (import {record.pk}, {record.duration_ms} ms)"
        )
        if record.status != ImportStatus.LOADED:
            self.stderr.write(summary)
            for error in record.errors:
                where = f"line {error['line']}" + (
                    f", {error['column']}" if error["column"] else ""
                )
                self.stderr.write(f"{where}: {error['reason']}")
            raise SystemExit(1)
        self.stdout.write(summary)
