"""The upload page's steps around `metrics.loading`: files kept between upload, mapping and
preview; saved mappings per source; and the background load of a large file that the page
follows with a progress bar. Nothing here validates or writes samples itself: that is
`metrics.loading`, the one code path for the page, the API and `manage.py import_metrics`.

Files are kept in the "uploads" storage (settings.STORAGES), never at a path of their own: on
several machines that is object storage, so the worker that loads a file need not be on the
machine that received it. A file is read back as a seekable file: straight from the disk with
the local storage, spooled into an anonymous temporary file (deleted when closed) from object
storage, never held in memory whole."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext

from metrics.loading import LoadResult, Preview, load_file, preview_file, source_mapping
from metrics.models import MetricLoad, MetricSource
from metrics.parsing import (
    ColumnMapping,
    FileError,
    MappingError,
    guess_header,
    open_table,
    xlsx_sheets,
)

logger = logging.getLogger(__name__)

SESSION_KEY = "metrics_uploads"
KEPT_UPLOADS = 5  # per session; older ones are forgotten (and their files removed)
SAMPLE_ROWS = 3  # rows shown under each column on the mapping step
HEADER_LINES = 20  # first lines offered as the header on the mapping step
ALLOWED_EXTENSIONS = (".csv", ".txt", ".xlsx")
FOLDER = "uploads"  # in the uploads storage


def upload_storage() -> Storage:
    return storages["uploads"]


def open_stored(name: str) -> IO[bytes]:
    """A stored upload, opened for reading (seekable; close it, or use it in `with`)."""
    return upload_storage().open(name, "rb")


@dataclass
class StoredUpload:
    """A file waiting to be mapped, previewed and loaded, as kept in the uploader's session."""

    token: str
    path: str  # the file's name in the uploads storage
    filename: str
    size: int
    source_id: int
    mapping: dict[str, Any] = field(default_factory=dict)
    rows_total: int | None = None  # values found by the last clean preview
    load_id: int | None = None
    sha256: str = ""  # of the file as uploaded: the load checks it is still the same
    preview_queued: str = ""  # the mapping (JSON) a background preview was queued for

    @property
    def column_mapping(self) -> ColumnMapping | None:
        return ColumnMapping.parse(self.mapping) if self.mapping else None


def store_upload(session, file: UploadedFile, source: MetricSource) -> StoredUpload:
    """Keep an uploaded file in the uploads storage under a random name, for this session."""
    token = secrets.token_urlsafe(16)
    ext = os.path.splitext(file.name or "")[1].lower()
    digest = hashlib.sha256()
    for chunk in file.chunks():  # Django's temporary copy (or memory), read twice
        digest.update(chunk)
    file.seek(0)
    storage = upload_storage()
    name = storage.save(f"{FOLDER}/{token}{ext if ext in ALLOWED_EXTENSIONS else '.csv'}", file)
    upload = StoredUpload(
        token=token,
        path=name,
        filename=os.path.basename(file.name or "upload.csv")[:255],
        size=file.size or storage.size(name),
        source_id=source.pk,
        mapping=dict(source.mapping or {}),
        sha256=digest.hexdigest(),
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
    if not data or not upload_storage().exists(data["path"]):
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


def _remove(name: str) -> None:
    storage = upload_storage()
    for each in (name, _preview_name(name)):
        try:
            storage.delete(each)  # nothing happens for a name that is not there
        except Exception:  # not ours to remove, or the storage is away: housekeeping retries
            logger.warning("Could not remove the stored upload %s", each, exc_info=True)


@dataclass(frozen=True)
class FileHeader:
    columns: list[str]
    samples: list[list[str]]  # the first few rows, one list of cells per column
    header_row: int = 1  # the line the columns were taken from
    lines: list[list[str]] = field(default_factory=list)  # the first lines, for choosing it
    sheets: list[str] = field(default_factory=list)  # an XLSX workbook's sheets
    sheet: str = ""

    def sample_of(self, index: int) -> list[str]:
        return [row[index] if index < len(row) else "" for row in self.samples]


def read_header(
    upload: StoredUpload, *, header_row: int = 0, sheet: str = "", columns: Iterable[str] = ()
) -> FileHeader:
    """The file's column names and its first rows, with the header on `header_row` (0: the
    first line that looks like one) of `sheet`. Raises FileError for an unreadable file, and
    for a workbook of several sheets when none is named (the page then offers them)."""
    sheets: list[str] = []
    with open_stored(upload.path) as file:
        if upload.filename.lower().endswith((".xlsx", ".xlsm")):
            sheets = xlsx_sheets(file)
            if not sheet and len(sheets) > 1:
                return FileHeader([], [], 0, [], sheets, "")
            sheet = sheet or sheets[0]
        with open_table(file, filename=upload.filename, header_row=1, sheet=sheet) as table:
            lines = [list(table.header)]
            for row in table.rows:
                lines.append(list(row))
                if len(lines) >= HEADER_LINES:
                    break
    wanted = {col.strip().casefold() for col in columns}
    found = [
        i
        for i, line in enumerate(lines)
        if wanted and wanted <= {c.strip().casefold() for c in line}
    ]
    if 0 < header_row <= len(lines):
        index = header_row - 1
    else:
        index = found[0] if found else guess_header(lines)
    columns = lines[index] if lines else []
    if not any(name.strip() for name in columns):
        raise FileError(
            gettext("line %(line)s (the header) names no columns") % {"line": index + 1}
        )
    samples = lines[index + 1 : index + 1 + SAMPLE_ROWS]
    return FileHeader(columns, samples, index + 1, lines, sheets, sheet)


# --- Previews of large files, made by the worker ----------------------------------------------


def previewed_in_background(upload: StoredUpload) -> bool:
    """A file this large is parsed by the worker, not during a web request."""
    return upload.size > settings.METRICS_PREVIEW_ASYNC_BYTES


def _preview_name(name: str) -> str:
    return f"{name}.preview.json"


def preview_stored(path: str, filename: str, mapping: dict, sha256: str) -> None:
    """The background task's work: preview a stored file and keep the result beside it, with
    the mapping and file hash it was made for (a result for anything else is not shown)."""
    storage = upload_storage()
    result: dict = {"mapping": mapping, "sha256": sha256}
    try:
        with open_stored(path) as file:
            result["preview"] = preview_file(file, mapping=mapping, filename=filename).as_dict()
    except MappingError as exc:
        result["mapping_error"] = str(exc)
    except FileNotFoundError:
        return  # the upload was forgotten meanwhile
    target = _preview_name(path)
    # Replaced, not saved beside (a storage that keeps both renames the new one). A page that
    # looks in between, or at half a file, finds no result and looks again.
    storage.delete(target)
    storage.save(target, ContentFile(json.dumps(result).encode()))


def stored_preview(upload: StoredUpload) -> Preview | str | None:
    """The background preview of this upload with its current mapping: a Preview, the
    mapping's error, or None while it is not ready."""
    try:
        with upload_storage().open(_preview_name(upload.path), "rb") as file:
            data = json.loads(file.read())
    except (FileNotFoundError, ValueError):
        return None
    if data.get("mapping") != upload.mapping or data.get("sha256") != upload.sha256:
        return None
    if "mapping_error" in data:
        return data["mapping_error"]
    return Preview.from_dict(data["preview"])


PREVIEW_REQUEUE_SECONDS = 120  # a queued preview not done by then is queued again


def preview_needs_queueing(session, upload: StoredUpload) -> bool:
    """True once per mapping (and again if that preview has not come back for a while, say
    the broker lost it): the caller queues the preview task."""
    key = json.dumps(upload.mapping, sort_keys=True)
    queued_key, _, queued_at = upload.preview_queued.rpartition("@")
    if queued_key == key and time.time() - float(queued_at or 0) < PREVIEW_REQUEUE_SECONDS:
        return False
    upload.preview_queued = f"{key}@{time.time():.0f}"
    remember(session, upload)
    return True


def source_named(name: str) -> MetricSource:
    source, _ = MetricSource.objects.get_or_create(name=name.strip())
    return source


def save_mapping(source: MetricSource, mapping: ColumnMapping) -> None:
    """The mapping is kept per source, so the next file from the same system needs none. Its
    header line is not: the next export may have more or fewer title lines, and its header is
    found by the mapping's columns."""
    data = mapping.as_dict()
    data.pop("header_row", None)
    source.mapping = data
    source.save(update_fields=["mapping"])


def load_now(upload: StoredUpload, user: AbstractBaseUser) -> LoadResult:
    """Load a stored upload during the request (files up to METRICS_ASYNC_ROWS values)."""
    source = MetricSource.objects.get(pk=upload.source_id)
    with open_stored(upload.path) as file:
        return load_file(
            file,
            source=source,
            mapping=upload.mapping,
            uploaded_by=user,
            filename=upload.filename,
            expected_sha256=upload.sha256,
        )


def queue_load(upload: StoredUpload, user: AbstractBaseUser) -> MetricLoad:
    """Record a pending load with exactly what was previewed: the mapping and options and the
    file's hash, frozen on the record. The caller queues the task once this is committed."""
    return MetricLoad.objects.create(
        source_id=upload.source_id,
        uploaded_by=user,
        filename=upload.filename,
        file_sha256=upload.sha256,
        mapping=dict(upload.mapping),
        status=MetricLoad.Status.PENDING,
        rows_total=upload.rows_total or 0,
    )


def load_stored(load_id: int, path: str) -> MetricLoad | None:
    """The background task's work: load a stored file (its name in the uploads storage) into
    its pending record, reporting progress as it goes, and remove the file. Safe to run twice:
    only a pending load is claimed."""
    claimed = MetricLoad.objects.filter(pk=load_id, status=MetricLoad.Status.PENDING).update(
        status=MetricLoad.Status.RUNNING
    )
    if not claimed:
        return None
    load = MetricLoad.objects.select_related("source").get(pk=load_id)
    report = _progress_reporter(load)
    try:
        # One copy read from the storage (from object storage: into a temporary file), hashed
        # beforehand so that the progress bar follows the one pass that loads.
        with open_stored(path) as stored:
            size = stored.size
            sha256 = hashlib.file_digest(stored, "sha256").hexdigest()
            stored.seek(0)
            with io.BufferedReader(_CountingReader(stored, size, report)) as file:
                load_file(
                    file,
                    source=load.source,
                    # The mapping that was previewed, never the source's current one.
                    mapping=load.mapping or source_mapping(load.source),
                    uploaded_by=load.uploaded_by,
                    filename=load.filename,
                    load=load,
                    expected_sha256=load.file_sha256,
                    sha256=sha256,
                )
    except Exception:
        # The load itself records what went wrong; a file or mapping gone missing is recorded here.
        MetricLoad.objects.filter(pk=load_id, status=MetricLoad.Status.RUNNING).update(
            status=MetricLoad.Status.REJECTED,
            errors=[
                {"line": None, "column": "", "reason": gettext("the file could not be loaded")}
            ],
        )
        logger.exception("Background load %s failed", load_id)
    finally:
        report.close()
        _remove(path)
    load.refresh_from_db()
    return load


class _CountingReader(io.RawIOBase):
    """A raw file over a stored file that tells how far into it reading has got (a seek to the
    start, as the loader makes after hashing the file, starts the count again). Closing it
    leaves the stored file to its owner."""

    def __init__(self, raw: IO[bytes], size: int, report: Callable[[float], None]) -> None:
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


class _ProgressReporter:
    """Writes `rows_loaded` as the file is read, on a connection of its own so that the page
    sees it while the load's transaction is still open. The load's own row is not locked by that
    transaction. SQLite stages a load in short transactions, so the report is written between
    them.

    The file is read by the loader's reader thread (ahead of the database) as well as by the
    task's thread, so the connection is made for sharing between threads, and a lock keeps the
    two from using it at once."""

    def __init__(self, load: MetricLoad) -> None:
        self.load_id, self.total = load.pk, load.rows_total
        self.last_at, self.last_share = 0.0, 0.0
        self.lock = threading.Lock()
        self.conn = None
        default = connections[DEFAULT_DB_ALIAS]
        if self.total and not (default.vendor == "sqlite" and default.is_in_memory_db()):
            self.conn = connections.create_connection(DEFAULT_DB_ALIAS)
            self.conn.inc_thread_sharing()

    def __call__(self, share: float) -> None:
        with self.lock:
            self._report(share)

    def _report(self, share: float) -> None:
        now = time.monotonic()
        if self.conn is None or (now - self.last_at < 0.5 and share - self.last_share < 0.05):
            return
        self.last_at, self.last_share = now, share
        rows = min(int(self.total * share), max(self.total - 1, 0))  # full only when finished
        table = self.conn.ops.quote_name(MetricLoad._meta.db_table)
        try:
            with self.conn.cursor() as cursor:
                # Never backwards (the reader looks at the file's start twice).
                cursor.execute(
                    f"UPDATE {table} SET rows_loaded = %s"
                    " WHERE id = %s AND status = %s AND rows_loaded < %s",
                    [rows, self.load_id, MetricLoad.Status.RUNNING, rows],
                )
        except Exception:  # progress is a courtesy: never fail the load for it
            logger.warning("Could not report the progress of load %s", self.load_id, exc_info=True)
            self._close()

    def close(self) -> None:
        with self.lock:
            self._close()

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.dec_thread_sharing()
            self.conn.close()
            self.conn = None


def _progress_reporter(load: MetricLoad) -> _ProgressReporter:
    return _ProgressReporter(load)
