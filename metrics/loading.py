"""Loading KPI samples: one path for the upload page, the API and `manage.py import_metrics`.

A file (or batch of dict rows) loads all or nothing: any bad row rejects it, and the rejection
is recorded on its `MetricLoad` with every reason by line. Loads upsert on the natural key
(employee_id, kpi, date), so the same file twice changes nothing and a corrected file replaces
exactly the values it covers.

On PostgreSQL the validated rows stream into a temporary staging table with COPY, and an
INSERT … ON CONFLICT moves them into `metrics_sample`, touching only rows whose value or
weight differ, in batches of 100,000 rows: a thread reads and validates the file ahead of the
database, so Python checks the next batch on one core while PostgreSQL upserts this one on the
other. All batches are one transaction. A large file of new rows only (the usual export of the
days since the last one) is inserted without ON CONFLICT until a row turns out to be there.
Elsewhere (SQLite, the embedded default) the rows are staged in a SQLite file of their own and
moved into `metrics_sample` by one INSERT … ON CONFLICT at the end, so the application's
database is locked for that statement only and pages stay usable during a load.

Either way the weekly totals (`metrics.rollups`) of the weeks the load changed are written
before it commits, in the same transaction: on PostgreSQL the batches of new rows are summed by
week as they go and merged into the totals once at the end, and the weeks of batches that
replaced values are recomputed from the samples; on SQLite every week the load changed is
recomputed from the samples.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from metrics import rollups
from metrics.models import Kpi, MetricLoad, MetricSource, Sample
from metrics.parsing import (
    CANONICAL_MAPPING,
    ColumnMapping,
    ErrorLog,
    FileError,
    KpiRule,
    MappingError,
    Row,
    RowAccount,
    RowError,
    Table,
    Validator,
    dict_table,
    open_table,
)
from metrics.queries import week_start

PREVIEW_ROWS = 20
PREVIEW_ERRORS = 200
STORED_ERRORS = 1000  # kept on a rejected MetricLoad; the count beyond is summarised
_COPY_CHUNK_ROWS = 8192
_BATCH_ROWS = 5000

MappingInput = ColumnMapping | Mapping[str, Any] | str


@dataclass(frozen=True, slots=True)
class ParsedRow:
    line: int
    employee_id: str
    kpi: str
    date: date
    value: float
    weight: float


@dataclass(frozen=True, slots=True)
class Preview:
    rows: list[ParsedRow]  # the first `limit` valid rows
    rows_total: int  # valid values in the whole file
    errors: list[RowError]  # the first `max_errors` problems
    error_count: int
    account: RowAccount  # what became of every row of the file

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe, for a preview made by the worker and shown by the page."""
        return {
            "rows": [
                [r.line, r.employee_id, r.kpi, r.date.isoformat(), r.value, r.weight]
                for r in self.rows
            ],
            "rows_total": self.rows_total,
            "errors": [e.as_dict() for e in self.errors],
            "error_count": self.error_count,
            "account": self.account.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preview:
        rows = [
            ParsedRow(line, emp, kpi, date.fromisoformat(day), value, weight)
            for line, emp, kpi, day, value, weight in data["rows"]
        ]
        errors = [RowError(e["line"], e["reason"], e["column"]) for e in data["errors"]]
        return cls(
            rows, data["rows_total"], errors, data["error_count"], RowAccount(**data["account"])
        )


@dataclass(frozen=True, slots=True)
class LoadResult:
    load: MetricLoad
    rows_total: int  # values read from the file
    rows_changed: int  # inserted, or updated with a different value or weight
    errors: list[RowError]
    error_count: int
    account: RowAccount | None = None

    @property
    def ok(self) -> bool:
        return self.load.status == MetricLoad.Status.LOADED


class _Rejected(Exception):
    pass


def preview_file(
    file: bytes | IO[bytes],
    *,
    mapping: MappingInput,
    filename: str = "",
    limit: int = PREVIEW_ROWS,
    max_errors: int = PREVIEW_ERRORS,
) -> Preview:
    """Parse and check a whole file without writing anything."""
    filename = filename or os.path.basename(getattr(file, "name", None) or "")
    return _preview(lambda m: _open(file, filename, m), mapping, limit, max_errors)


def preview_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    mapping: MappingInput = CANONICAL_MAPPING,
    limit: int = PREVIEW_ROWS,
    max_errors: int = PREVIEW_ERRORS,
) -> Preview:
    return _preview(lambda m: dict_table(rows, m.columns()), mapping, limit, max_errors)


def load_file(
    file: bytes | IO[bytes],
    *,
    source: MetricSource,
    mapping: MappingInput | None = None,
    uploaded_by: AbstractBaseUser | None = None,
    filename: str = "",
    max_errors: int = STORED_ERRORS,
    load: MetricLoad | None = None,
    expected_sha256: str = "",
    sha256: str = "",
) -> LoadResult:
    """Load a CSV or XLSX file (bytes, or a seekable binary file such as an UploadedFile) with
    the source's mapping unless one is given. Raises `MappingError` for an unusable mapping
    (nothing recorded); a bad file is recorded as a rejected load and returned, never raised.
    `load` is a pending record made beforehand (a background load that a page follows);
    `expected_sha256` the hash of the file that was previewed: another file is refused;
    `sha256` the file's own, when the caller has computed it already."""
    filename = filename or os.path.basename(getattr(file, "name", None) or "")
    sha256 = sha256 or _file_sha256(file)
    if expected_sha256 and sha256 != expected_sha256:
        return _load(
            lambda m: _refuse(gettext("the file is not the one previewed (its SHA-256 differs)")),
            source=source,
            mapping=mapping or source_mapping(source),
            uploaded_by=uploaded_by,
            filename=filename,
            sha256=sha256,
            max_errors=max_errors,
            load=load,
        )
    return _load(
        lambda m: _open(file, filename, m),
        source=source,
        mapping=source_mapping(source) if mapping is None else mapping,
        uploaded_by=uploaded_by,
        filename=filename,
        sha256=sha256,
        max_errors=max_errors,
        load=load,
    )


def _open(file: bytes | IO[bytes], filename: str, mapping: ColumnMapping) -> Table:
    return open_table(
        file,
        filename=filename,
        header_row=mapping.header_row,
        sheet=mapping.sheet,
        columns=mapping.columns(),
    )


def _refuse(reason: str) -> Table:
    raise FileError(reason, 0)


def load_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    source: MetricSource,
    mapping: MappingInput = CANONICAL_MAPPING,
    uploaded_by: AbstractBaseUser | None = None,
    label: str = "",
    max_errors: int = STORED_ERRORS,
) -> LoadResult:
    """Load dict rows (API batches). Keys follow `mapping`, by default the canonical long
    layout {employee_id, date, kpi, value, weight}; error lines are 1-based item numbers."""
    rows = list(rows)
    digest = hashlib.sha256(json.dumps(rows, default=str, sort_keys=True).encode()).hexdigest()
    return _load(
        lambda m: dict_table(rows, m.columns()),
        source=source,
        mapping=mapping,
        uploaded_by=uploaded_by,
        filename=label,
        sha256=digest,
        max_errors=max_errors,
    )


def source_mapping(source: MetricSource) -> ColumnMapping:
    if not source.mapping:
        raise MappingError(
            gettext("the source %(source)s has no saved column mapping")
            % {"source": repr(source.name)}
        )
    return ColumnMapping.parse(source.mapping)


def kpi_rules() -> list[KpiRule]:
    return [KpiRule.of(kpi) for kpi in Kpi.objects.filter(is_active=True)]


# --- Internals -------------------------------------------------------------------------------


def _preview(
    make_table: Callable[[ColumnMapping], Table],
    mapping: MappingInput,
    limit: int,
    max_errors: int,
) -> Preview:
    columns = ColumnMapping.parse(mapping)
    rules = kpi_rules()
    codes = {rule.id: rule.code for rule in rules}
    errors = ErrorLog(limit=max_errors)
    rows: list[ParsedRow] = []
    total = 0
    account = RowAccount()
    try:
        with make_table(columns) as table:
            validator = Validator(table, columns, rules, errors)
            account = validator.account
            for line, emp, kpi_id, day, value, weight in validator.rows():
                total += 1
                if total <= limit:
                    rows.append(ParsedRow(line, emp, codes[kpi_id], day, value, weight))
    except FileError as exc:
        errors.add(exc.line, exc.reason)
    return Preview(rows, total, errors.items, errors.total, account)


def _load(
    make_table: Callable[[ColumnMapping], Table],
    *,
    source: MetricSource,
    mapping: MappingInput,
    uploaded_by: AbstractBaseUser | None,
    filename: str,
    sha256: str,
    max_errors: int,
    load: MetricLoad | None = None,
) -> LoadResult:
    columns = ColumnMapping.parse(mapping)
    rules = kpi_rules()
    errors = ErrorLog(limit=max_errors)
    table = Table([], iter(()))
    validator = None
    try:
        table = make_table(columns)
        validator = Validator(table, columns, rules, errors)  # may raise MappingError
    except FileError as exc:
        errors.add(exc.line, exc.reason)
    except MappingError:
        table.close()
        raise
    # Recorded before the data transaction, so that a rejected or failed load is on record.
    if load is None:
        load = MetricLoad.objects.create(
            source=source,
            uploaded_by=uploaded_by,
            filename=filename[:255],
            file_sha256=sha256,
            mapping=columns.as_dict(),
            status=MetricLoad.Status.RUNNING,
        )
    else:
        load.file_sha256, load.status = sha256, MetricLoad.Status.RUNNING
        load.mapping = columns.as_dict()
        load.save(update_fields=["file_sha256", "status", "mapping"])
    total = changed = 0
    staged = connection.vendor != "postgresql" and connection.get_autocommit()
    try:
        # PostgreSQL: one transaction. Elsewhere, from autocommit: staged in short
        # transactions, then moved into the sample table in one (see the module's docstring).
        with table, transaction.atomic() if not staged else _nothing():
            try:
                if validator is not None:
                    total, changed = _write(validator.rows(), errors, load.pk)
            except FileError as exc:
                errors.add(exc.line, exc.reason)
            if errors.total:
                raise _Rejected
    except _Rejected:
        changed = 0
    except Exception:
        errors.add(0, gettext("the load failed unexpectedly; nothing was saved"))
        _finish(load, total, 0, errors)
        raise
    account = validator.account if validator is not None else None
    _finish(load, total, changed, errors, account)
    return LoadResult(load, total, changed, errors.items, errors.total, account)


def _finish(
    load: MetricLoad,
    total: int,
    changed: int,
    errors: ErrorLog,
    account: RowAccount | None = None,
) -> None:
    stored = [error.as_dict() for error in errors.items]
    if errors.total > len(stored):
        more = errors.total - len(stored)
        reason = ngettext("… and %(count)s more error", "… and %(count)s more errors", more)
        stored.append({"line": None, "column": "", "reason": reason % {"count": more}})
    load.status = MetricLoad.Status.REJECTED if errors.total else MetricLoad.Status.LOADED
    load.rows_total, load.rows_loaded, load.errors = total, changed, stored
    load.finished_at = timezone.now()
    load.account = account.as_dict() if account is not None else {}
    load.save(
        update_fields=["status", "rows_total", "rows_loaded", "errors", "finished_at", "account"]
    )


def _write(rows: Iterator[Row], errors: ErrorLog, load_id: int) -> tuple[int, int]:
    """Write validated rows; returns (rows read, rows changed). Once `errors` is non-empty the
    caller rolls back, so the writers only keep counting to report the file's size."""
    if connection.vendor == "postgresql":
        return _write_postgresql(rows, errors, load_id)
    if connection.get_autocommit():
        return _write_staged(rows, errors, load_id)
    return _write_batches(rows, errors, load_id)


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield


def _write_staged(rows: Iterator[Row], errors: ErrorLog, load_id: int) -> tuple[int, int]:
    """SQLite from autocommit: the rows are staged in a SQLite file of their own, outside the
    application's database, so reading and checking a large file takes no lock that page views
    and status polls would wait for; once the whole file is known to be good, one statement
    moves the staged rows into the sample table, all or nothing, holding the write lock for
    that statement only."""
    total = changed = 0
    with tempfile.TemporaryDirectory(prefix="metrics-load-") as directory:
        path = os.path.join(directory, "stage.sqlite3")
        stage = sqlite3.connect(path)
        try:
            stage.execute("PRAGMA journal_mode = OFF")
            stage.execute("PRAGMA synchronous = OFF")
            stage.execute(
                "CREATE TABLE rows (employee_id TEXT, kpi_id INTEGER, date TEXT, value REAL,"
                " weight REAL)"
            )
            while batch := list(islice(rows, _BATCH_ROWS)):
                total += len(batch)
                if errors.total:
                    continue
                stage.executemany(
                    "INSERT INTO rows VALUES (?, ?, ?, ?, ?)",
                    [(e, k, d.isoformat(), v, w) for _, e, k, d, v, w in batch],
                )
            # The weeks of the file, found here so that the write lock is not held for it.
            stage.execute(
                "CREATE TABLE weeks AS SELECT DISTINCT employee_id, kpi_id,"
                f" {rollups.week_sql('date', 'sqlite')} AS week FROM rows"
            )
            stage.commit()
        finally:
            stage.close()
        if errors.total:
            return total, 0
        table = connection.ops.quote_name(Sample._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute("ATTACH DATABASE %s AS metrics_stage", [path])
            try:
                with transaction.atomic():
                    cursor.execute(
                        f"INSERT INTO {table} (employee_id, kpi_id, date, value, weight, load_id)"
                        " SELECT employee_id, kpi_id, date, value, weight, %s"
                        " FROM metrics_stage.rows WHERE true"
                        " ORDER BY employee_id, kpi_id, date"
                        " ON CONFLICT (employee_id, kpi_id, date) DO UPDATE"
                        " SET value = excluded.value, weight = excluded.weight,"
                        " load_id = excluded.load_id"
                        f" WHERE ({table}.value, {table}.weight)"
                        " IS NOT (excluded.value, excluded.weight)",
                        [load_id],
                    )
                    changed = cursor.rowcount
                    if changed:
                        rollups.refresh_keys(cursor, "metrics_stage.weeks")
            finally:
                cursor.execute("DETACH DATABASE metrics_stage")
    return total, changed


_STAGE = "metrics_sample_stage"
_WEEKS = "metrics_week_keys"  # the weeks a load changed, whose totals it recomputes (SQLite)
# Rows per upsert (METRICS_LOAD_BATCH_ROWS, 100,000). Python validates the next batch while
# PostgreSQL upserts this one, so the two cores work at once; each batch is sorted on its own.
# Loads of more than one batch run one at a time (an exclusive lock); smaller loads run side by
# side (a shared lock). Two loads that overlap would otherwise each lock rows that the other
# needs next, batch by batch, and deadlock; a single sorted upsert cannot.
_LOAD_LOCK = 0x6D6574726963  # "metric"
# Small loads running side by side take turns to write their weeks' totals (in `finish`): each
# recomputes a week from the samples, and must see the days the other load added to it.
_TOTALS_LOCK = _LOAD_LOCK + 1
_UNIQUE_VIOLATION = "23505"


def _write_postgresql(rows: Iterator[Row], errors: ErrorLog, load_id: int) -> tuple[int, int]:
    table = connection.ops.quote_name(Sample._meta.db_table)
    insert = (
        f"INSERT INTO {table} (employee_id, kpi_id, date, value, weight, load_id)"
        f" SELECT employee_id, kpi_id, date, value, weight, %s FROM {_STAGE}"
        # Sorted like the primary key: better locality in a large table, and concurrent loads
        # that overlap lock rows in the same order instead of deadlocking.
        " ORDER BY employee_id, kpi_id, date"
    )
    upsert = (
        f"{insert} ON CONFLICT (employee_id, kpi_id, date) DO UPDATE"
        " SET value = EXCLUDED.value, weight = EXCLUDED.weight, load_id = EXCLUDED.load_id"
        f" WHERE ({table}.value, {table}.weight)"
        " IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.weight)"
    )
    counter = _Counter()
    changed = 0
    with _Prefetch(_copy_chunks(rows, errors, counter)) as chunks, connection.cursor() as cursor:
        # Byte-order ("C") keys sort twice as fast and, for the ASCII IDs we accept, in the
        # same order as the primary key; a batch's sort fits in memory.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            f'CREATE TEMP TABLE {_STAGE} (employee_id text COLLATE "C", kpi_id bigint,'
            " date date, value double precision, weight double precision) ON COMMIT DROP"
        )
        totals = _WeeklyTotals(cursor)
        first = True
        alone = False  # holding the exclusive lock: no other load writes until we commit
        # While a large load holds the exclusive lock, no other load writes: as long as its
        # rows are new (the export of days not loaded yet), a plain INSERT adds them, without
        # ON CONFLICT's speculative insertion (a third of PostgreSQL's time). The first batch
        # that meets a row already stored is rolled back to its savepoint and upserted, and so
        # is every batch after it.
        new_rows = False
        while True:
            batch = _Batch(chunks, settings.METRICS_LOAD_BATCH_ROWS)
            _copy(cursor, f"COPY {_STAGE} FROM STDIN", batch)
            if errors.total:
                chunks.close()
                return counter.rows + sum(1 for _ in rows), 0
            if first:
                lock = "pg_advisory_xact_lock_shared" if batch.last else "pg_advisory_xact_lock"
                cursor.execute(f"SELECT {lock}(%s)", [_LOAD_LOCK])
                first, alone = False, not batch.last
                new_rows = alone
            if batch.rows and new_rows:
                new_rows = _insert_new(cursor, insert, [load_id])
                if new_rows:
                    changed += cursor.rowcount
                    totals.added()
            if batch.rows and not new_rows:
                cursor.execute(upsert, [load_id])
                if cursor.rowcount:  # a batch that changed nothing leaves its weeks alone
                    changed += cursor.rowcount
                    totals.replaced()
            if batch.last:
                break
            cursor.execute(f"TRUNCATE {_STAGE}")
        # Dropped now, not only at commit, in case the caller's transaction goes on.
        cursor.execute(f"DROP TABLE {_STAGE}")
        totals.finish(alone=alone)
    return counter.rows, changed


class _WeeklyTotals:
    """The weekly totals (`metrics.rollups`) of the weeks one PostgreSQL load changes, kept in
    its transaction. A batch of new rows only (its plain INSERT succeeded) adds exactly its own
    sums: nothing it wrote replaced a value. They are summed by week into a temporary table, a
    GROUP BY over the staged batch, and merged into the totals once at the end: a week that
    spans batches is written once, and the batches' inserts do not wait for the totals' table
    and its indexes. A batch that upserted may have replaced values, so its weeks are
    recomputed whole from the samples at the end instead (and left out of the merge)."""

    _SUMS = "metrics_week_sums"  # the summed weeks of the batches of new rows
    _KEYS = "metrics_week_keys"  # the weeks to recompute from the samples

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._summed = self._replaced = False
        # Sorting, then summing each run of one week's rows, is four times faster than hashing
        # here: nearly every row of a large file can be a week of its own (a few values per
        # employee and KPI), and the merge sorts in key order anyway. Reset in `finish`.
        cursor.execute("SET LOCAL enable_hashagg = off")
        cursor.execute(rollups.sums_table_sql(self._SUMS))
        cursor.execute(
            f'CREATE TEMP TABLE {self._KEYS} (employee_id text COLLATE "C", kpi_id bigint,'
            " week date, PRIMARY KEY (employee_id, kpi_id, week)) ON COMMIT DROP"
        )

    def added(self) -> None:
        """The staged batch was inserted, all new rows."""
        self._cursor.execute(rollups.sums_sql(_STAGE, self._SUMS))
        self._summed = True

    def replaced(self) -> None:
        """The staged batch was upserted and changed some rows."""
        self._cursor.execute(
            f"INSERT INTO {self._KEYS} SELECT DISTINCT employee_id, kpi_id,"
            f" {rollups.week_sql('date', 'postgresql')} FROM {_STAGE} ON CONFLICT DO NOTHING"
        )
        self._replaced = True

    def finish(self, *, alone: bool) -> None:
        """Write the totals. `alone`: the load holds the exclusive lock, so the summed weeks
        are tried with a plain INSERT first (the usual large file of days not loaded yet starts
        new weeks), without ON CONFLICT's speculative insertion, and upserted if one of them
        has a total already."""
        cursor = self._cursor
        if not alone:
            # Until commit. Each statement after the wait reads the samples the other load
            # committed, so a week two loads share is counted whole, and written once.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TOTALS_LOCK])
        skip = self._KEYS if self._replaced else None
        if self._summed and not (
            alone and _insert_new(cursor, rollups.merge_sql(self._SUMS, upsert=False, skip=skip))
        ):
            cursor.execute(rollups.merge_sql(self._SUMS, upsert=True, skip=skip))
        if self._replaced:
            rollups.refresh_keys(cursor, self._KEYS)
        cursor.execute(f"DROP TABLE {self._SUMS}, {self._KEYS}")
        cursor.execute("RESET enable_hashagg")


def _insert_new(cursor: Any, insert: str, params: list[Any] | None = None) -> bool:
    """Run an INSERT that fails on a row already stored; False (and nothing written) if it
    does."""
    try:
        with transaction.atomic():
            cursor.execute(insert, params)
    except IntegrityError as exc:
        if getattr(exc.__cause__, "pgcode", None) != _UNIQUE_VIOLATION:
            raise
        return False
    return True


class _Counter:
    def __init__(self) -> None:
        self.rows = 0


class _IsoDates(dict):
    def __missing__(self, day: date) -> str:
        text = self[day] = day.isoformat()
        return text


Chunk = tuple[int, str]  # rows in it, COPY text


def _copy_chunks(rows: Iterator[Row], errors: ErrorLog, counter: _Counter) -> Iterator[Chunk]:
    """COPY text format. Employee IDs cannot hold tabs, newlines or backslashes (validated),
    so no escaping is needed; floats use repr so that values round-trip exactly."""
    iso = _IsoDates()
    while batch := list(islice(rows, _COPY_CHUNK_ROWS)):
        counter.rows += len(batch)
        if errors.total:
            return  # the file is rejected: stop sending, the caller rolls back
        yield (
            len(batch),
            "".join([f"{e}\t{k}\t{iso[d]}\t{v!r}\t{w!r}\n" for _, e, k, d, v, w in batch]),
        )


class _Prefetch:
    """Runs a chunk generator (reading and validating the file) in a thread of its own, a few
    chunks ahead of the database. psycopg2 lets go of the GIL while it waits for the server, so
    the file is read and checked while PostgreSQL copies and upserts the chunks before it.

    The generator must not touch the database. An exception it raises is raised again by
    `next()`. Leaving the `with` block stops the thread."""

    _DONE = object()

    def __init__(self, chunks: Iterator[Chunk], depth: int = 48) -> None:
        self._chunks = chunks
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-load-reader", daemon=True)
        # The reasons for refusing rows are written in the thread: in the caller's language.
        self._language = translation.get_language()

    def __enter__(self) -> _Prefetch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading ahead; returns once the thread has let go of the generator (it stops
        within one chunk)."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        if self._language:  # this thread's own, ended with it
            translation.activate(self._language)
        try:
            for chunk in self._chunks:
                if not self._put(chunk):
                    return
            self._put(self._DONE)
        except BaseException as exc:  # handed over to the reading thread
            self._put(exc)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def next(self) -> Chunk | None:
        """The next chunk, or None at the end."""
        if self._stop.is_set():
            return None
        item = self._queue.get()
        if item is self._DONE:
            self._stop.set()
            return None
        if isinstance(item, BaseException):
            self._stop.set()
            raise item
        return item  # type: ignore[return-value]


class _Batch:
    """Up to about `limit` rows of the chunks, read by COPY; `last` once the input has ended."""

    def __init__(self, chunks: _Prefetch, limit: int) -> None:
        self._chunks, self._limit = chunks, limit
        self.rows = 0
        self.last = False
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> str:
        """The file-like side that psycopg2's copy_expert reads from; any size will do."""
        if self.last or self.rows >= self._limit:
            return ""
        try:
            chunk = self._chunks.next()
        except BaseException as exc:
            self.error = exc
            raise
        if chunk is None:
            self.last = True
            return ""
        self.rows += chunk[0]
        return chunk[1]

    def __iter__(self) -> Iterator[str]:
        while text := self.read():
            yield text


def _copy(cursor: Any, sql: str, batch: _Batch) -> None:
    raw = cursor.cursor
    if hasattr(raw, "copy_expert"):  # psycopg2
        try:
            raw.copy_expert(sql, batch, size=1 << 20)
        except Exception:
            if batch.error is not None:  # psycopg2 wraps what read() raised: unwrap it
                raise batch.error from None
            raise
    else:  # psycopg 3
        with raw.copy(sql) as copy:
            for text in batch:
                copy.write(text)


def _write_batches(rows: Iterator[Row], errors: ErrorLog, load_id: int) -> tuple[int, int]:
    total = changed = 0
    weeks: set[tuple[str, int, str]] = set()
    while batch := list(islice(rows, _BATCH_ROWS)):
        total += len(batch)
        if errors.total:
            continue
        # Rows whose value and weight are unchanged are left alone, load_id included, as the
        # PostgreSQL path's WHERE … IS DISTINCT FROM does.
        current = _current_values(batch)
        samples = [
            Sample(employee_id=e, kpi_id=k, date=d, value=v, weight=w, load_id=load_id)
            for _, e, k, d, v, w in batch
            if current.get((e, k, d)) != (v, w)
        ]
        if samples:
            Sample.objects.bulk_create(
                samples,
                update_conflicts=True,
                unique_fields=["employee_id", "kpi", "date"],
                update_fields=["value", "weight", "load"],
            )
            # This path writes row by row already (SQLite inside a caller's transaction).
            weeks.update((s.employee_id, s.kpi_id, week_start(s.date).isoformat()) for s in samples)
        changed += len(samples)
    if weeks and not errors.total:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_WEEKS} (employee_id, kpi_id, week)")
            cursor.execute(f"DELETE FROM {_WEEKS}")
            cursor.executemany(f"INSERT INTO {_WEEKS} VALUES (%s, %s, %s)", sorted(weeks))
            rollups.refresh_keys(cursor, _WEEKS)
            cursor.execute(f"DELETE FROM {_WEEKS}")
    return total, changed


def _current_values(batch: list[Row]) -> dict[tuple[str, int, date], tuple[float, float]]:
    days = [row[3] for row in batch]
    existing = Sample.objects.filter(
        employee_id__in={row[1] for row in batch},
        kpi_id__in={row[2] for row in batch},
        date__range=(min(days), max(days)),
    ).values_list("employee_id", "kpi_id", "date", "value", "weight")
    return {(e, k, d): (v, w) for e, k, d, v, w in existing}


def _file_sha256(file: bytes | IO[bytes]) -> str:
    if isinstance(file, bytes | bytearray | memoryview):
        return hashlib.sha256(file).hexdigest()
    digest = hashlib.sha256()
    file.seek(0)
    while chunk := file.read(1 << 20):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()
