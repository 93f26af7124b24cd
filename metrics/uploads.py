"""The upload page's steps around `metrics.loading`: files kept between upload, mapping and
preview; saved mappings per source; and the background load of a large file that the page
follows with a progress bar. Nothing here validates or writes samples itself: that is
`metrics.loading`, the one code path for the page, the API and `manage.py import_metrics`."""

from __future__ import annotations

import io
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from metrics.loading import LoadResult, load_file, source_mapping
from metrics.models import MetricLoad, MetricSource
from metrics.parsing import ColumnMapping, FileError, open_table

logger = logging.getLogger(__name__)

SESSION_KEY = "metrics_uploads"
KEPT_UPLOADS = 5  # per session; older ones are forgotten (and their files removed)
SAMPLE_ROWS = 3  # rows shown under each column on the mapping step
ALLOWED_EXTENSIONS = (".csv", ".txt", ".xlsx")


def upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "uploads"


@dataclass
class StoredUpload:
    """A file waiting to be mapped, previewed and loaded, as kept in the uploader's session."""

    token: str
    path: str
    filename: str
    size: int
    source_id: int
    mapping: dict[str, Any] = field(default_factory=dict)
    rows_total: int | None = None  # values found by the last clean preview
    load_id: int | None = None

    @property
    def column_mapping(self) -> ColumnMapping | None:
        return ColumnMapping.parse(self.mapping) if self.mapping else None


def store_upload(session, file: UploadedFile, source: MetricSource) -> StoredUpload:
    """Keep an uploaded file under MEDIA_ROOT/uploads/ under a random name, for this session."""
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(16)
    ext = os.path.splitext(file.name or "")[1].lower()
    path = directory / f"{token}{ext if ext in ALLOWED_EXTENSIONS else '.csv'}"
    with path.open("wb") as out:
        for chunk in file.chunks():
            out.write(chunk)
    upload = StoredUpload(
        token=token,
        path=str(path),
        filename=os.path.basename(file.name or "upload.csv")[:255],
        size=file.size or path.stat().st_size,
        source_id=source.pk,
        mapping=dict(source.mapping or {}),
    )
    uploads = dict(session.get(SESSION_KEY, {}))
    uploads[token] = asdict(upload)
    for old in list(uploads)[:-KEPT_UPLOADS]:
        _remove(uploads.pop(old).get("path", ""))
    session[SESSION_KEY] = uploads
    return upload


def upload_of(session, token: str) -> StoredUpload | None:
    """The upload this session made under `token`; None for anything else (the view's 404)."""
    data = session.get(SESSION_KEY, {}).get(token)
    if not data or not Path(data["path"]).is_file():
        return None
    return StoredUpload(**data)


def remember(session, upload: StoredUpload) -> None:
    uploads = dict(session.get(SESSION_KEY, {}))
    uploads[upload.token] = asdict(upload)
    session[SESSION_KEY] = uploads


def forget(session, upload: StoredUpload, *, keep_file: bool = False) -> None:
    uploads = dict(session.get(SESSION_KEY, {}))
    uploads.pop(upload.token, None)
    session[SESSION_KEY] = uploads
    if not keep_file:
        _remove(upload.path)


def _remove(path: str) -> None:
    try:
        Path(path).unlink(missing_ok=True)
    except OSError:  # already gone or not ours to remove: nothing to undo
        logger.warning("Could not remove the stored upload %s", path)


@dataclass(frozen=True)
class FileHeader:
    columns: list[str]
    samples: list[list[str]]  # the first few rows, one list of cells per column

    def sample_of(self, index: int) -> list[str]:
        return [row[index] if index < len(row) else "" for row in self.samples]


def read_header(upload: StoredUpload) -> FileHeader:
    """The file's column names and its first rows. Raises FileError for an unreadable file."""
    with open(upload.path, "rb") as file, open_table(file, filename=upload.filename) as table:
        samples = []
        for row in table.rows:
            samples.append(list(row))
            if len(samples) >= SAMPLE_ROWS:
                break
        columns = [name for name in table.header]
    if not any(name.strip() for name in columns):
        raise FileError("the first line (the header) names no columns")
    return FileHeader(columns, samples)


def source_named(name: str) -> MetricSource:
    source, _ = MetricSource.objects.get_or_create(name=name.strip())
    return source


def save_mapping(source: MetricSource, mapping: ColumnMapping) -> None:
    """The mapping is kept per source, so the next file from the same system needs none."""
    source.mapping = mapping.as_dict()
    source.save(update_fields=["mapping"])


def load_now(upload: StoredUpload, user: AbstractBaseUser) -> LoadResult:
    """Load a stored upload during the request (files up to METRICS_ASYNC_ROWS values)."""
    source = MetricSource.objects.get(pk=upload.source_id)
    with open(upload.path, "rb") as file:
        return load_file(
            file,
            source=source,
            mapping=upload.mapping,
            uploaded_by=user,
            filename=upload.filename,
        )


def queue_load(upload: StoredUpload, user: AbstractBaseUser) -> MetricLoad:
    """Record a pending load and queue the background task once the record is committed."""
    from metrics import tasks

    load = MetricLoad.objects.create(
        source_id=upload.source_id,
        uploaded_by=user,
        filename=upload.filename,
        status=MetricLoad.Status.PENDING,
        rows_total=upload.rows_total or 0,
    )
    transaction.on_commit(lambda: tasks.enqueue_load(load.pk, upload.path))
    return load


def load_stored(load_id: int, path: str) -> MetricLoad | None:
    """The background task's work: load a stored file into its pending record, reporting
    progress as it goes. Safe to run twice: only a pending load is claimed."""
    claimed = MetricLoad.objects.filter(pk=load_id, status=MetricLoad.Status.PENDING).update(
        status=MetricLoad.Status.RUNNING
    )
    if not claimed:
        return None
    load = MetricLoad.objects.select_related("source").get(pk=load_id)
    report = _progress_reporter(load)
    try:
        size = os.path.getsize(path)
        raw = _CountingReader(open(path, "rb", buffering=0), size, report)  # noqa: SIM115
        with io.BufferedReader(raw) as file:
            load_file(
                file,
                source=load.source,
                mapping=source_mapping(load.source),
                uploaded_by=load.uploaded_by,
                filename=load.filename,
                load=load,
            )
    except Exception:
        # The load itself records what went wrong; a file or mapping gone missing is recorded here.
        MetricLoad.objects.filter(pk=load_id, status=MetricLoad.Status.RUNNING).update(
            status=MetricLoad.Status.REJECTED,
            errors=[{"line": None, "column": "", "reason": "the file could not be loaded"}],
        )
        logger.exception("Background load %s failed", load_id)
    finally:
        report.close()
        _remove(path)
    load.refresh_from_db()
    return load


class _CountingReader(io.RawIOBase):
    """A raw file that tells how far into it reading has got (a seek to the start, as the
    loader makes after hashing the file, starts the count again)."""

    def __init__(self, raw: io.RawIOBase, size: int, report: Callable[[float], None]) -> None:
        self._raw, self._size, self._report, self.done = raw, max(size, 1), report, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer) or 0
        self.done += count
        self._report(self.done / self._size)
        return count

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self._raw.seek(offset, whence)
        self.done = position
        return position

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()
        super().close()


class _ProgressReporter:
    """Writes `rows_loaded` as the file is read, on a connection of its own so that the page
    sees it while the load's transaction is still open. The load's own row is not locked by that
    transaction. On SQLite a second writer would wait for the first, so there is no report."""

    def __init__(self, load: MetricLoad) -> None:
        self.load_id, self.total = load.pk, load.rows_total
        self.last_at, self.last_share = 0.0, 0.0
        self.conn = None
        if connection.vendor == "postgresql" and self.total:
            self.conn = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, share: float) -> None:
        now = time.monotonic()
        if self.conn is None or (now - self.last_at < 0.5 and share - self.last_share < 0.05):
            return
        self.last_at, self.last_share = now, share
        rows = min(int(self.total * share), max(self.total - 1, 0))  # full only when finished
        table = self.conn.ops.quote_name(MetricLoad._meta.db_table)
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET rows_loaded = %s WHERE id = %s AND status = %s",
                    [rows, self.load_id, MetricLoad.Status.RUNNING],
                )
        except Exception:  # progress is a courtesy: never fail the load for it
            logger.warning("Could not report the progress of load %s", self.load_id)
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _progress_reporter(load: MetricLoad) -> _ProgressReporter:
    return _ProgressReporter(load)
