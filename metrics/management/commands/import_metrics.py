from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics.loading import load_file, preview_file, source_mapping
from metrics.models import MetricSource
from metrics.parsing import ColumnMapping, MappingError, RowError

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = (
        "Load a CSV or XLSX file of KPI samples for a source, all or nothing. Uses the source's "
        "saved column mapping unless --mapping is given. Exits non-zero if the file is rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", required=True, help="the MetricSource name")
        parser.add_argument("--mapping", help="the column mapping as JSON, or a JSON file")
        parser.add_argument(
            "--save-mapping",
            action="store_true",
            help="store --mapping on the source, creating the source if needed",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and show rows; write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        mapping = self._mapping(options["mapping"])
        source = self._source(options["source"], mapping, options["save_mapping"])
        try:
            mapping = mapping or source_mapping(source)
            with path.open("rb") as file:
                if options["dry_run"]:
                    self._preview(file, path, mapping)
                else:
                    self._load(file, path, source, mapping)
        except MappingError as exc:
            raise CommandError(f"mapping: {exc}") from None

    def _mapping(self, text: str | None) -> ColumnMapping | None:
        if not text:
            return None
        if not text.lstrip().startswith("{"):
            try:
                text = Path(text).read_text(encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"--mapping: {exc}") from None
        try:
            return ColumnMapping.parse(text)
        except MappingError as exc:
            raise CommandError(f"--mapping: {exc}") from None

    def _source(self, name: str, mapping: ColumnMapping | None, save: bool) -> MetricSource:
        if save:
            if mapping is None:
                raise CommandError("--save-mapping needs --mapping")
            source, _ = MetricSource.objects.update_or_create(
                name=name, defaults={"mapping": mapping.as_dict()}
            )
            return source
        try:
            return MetricSource.objects.get(name=name)
        except MetricSource.DoesNotExist:
            raise CommandError(
                f"unknown source {name!r}; create it with --mapping … --save-mapping"
            ) from None

    def _preview(self, file: Any, path: Path, mapping: ColumnMapping) -> None:
        preview = preview_file(file, mapping=mapping, filename=path.name)
        for row in preview.rows:
            self.stdout.write(
                f"line {row.line}: {row.employee_id} {row.kpi} {row.date} {row.value:g}"
                f" (weight {row.weight:g})"
            )
        if not preview.ok:
            self._fail(path, preview.errors, preview.error_count)
        self.stdout.write(
            self.style.SUCCESS(f"{path.name}: {preview.rows_total:,} values OK (dry run)")
        )

    def _load(self, file: Any, path: Path, source: MetricSource, mapping: ColumnMapping) -> None:
        result = load_file(file, source=source, mapping=mapping, filename=path.name)
        if not result.ok:
            self._fail(path, result.errors, result.error_count)
        unchanged = result.rows_total - result.rows_changed
        self.stdout.write(
            self.style.SUCCESS(
                f"{path.name}: loaded {result.rows_total:,} values; {result.rows_changed:,}"
                f" inserted or changed, {unchanged:,} unchanged (load {result.load.pk})"
            )
        )

    def _fail(self, path: Path, errors: list[RowError], count: int) -> None:
        for error in errors[:SHOWN_ERRORS]:
            self.stderr.write(str(error))
        if count > SHOWN_ERRORS:
            self.stderr.write(f"… and {count - SHOWN_ERRORS:,} more")
        raise CommandError(f"{path.name}: rejected, nothing loaded ({count:,} errors)")
