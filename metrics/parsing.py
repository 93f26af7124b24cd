"""Reading KPI files: the column mapping, CSV/XLSX/dict tables and row-by-row validation.

Nothing here touches the database; `metrics.loading` feeds the result to it. The validator is a
generator of plain tuples so that a million-row file streams straight into PostgreSQL's COPY
without ever being held in memory.

Value rules, per KPI unit:
- seconds: `330`, `330.5`, `5:30` (m:ss, minutes may exceed 59) or `1:05:30` (h:mm:ss).
- percent: `85`, `85%`, `85 %` or a fraction. A bare number between 0 and 1 (inclusive, no `%`
  sign) is a fraction and is multiplied by 100, because spreadsheets store 85 % as 0.85; so
  write `1 %` for one per cent and `0.5 %` for half a per cent.
- count: any number.
  In a column without `%` signs, fractions (0.85) and percentages (87.5) must not mix: a
  column holding both is refused unless the mapping's `percent_scale` says which it is.
- Decimal commas (`87,1`) only with the mapping's `decimal` set to `,`.
Every value must lie within the KPI's min/max. Dates are ISO (`2024-03-05`, `20240305`, with or
without a time) or one of `FALLBACK_DATE_FORMATS`; `03/04/2024` is ambiguous between day- and
month-first, so slash dates need the mapping's `date_format`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from time import strptime
from typing import IO, Any

from django.utils.translation import gettext, gettext_noop, ngettext

from pipsystem import l10n

LAYOUTS = ("wide", "long")
PERCENT_SCALES = ("", "fraction", "percent")  # "" = per column, from its values
EXCEL_DATES = "excel"  # date_format for Excel serial day numbers (46353 = 2026-11-27)
_EXCEL_EPOCH = date(1899, 12, 30)
# Labels of the totals and summary rows WFM, QA and ACD exports end with (or put between
# teams): such a row is skipped by rule and counted in the preview, never stored as an employee.
_TOTALS = re.compile(
    r"(sub-?\s*)?totals?\b|grand\s+total|summary\b|overall\b|averages?\b|avg\b|all\s+agents\b"
    r"|team\s+(total|average)\b|sum\b",
    re.IGNORECASE,
)
HEADER_SEARCH_ROWS = 30  # title lines an export may put above its header
# Limits for a spreadsheet, checked from the archive's directory before anything is unpacked.
XLSX_MAX_UNCOMPRESSED = 1024 * 1024 * 1024
XLSX_MAX_SHARED_STRINGS = 64 * 1024 * 1024
MAX_COLUMNS = 500
XLSX_MAX_ROWS = 1_048_576  # Excel's own limit
FALLBACK_DATE_FORMATS = ("%Y/%m/%d", "%d.%m.%Y", "%d-%b-%Y", "%d %b %Y", "%b %d %Y", "%b %d, %Y")
# Canonical keys for API batches and other callers that already speak our vocabulary.
CANONICAL_MAPPING = {
    "layout": "long",
    "employee_id": "employee_id",
    "date": "date",
    "kpi": "kpi",
    "value": "value",
    "weight": "weight",
}

_EMPLOYEE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@/-]{0,31}")
_MAX_FLOAT = sys.float_info.max  # so that "inf" is out of range even without a maximum
_XLSX_MAGIC = b"PK\x03\x04"
_VALUE_CACHE = 100_000  # distinct value texts remembered per KPI and file

# One validated sample: (line, employee_id, kpi_id, date, value, weight).
Row = tuple[int, str, int, date, float, float]


class MappingError(ValueError):
    """The column mapping cannot be used: a form or API error, no load is recorded."""


class FileError(ValueError):
    """The file as a whole cannot be read (format, encoding, header); it is rejected."""

    def __init__(self, reason: str, line: int = 1) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # 1-based line in the file (the header is line 1); item number for dict rows
    reason: str
    column: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}

    def __str__(self) -> str:
        if self.column:
            return gettext("line %(line)s, %(column)s: %(reason)s") % {
                "line": self.line,
                "column": self.column,
                "reason": self.reason,
            }
        return gettext("line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass(slots=True)
class ErrorLog:
    """Every error is counted; only the first `limit` are kept, so a garbage file stays cheap."""

    limit: int = 1000
    items: list[RowError] = field(default_factory=list)
    total: int = 0

    def add(self, line: int, reason: str, column: str = "") -> None:
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(RowError(line, reason, column))


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which file columns hold what; the JSON form is stored on `MetricSource.mapping`."""

    employee_id: str
    date: str
    layout: str = "long"
    kpis: dict[str, str] = field(default_factory=dict)  # wide: kpi code -> column
    kpi: str = ""  # long: the column naming the KPI
    value: str = ""  # long: the column holding the value
    weight: str = ""
    date_format: str = ""
    # long: file spellings of KPI names, e.g. {"Quality": "qa_score"}.
    kpi_aliases: dict[str, str] = field(default_factory=dict)
    # wide: a weight column per KPI (calls for AHT, surveys for CSAT); `weight` for the others.
    weights: dict[str, str] = field(default_factory=dict)
    header_row: int = 0  # 1-based line (or sheet row) of the header; 0: the first that fits
    sheet: str = ""  # XLSX: the sheet to read; required when a workbook has several
    decimal: str = "."  # "," for European exports (87,1)
    percent_scale: str = ""  # "fraction" (0.85 = 85 %), "percent" (85 = 85 %) or "" per column

    @classmethod
    def parse(cls, data: ColumnMapping | Mapping[str, Any] | str) -> ColumnMapping:
        if isinstance(data, ColumnMapping):
            return data
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise MappingError(
                    gettext("mapping is not valid JSON: %(error)s") % {"error": exc}
                ) from None
        if not isinstance(data, Mapping):
            raise MappingError(gettext("mapping must be a JSON object"))
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise MappingError(
                gettext("unknown mapping keys: %(keys)s") % {"keys": ", ".join(sorted(unknown))}
            )
        layout = data.get("layout", "long")
        if layout not in LAYOUTS:
            raise MappingError(gettext("layout must be 'wide' or 'long'"))
        required = ["employee_id", "date"] + (["kpis"] if layout == "wide" else ["kpi", "value"])
        missing = [key for key in required if not data.get(key)]
        if missing:
            raise MappingError(
                gettext("mapping for a %(layout)s file needs %(keys)s")
                % {"layout": layout, "keys": ", ".join(missing)}
            )
        for key in ("employee_id", "date", "kpi", "value", "weight", "date_format", "sheet"):
            if not isinstance(data.get(key, ""), str):
                raise MappingError(gettext("%(key)s must be a column name") % {"key": key})
        header_row = data.get("header_row", 0)
        if not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 0:
            raise MappingError(gettext("header_row must be a line number (0 to find the header)"))
        if data.get("decimal", ".") not in (".", ","):
            raise MappingError(gettext("decimal must be '.' or ','"))
        if data.get("percent_scale", "") not in PERCENT_SCALES:
            raise MappingError(gettext("percent_scale must be 'fraction', 'percent' or empty"))
        for key in ("kpis", "kpi_aliases", "weights"):
            value = data.get(key, {})
            if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
            ):
                raise MappingError(gettext("%(key)s must map names to names") % {"key": key})
        return cls(
            **{
                **data,
                "kpis": dict(data.get("kpis", {})),
                "kpi_aliases": dict(data.get("kpi_aliases", {})),
                "weights": dict(data.get("weights", {})),
            }
        )

    def as_dict(self) -> dict[str, Any]:
        keys = ["layout", "employee_id", "date"]
        keys += ["kpis", "weights"] if self.layout == "wide" else ["kpi", "value", "kpi_aliases"]
        keys += ["weight", "date_format", "header_row", "sheet", "percent_scale"]
        data = {key: getattr(self, key) for key in keys if getattr(self, key)}
        if self.decimal != ".":
            data["decimal"] = self.decimal
        return data

    def columns(self) -> list[str]:
        cols = [self.employee_id, self.date]
        cols += list(self.kpis.values()) if self.layout == "wide" else [self.kpi, self.value]
        cols += [self.weight] if self.weight else []
        if self.layout == "wide":
            cols += [col for col in self.weights.values() if col not in cols]
        return cols


# --- Tables: a header and rows of text cells, whatever the source -----------------------------


class _Position:
    __slots__ = ("line_num",)

    def __init__(self) -> None:
        self.line_num = 0


def _nothing() -> None:
    pass


def _as_file_error(exc: Exception) -> FileError:
    return FileError(str(exc))


@dataclass(slots=True)
class Table:
    """Rows of text cells. `position.line_num` is the file line of the row last read (a
    csv.reader keeps it itself, so the CSV hot path needs no wrapper generator). Use it as a
    context manager: closing releases the workbook or text wrapper, not the caller's file."""

    header: list[str]
    rows: Iterator[list[str]]
    position: Any = field(default_factory=_Position)
    close: Callable[[], None] = _nothing
    # Turns an error raised while reading rows into a FileError naming the line.
    failure: Callable[[Exception], FileError] = _as_file_error
    header_line: int = 1  # the header's line in the file (or row in the sheet)
    # What the preview reports about the file beside its rows: title lines skipped above the
    # header, the sheets not read, the encoding and delimiter found.
    notes: list[str] = field(default_factory=list)
    # XLSX cells whose formula has no saved result: {(row, column index): formula}.
    uncached: dict[tuple[int, int], str] = field(default_factory=dict)
    # Notes known once the file has been read (the encoding, when it changed on the way).
    late_notes: Callable[[], list[str]] = list

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_table(
    file: bytes | IO[bytes],
    *,
    filename: str = "",
    header_row: int = 0,
    sheet: str = "",
    columns: Iterable[str] = (),
) -> Table:
    """A CSV or XLSX file (by extension, else by content) as a table of text cells.

    The header is line `header_row`, or else the first of the first lines that holds every one
    of `columns` (the mapping's), or else the first that looks like a header (`guess_header`);
    the lines above it are titles, reported in `notes`."""
    stream = io.BytesIO(file) if isinstance(file, bytes | bytearray | memoryview) else file
    start = stream.read(4)
    stream.seek(0)
    ext = os.path.splitext(filename)[1].lower()
    if ext in (".xlsx", ".xlsm") or (not ext and start == _XLSX_MAGIC):
        return _xlsx_table(stream, sheet, header_row, list(columns))
    if start == _XLSX_MAGIC or ext in (".xls", ".ods"):
        raise FileError(
            gettext("this looks like a spreadsheet other than .xlsx: save it as CSV or XLSX")
        )
    return _csv_table(stream, header_row, list(columns))


def dict_table(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> Table:
    """Rows given as dicts (API batches, forms); line numbers are 1-based item numbers."""
    return _numbered(columns, ([item.get(col) for col in columns] for item in rows), first=1)


def _numbered(header: list[str], rows: Iterable[Iterable[Any]], *, first: int) -> Table:
    position = _Position()

    def cells() -> Iterator[list[str]]:
        for number, row in enumerate(rows, start=first):
            position.line_num = number
            yield [cell_text(cell) for cell in row]

    return Table(header, cells(), position)


def _is_heading(cell: str) -> bool:
    """A cell that could name a column: text, not a number or a date."""
    text = cell.strip()
    if not text:
        return False
    try:
        float(text.replace(",", ".").rstrip("% "))
        return False
    except ValueError:
        pass
    try:
        parse_date(text)
        return False
    except ValueError:
        return True


def guess_header(rows: list[list[str]]) -> int:
    """The 0-based index of the first row that looks like a header: at least two names, no
    numbers or dates, and about as wide as the widest row (titles hold one or two cells)."""
    widest = max((sum(1 for cell in row if cell.strip()) for row in rows), default=0)
    for index, row in enumerate(rows):
        filled = [cell for cell in row if cell.strip()]
        if len(filled) >= max(2, (widest + 1) // 2) and all(map(_is_heading, filled)):
            return index
    return 0


def _find_header(rows: list[list[str]], header_row: int, columns: list[str]) -> int:
    """The header's 0-based index among the first rows (see `open_table`)."""
    if header_row:
        if header_row > len(rows):
            raise FileError(
                gettext("the file has no line %(line)s to take the header from")
                % {"line": header_row}
            )
        return header_row - 1
    if columns:
        wanted = {col.strip().casefold() for col in columns}
        for index, row in enumerate(rows):
            if wanted <= {cell.strip().casefold() for cell in row}:
                return index
    return guess_header(rows)


def _title_note(skipped: list[list[str]]) -> list[str]:
    if not skipped:
        return []
    first = next((" ".join(c for c in row if c.strip()) for row in skipped if any(row)), "")
    if not first:
        return [""]
    return [
        ngettext(
            "line above the header skipped (titles: %(titles)s)",
            "%(count)s lines above the header skipped (titles: %(titles)s)",
            len(skipped),
        )
        % {"count": len(skipped), "titles": _short(first)}
    ]


# --- CSV ------------------------------------------------------------------------------------


class _Transcoder(io.RawIOBase):
    """The file's bytes as UTF-8, whatever the export wrote: UTF-8 (with or without a BOM),
    UTF-16 with a BOM (Excel's "Unicode text"), or Windows-1252 (Excel's "CSV" on Windows).

    A file is read as UTF-8 until a byte shows it is not; if nothing but ASCII came before,
    the rest (and that chunk) is Windows-1252, wherever in the file its first accent is. A file
    that had UTF-8 accents and then a byte that is not UTF-8 mixes encodings: refused, naming
    the line."""

    _CHUNK = 1 << 20

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        head = raw.read(4)
        raw.seek(0)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self.encoding = "utf-16"
        elif head.startswith(codecs.BOM_UTF8):
            self.encoding = "utf-8-sig"
        else:
            self.encoding = "utf-8"
        self._decoder = codecs.getincrementaldecoder(self.encoding)()
        self._ascii_so_far = True
        self.switched_at = 0  # the line where ASCII turned out to be Windows-1252
        self._lines = 0  # newlines passed on so far: the line of an undecodable byte
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = self._raw.read(self._CHUNK)
            final = not chunk
            text = self._decode(chunk, final)
            self._pending = text.encode("utf-8")
            if final:
                break
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _decode(self, chunk: bytes, final: bool) -> str:
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            if self.encoding == "utf-8" and self._ascii_so_far and chunk[: exc.start].isascii():
                self.encoding = "cp1252"
                self.switched_at = self._lines + chunk.count(b"\n", 0, max(exc.start, 0)) + 1
                self._decoder = codecs.getincrementaldecoder("cp1252")()
                return self._decode(chunk, final)
            line = self._lines + chunk.count(b"\n", 0, max(exc.start, 0)) + 1
            raise FileError(self._mixed_reason(), line) from None
        if self._ascii_so_far and not text.isascii():
            self._ascii_so_far = False
        self._lines += text.count("\n")
        return text

    def _mixed_reason(self) -> str:
        if self.encoding == "cp1252":
            return gettext(
                "a byte that is not Windows-1252 text: save the export again as "
                "'CSV UTF-8' (Excel: Save As, CSV UTF-8)"
            )
        return gettext(
            "the file mixes text encodings (UTF-8 accents earlier, then a byte that is not "
            "UTF-8): save the export again as 'CSV UTF-8' (Excel: Save As, CSV UTF-8)"
        )


def _delimiter(lines: list[str]) -> str:
    """The delimiter that splits the most lines into the same number of cells (then the most
    cells): title lines and decimal commas do not fool it the way the first line alone did."""

    def score(candidate: str) -> tuple[int, int]:
        counts = [line.count(candidate) for line in lines if line.count(candidate)]
        if not counts:
            return (0, 0)
        common = max(set(counts), key=lambda n: (counts.count(n), n))
        return (counts.count(common), common)

    return max(",;\t|", key=score)


def _csv_table(stream: IO[bytes], header_row: int, columns: list[str]) -> Table:
    def open_text() -> tuple[_Transcoder, io.TextIOWrapper]:
        stream.seek(0)
        raw = _Transcoder(stream)
        buffered = io.BufferedReader(raw, 1 << 16)
        return raw, io.TextIOWrapper(buffered, encoding="utf-8", newline="")

    def release(text: io.TextIOWrapper) -> None:
        text.detach().detach()  # a wrapper that is garbage-collected closes its buffer

    # Pass 1: the first lines, for the delimiter and the header line.
    raw, text = open_text()
    try:
        sample = text.read(65536).splitlines()[:HEADER_SEARCH_ROWS]
        if not any(line.strip() for line in sample):
            raise FileError(gettext("the file is empty or its first lines are blank"))
        delimiter = _delimiter(sample)
        first = []
        for row in csv.reader(sample, delimiter=delimiter):
            first.append(row)
        index = _find_header(first, header_row, columns)
    except csv.Error as exc:
        raise FileError(gettext("unreadable CSV: %(error)s") % {"error": exc}) from None
    finally:
        release(text)
    # Pass 2, from the start again, so that the reader's line numbers are the file's.
    raw, text = open_text()
    reader = csv.reader(text, delimiter=delimiter)
    detached = False

    def close() -> None:
        nonlocal detached
        if not detached:
            release(text)
            detached = True

    def failure(exc: Exception) -> FileError:
        if isinstance(exc, FileError):
            return exc
        return FileError(gettext("unreadable CSV: %(error)s") % {"error": exc}, reader.line_num)

    try:
        for _ in range(index + 1):
            header = next(reader)
    except (csv.Error, StopIteration, FileError) as exc:
        close()
        raise FileError(gettext("the header cannot be read: %(error)s") % {"error": exc}) from None

    def encoding_note() -> list[str]:
        found = (
            gettext(_ENCODING_NAMES[raw.encoding])
            if raw.encoding in _ENCODING_NAMES
            else raw.encoding
        )
        if raw.switched_at:
            found = gettext("%(encoding)s (ASCII up to line %(line)s)") % {
                "encoding": found,
                "line": raw.switched_at,
            }
        separated = {
            ",": gettext("comma-separated, %(encoding)s"),
            ";": gettext("semicolon-separated, %(encoding)s"),
            "\t": gettext("tab-separated, %(encoding)s"),
            "|": gettext("bar-separated, %(encoding)s"),
        }[delimiter]
        return [separated % {"encoding": found}]

    table = Table(header, reader, reader, close, failure, index + 1, _title_note(first[:index]))
    table.late_notes = encoding_note
    return table


_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": gettext_noop("UTF-8 with a byte-order mark"),
    "utf-16": gettext_noop("UTF-16 (Excel Unicode text)"),
    "cp1252": "Windows-1252",
}


# --- XLSX -----------------------------------------------------------------------------------


def _check_archive(stream: IO[bytes]) -> list[str]:
    """The workbook's archive directory, checked before anything is unpacked: the sizes its
    parts expand to (a small file can hold gigabytes of XML). Returns the member names."""
    import zipfile

    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileError(
            gettext("the spreadsheet cannot be read: %(error)s") % {"error": exc}
        ) from None
    finally:
        stream.seek(0)
    total = sum(info.file_size for info in infos)
    if total > XLSX_MAX_UNCOMPRESSED:
        raise FileError(
            gettext(
                "the workbook unpacks to %(size)s MB, more than the %(limit)s MB accepted: "
                "export the data as CSV"
            )
            % {
                "size": l10n.number(total / 2**20, 0),
                "limit": l10n.number(XLSX_MAX_UNCOMPRESSED / 2**20, 0),
            }
        )
    for info in infos:
        if info.filename.endswith("sharedStrings.xml") and info.file_size > XLSX_MAX_SHARED_STRINGS:
            raise FileError(
                gettext(
                    "the workbook's text table unpacks to %(size)s MB, more than %(limit)s MB: "
                    "export the data as CSV"
                )
                % {
                    "size": l10n.number(info.file_size / 2**20, 0),
                    "limit": l10n.number(XLSX_MAX_SHARED_STRINGS / 2**20, 0),
                }
            )
    return [info.filename for info in infos]


def xlsx_sheets(stream: IO[bytes]) -> list[str]:
    """The names of a workbook's sheets, in order."""
    import openpyxl

    _check_archive(stream)
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike mean "unreadable"
        raise FileError(
            gettext("the spreadsheet cannot be read: %(error)s") % {"error": exc}
        ) from None
    try:
        return list(book.sheetnames)
    finally:
        book.close()
        stream.seek(0)


_UNCACHED = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]+)"[^>]*>\s*'
    rb"<f(?:\s[^>]*)?(?:/>|>([^<]*)</f>)\s*(?:<v\s*/>|<v></v>)?\s*</c>"
)


def _uncached_formulas(
    stream: IO[bytes], part: str, limit: int = 1000
) -> dict[tuple[int, int], str]:
    """Cells of a sheet whose formula has no saved result (a workbook written by a program
    that does not calculate, and never opened in Excel): read as blank, they would vanish."""
    import zipfile

    from openpyxl.utils import column_index_from_string

    found: dict[tuple[int, int], str] = {}
    with zipfile.ZipFile(stream) as archive, archive.open(part) as xml:
        tail = b""
        while chunk := xml.read(1 << 20):
            data = tail + chunk
            end = 0
            for match in _UNCACHED.finditer(data):
                end = match.end()
                column = column_index_from_string(match.group(1).decode()) - 1
                formula = (match.group(3) or b"").decode(errors="replace")
                found[(int(match.group(2)), column)] = formula
                if len(found) >= limit:
                    stream.seek(0)
                    return found
            tail = data[max(end, len(data) - 4096) :]
    stream.seek(0)
    return found


def _xlsx_table(stream: IO[bytes], sheet: str, header_row: int, columns: list[str]) -> Table:
    import openpyxl  # only XLSX uploads pay for the import

    _check_archive(stream)
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike mean "unreadable"
        raise FileError(
            gettext("the spreadsheet cannot be read: %(error)s") % {"error": exc}
        ) from None
    names = list(book.sheetnames)
    try:
        if sheet:
            if sheet not in names:
                raise FileError(
                    gettext("the workbook has no sheet %(sheet)s (it has %(sheets)s)")
                    % {"sheet": repr(sheet), "sheets": ", ".join(map(repr, names))}
                )
        elif len(names) > 1:
            raise FileError(
                gettext(
                    "the workbook has %(count)s sheets (%(sheets)s): choose the one to load on "
                    "the mapping page (`sheet`)"
                )
                % {"count": len(names), "sheets": ", ".join(map(repr, names))}
            )
        else:
            sheet = names[0]
        worksheet = book[sheet]
        _check_dimensions(worksheet, sheet)
        part = _sheet_part(book, sheet)
        uncached = _uncached_formulas(stream, part) if part else {}
        values = worksheet.iter_rows(values_only=True)
        first: list[list[str]] = []
        for row in values:
            first.append([cell_text(cell) for cell in row])
            if len(first) >= max(HEADER_SEARCH_ROWS, header_row):
                break
        if not first:
            raise FileError(gettext("the sheet %(sheet)s is empty") % {"sheet": repr(sheet)})
        index = _find_header(first, header_row, columns)
    except FileError:
        book.close()
        raise
    rest = itertools.chain(first[index + 1 :], values)
    table = _numbered(first[index], rest, first=index + 2)
    table.close = book.close
    table.header_line = index + 1
    others = [name for name in names if name != sheet]
    table.notes = [
        n
        for n in _title_note(first[:index])
        + [
            gettext("sheet %(sheet)s read; not read: %(others)s")
            % {"sheet": repr(sheet), "others": ", ".join(map(repr, others))}
            if others
            else gettext("sheet %(sheet)s read") % {"sheet": repr(sheet)}
        ]
        if n
    ]
    table.uncached = uncached
    return table


def _check_dimensions(worksheet: Any, sheet: str) -> None:
    """Rows are read padded to the sheet's declared width: a sheet that declares a cell at
    XFD1048576 would make every row 16,384 cells. Refused by its dimensions, before reading."""
    columns, rows = worksheet.max_column or 0, worksheet.max_row or 0
    if columns > MAX_COLUMNS:
        raise FileError(
            gettext(
                "the sheet %(sheet)s is %(columns)s columns wide (cells as far as column "
                "%(columns)s); at most %(limit)s are read: delete the empty columns on the "
                "right, or export the data as CSV"
            )
            % {
                "sheet": repr(sheet),
                "columns": l10n.number(columns, 0),
                "limit": l10n.number(MAX_COLUMNS, 0),
            }
        )
    if rows > XLSX_MAX_ROWS:
        raise FileError(
            gettext(
                "the sheet %(sheet)s has %(rows)s rows, more than %(limit)s: export the data as CSV"
            )
            % {
                "sheet": repr(sheet),
                "rows": l10n.number(rows, 0),
                "limit": l10n.number(XLSX_MAX_ROWS, 0),
            }
        )


def _sheet_part(book: Any, sheet: str) -> str:
    """The archive member holding a sheet's XML (openpyxl keeps it on read-only sheets)."""
    return getattr(book[sheet], "_worksheet_path", "") or ""


def cell_text(value: Any) -> str:
    """A spreadsheet or JSON cell as the text a CSV would have carried."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # employee IDs typed as numbers: 10023, not 10023.0
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):  # an Excel duration under 24 h
        return str(value.hour * 3600 + value.minute * 60 + value.second)
    if isinstance(value, timedelta):
        return repr(value.total_seconds())
    return str(value)


# --- Values ----------------------------------------------------------------------------------


def parse_percent(text: str) -> float:
    """A percentage as written: `85 %` is 85; a bare number is returned as it is (the
    validator decides per column whether bare numbers are fractions or percentages)."""
    stripped = text.rstrip()
    if stripped[-1:] == "%":
        return float(stripped[:-1])
    return float(text)


def parse_duration(text: str) -> float:
    """Seconds, m:ss or h:mm:ss, with a sign for all of it: `-0:45` is minus 45 seconds."""
    if ":" not in text:
        return float(text)
    stripped = text.strip()
    sign = -1 if stripped[:1] == "-" else 1
    parts = (stripped[1:] if stripped[:1] in "+-" else stripped).split(":")
    if len(parts) not in (2, 3) or not all(part.strip() for part in parts):
        raise ValueError(text)
    seconds = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[0]) if len(parts) == 3 else 0
    if not 0 <= seconds < 60 or minutes < 0 or hours < 0 or (len(parts) == 3 and minutes > 59):
        raise ValueError(text)
    if any(part.strip()[:1] in "+-" for part in parts):
        raise ValueError(text)
    return sign * (hours * 3600 + minutes * 60 + seconds)


PARSERS: dict[str, Callable[[str], float]] = {
    "percent": parse_percent,
    "seconds": parse_duration,
    "count": float,
}

_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d+,\d+\s*%?\s*")
_SERIAL = re.compile(r"\s*(\d{5})(\.0+)?\s*")


def _comma_decimal(parse: Callable[[str], float]) -> Callable[[str], float]:
    """A parser for `87,1` and `5:30,5`; a value with a '.' as well is refused (1.234,5 has a
    thousands separator we will not guess at)."""

    def parse_comma(text: str) -> float:
        if "." in text:
            raise ValueError(text)
        return parse(text.replace(",", "."))

    return parse_comma


def excel_serial_date(number: float) -> date:
    return _EXCEL_EPOCH + timedelta(days=int(number))


def parse_date(text: str, date_format: str = "") -> date:
    text = text.strip()
    if date_format == EXCEL_DATES:
        match = _SERIAL.fullmatch(text)
        if match:
            return excel_serial_date(int(match.group(1)))
    try:
        return date.fromisoformat(text[:10] if text[10:11] in (" ", "T") else text)
    except ValueError:
        pass
    formats = (date_format,) if date_format and date_format != EXCEL_DATES else ()
    for fmt in formats or FALLBACK_DATE_FORMATS:
        try:
            parsed = strptime(text, fmt)
            return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
        except ValueError:
            continue
    raise ValueError(text)


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


# --- Validation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KpiRule:
    """What the validator needs of a `Kpi`, so that this module stays free of the ORM."""

    id: int
    code: str
    name: str
    unit: str
    low: float
    high: float
    parse: Callable[[str], float]

    @classmethod
    def of(cls, kpi: Any) -> KpiRule:
        high = _MAX_FLOAT if kpi.max_value is None else kpi.max_value
        return cls(kpi.pk, kpi.code, kpi.name, kpi.unit, kpi.min_value, high, PARSERS[kpi.unit])


class _KpiState:
    """A KPI as the hot loop sees it, with this file's parsed values by their text, and, for a
    percentage, the first line of each reading of its bare numbers."""

    __slots__ = ("rule", "id", "values", "parse", "fraction_line", "percent_line", "one_line")

    def __init__(self, rule: KpiRule, decimal: str) -> None:
        self.rule, self.id = rule, rule.id
        self.values: dict[str, float] = {}
        self.parse = _comma_decimal(rule.parse) if decimal == "," else rule.parse
        self.fraction_line = self.percent_line = self.one_line = 0


@dataclass(slots=True)
class RowAccount:
    """What became of every row below the header: the preview's account adds up to the rows
    read, and nothing disappears between the file and it."""

    header_line: int = 1
    rows_read: int = 0  # rows below the header
    rows_loaded: int = 0  # rows with at least one value to load and no problem
    rows_refused: int = 0  # rows with a problem (listed in the errors)
    skipped: dict[str, int] = field(default_factory=dict)  # rule -> rows skipped by it
    notes: list[str] = field(default_factory=list)

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    @property
    def adds_up(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_refused + self.rows_skipped

    def as_dict(self) -> dict[str, Any]:
        return {
            "header_line": self.header_line,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_refused": self.rows_refused,
            "skipped": dict(self.skipped),
            "notes": list(self.notes),
        }


# Stored in English (the keys of `RowAccount.skipped`); pages translate them.
SKIP_BLANK = gettext_noop("blank line")
SKIP_TOTALS = gettext_noop(
    "totals or summary row (its employee cell says Total, Summary, Average…)"
)
SKIP_NO_VALUE = gettext_noop("no KPI value in the row (blank cells are days without a value)")


class _Keys:
    """Which (employee, KPI, date) the file has given already: a bit per key, in one bytearray
    per date, so that 5 million values take a few megabytes instead of a gigabyte of tuples."""

    __slots__ = ("employees", "slots", "days", "width", "firsts")

    def __init__(self, kpi_count: int) -> None:
        self.employees: dict[str, int] = {}
        self.slots = max(kpi_count, 1)
        self.days: dict[int, bytearray] = {}
        self.firsts: dict[tuple[str, int, date], int] = {}

    def add(self, employee: str, slot: int, day: date) -> bool:
        """False if the key was given before."""
        index = self.employees.get(employee)
        if index is None:
            index = self.employees[employee] = len(self.employees)
        bit = index * self.slots + slot
        bits = self.days.get(day.toordinal())
        if bits is None:
            bits = self.days[day.toordinal()] = bytearray(max(64, (bit >> 3) * 2 + 1))
        elif (bit >> 3) >= len(bits):
            bits.extend(bytes((bit >> 3) * 2 + 1 - len(bits)))
        mask = 1 << (bit & 7)
        if bits[bit >> 3] & mask:
            return False
        bits[bit >> 3] |= mask
        return True


class Validator:
    """Turns a table into validated `Row` tuples, collecting every problem in `errors` and
    what became of every row in `account`.

    Iterate `rows()` once. A file with any error must not be loaded (`errors.total > 0`), but
    rows keep coming after an error so that the caller can report them all in one pass.
    """

    def __init__(
        self, table: Table, mapping: ColumnMapping, kpis: Iterable[KpiRule], errors: ErrorLog
    ) -> None:
        self.table, self.mapping, self.errors = table, mapping, errors
        self.kpis = {rule.code: _KpiState(rule, mapping.decimal) for rule in kpis}
        self.account = RowAccount(table.header_line, notes=list(table.notes))
        # Exports repeat the same IDs, dates, weights and values over and over: each distinct
        # text is checked once, then found in a dict. Invalid texts are never cached.
        self._employees: dict[str, str] = {}
        self._dates: dict[str, date] = {}
        self._weights: dict[str, float] = {"": 1.0}
        self._kpi_names: dict[str, _KpiState] = {}
        self._slots = {state.id: slot for slot, state in enumerate(self.kpis.values())}
        self._keys = _Keys(len(self.kpis))
        if mapping.layout == "wide":
            unknown = sorted((set(mapping.kpis) | set(mapping.weights)) - set(self.kpis))
            if unknown:
                raise MappingError(
                    gettext("unknown KPI codes in mapping: %(codes)s")
                    % {"codes": ", ".join(unknown)}
                )
        for state in self.kpis.values():
            self._kpi_names[state.rule.code.casefold()] = state
            self._kpi_names[state.rule.name.casefold()] = state
        for alias, code in mapping.kpi_aliases.items():
            if code not in self.kpis:
                raise MappingError(
                    gettext("kpi_aliases: unknown KPI code %(code)s") % {"code": repr(code)}
                )
            self._kpi_names[alias.strip().casefold()] = self.kpis[code]
        if len(table.header) > MAX_COLUMNS:
            raise FileError(
                gettext("the header has %(count)s columns, more than %(limit)s")
                % {"count": len(table.header), "limit": MAX_COLUMNS}
            )
        self._index = self._locate_columns()
        self._width = max(self._index.values()) + 1

    def _locate_columns(self) -> dict[str, int]:
        where: dict[str, list[int]] = {}
        for i, name in enumerate(self.table.header):
            where.setdefault(name.strip().casefold(), []).append(i)
        index, missing = {}, []
        line = self.table.header_line
        for col in self.mapping.columns():
            found = where.get(col.strip().casefold())
            if not found:
                missing.append(repr(col))
            elif len(found) > 1:
                places = gettext(" and ").join(str(i + 1) for i in found)
                raise FileError(
                    gettext(
                        "the header names %(count)s columns %(column)s (columns %(places)s): the "
                        "file does not say which one is meant; rename or remove the others in "
                        "the export and upload it again"
                    )
                    % {"count": len(found), "column": repr(col), "places": places},
                    line,
                )
            else:
                index[col] = found[0]
        if missing:
            raise FileError(
                gettext("not in the header (line %(line)s): %(columns)s")
                % {"line": line, "columns": ", ".join(missing)},
                line,
            )
        return index

    def rows(self) -> Iterator[Row]:
        uncached = self._uncached()
        rows = self._wide() if self.mapping.layout == "wide" else self._long()
        return itertools.chain(uncached, rows) if uncached is not None else rows

    def _uncached(self) -> Iterator[Row] | None:
        """Formula cells of the mapped columns that have no saved result: errors, not blanks."""
        names = {i: col for col, i in self._index.items()}
        problems = [(r, c, f) for (r, c), f in sorted(self.table.uncached.items()) if c in names]
        if not problems:
            return None
        for row, column, formula in problems:
            self.errors.add(
                row,
                gettext(
                    "the formula =%(formula)s has no saved result (the workbook was written by a "
                    "program that does not calculate): open it in Excel, save it, and upload it "
                    "again, or export the sheet as CSV"
                )
                % {"formula": formula},
                names[column],
            )
        return iter(())

    # The two loops below are the hot path: locals only, dict hits before any parsing.

    def _long(self) -> Iterator[Row]:
        m, idx, width, table = self.mapping, self._index, self._width, self.table
        i_emp, i_date, i_kpi, i_val = idx[m.employee_id], idx[m.date], idx[m.kpi], idx[m.value]
        i_wt = idx[m.weight] if m.weight else None
        employees, dates, weights = self._employees, self._dates, self._weights
        names, position, errors = self._kpi_names, table.position, self.errors
        add_key, slots = self._keys.add, self._slots
        read = loaded = 0
        try:
            for cells in table.rows:
                read += 1
                line = position.line_num
                before = errors.total
                if len(cells) < width or not (cells[i_emp] or any(cells)):
                    self._short_row(line, cells)
                    continue
                emp = employees.get(cells[i_emp]) or self._employee(line, cells[i_emp], cells)
                if emp is None:
                    continue  # a totals row, skipped by rule
                day = dates.get(cells[i_date]) or self._date(line, cells[i_date])
                kpi = names.get(cells[i_kpi]) or self._kpi(line, cells[i_kpi])
                weight = (
                    1.0 if i_wt is None else weights.get(cells[i_wt]) or self._weight(line, cells)
                )
                if not (emp and day and kpi and weight):
                    continue
                value = kpi.values.get(cells[i_val])
                if value is None:
                    value = self._value(line, kpi, cells[i_val], m.value)
                    if value is None:
                        continue
                if not add_key(emp, slots[kpi.id], day):
                    self._duplicate(line, emp, kpi, day, "")
                    continue
                if errors.total == before:
                    loaded += 1
                yield line, emp, kpi.id, day, value, weight
        except (UnicodeDecodeError, csv.Error, FileError) as exc:
            raise table.failure(exc) from None
        finally:
            self._close_account(read, loaded)

    def _wide(self) -> Iterator[Row]:
        m, idx, width, table = self.mapping, self._index, self._width, self.table
        i_emp, i_date = idx[m.employee_id], idx[m.date]
        i_wt = idx[m.weight] if m.weight else None
        columns = [
            (idx[col], col, self.kpis[code], idx.get(m.weights.get(code, ""), i_wt))
            for code, col in m.kpis.items()
        ]
        employees, dates, weights = self._employees, self._dates, self._weights
        position, errors = table.position, self.errors
        add_key, slots = self._keys.add, self._slots
        skipped = self.account.skipped
        read = loaded = 0
        try:
            for cells in table.rows:
                read += 1
                line = position.line_num
                if len(cells) < width:
                    self._short_row(line, cells)
                    continue
                present = [
                    (col, kpi, cells[i], w) for i, col, kpi, w in columns if cells[i].strip()
                ]
                if not present:  # blank cells are "no value that day", not an error
                    rule = SKIP_NO_VALUE if any(cell.strip() for cell in cells) else SKIP_BLANK
                    skipped[rule] = skipped.get(rule, 0) + 1
                    continue
                before = errors.total
                emp = employees.get(cells[i_emp]) or self._employee(line, cells[i_emp], cells)
                if emp is None:
                    continue  # a totals row, skipped by rule
                day = dates.get(cells[i_date]) or self._date(line, cells[i_date])
                if not (emp and day):
                    self.account.rows_refused += 1
                    continue
                for col, kpi, text, i_weight in present:
                    if i_weight is None:
                        weight = 1.0
                    else:
                        weight = weights.get(cells[i_weight]) or self._weight(line, cells, i_weight)
                        if not weight:
                            continue
                    value = kpi.values.get(text)
                    if value is None:
                        value = self._value(line, kpi, text, col)
                        if value is None:
                            continue
                    if not add_key(emp, slots[kpi.id], day):
                        self._duplicate(line, emp, kpi, day, col)
                        continue
                    yield line, emp, kpi.id, day, value, weight
                if errors.total == before:
                    loaded += 1
                else:
                    self.account.rows_refused += 1
        except (UnicodeDecodeError, csv.Error, FileError) as exc:
            raise table.failure(exc) from None
        finally:
            self._close_account(read, loaded, wide=True)

    def _close_account(self, read: int, loaded: int, wide: bool = False) -> None:
        account = self.account
        account.rows_read, account.rows_loaded = read, loaded
        account.notes += self.table.late_notes()
        if not wide:  # the long loop counts refusals from what is left
            account.rows_refused = read - loaded - account.rows_skipped

    # Slow paths: first sight of a text, or a problem (recorded; a falsy result).

    def _short_row(self, line: int, cells: list[str]) -> None:
        if any(cell.strip() for cell in cells):  # all-blank rows are padding, not mistakes
            if self.mapping.layout == "wide":
                self.account.rows_refused += 1
            self.errors.add(
                line,
                gettext("%(count)s columns, but the mapping needs %(width)s")
                % {"count": len(cells), "width": self._width},
            )
        else:
            skipped = self.account.skipped
            skipped[SKIP_BLANK] = skipped.get(SKIP_BLANK, 0) + 1

    def _employee(self, line: int, raw: str, cells: list[str]) -> str | None:
        text = raw.strip()
        if _EMPLOYEE_ID.fullmatch(text) and not _TOTALS.match(text):
            self._employees[raw] = text
            return text
        if _TOTALS.match(text) or (not text and any(_TOTALS.match(c.strip()) for c in cells)):
            skipped = self.account.skipped
            skipped[SKIP_TOTALS] = skipped.get(SKIP_TOTALS, 0) + 1
            return None
        reason = (
            gettext("bad employee id %(id)s (1 to 32 letters, digits or . _ - @ /)")
            % {"id": _short(text)}
            if text
            else gettext("missing employee id")
        )
        self.errors.add(line, reason, self.mapping.employee_id)
        return ""

    def _date(self, line: int, raw: str) -> date | None:
        try:
            day = parse_date(raw, self.mapping.date_format)
        except ValueError:
            self.errors.add(line, self._date_reason(raw), self.mapping.date)
            return None
        self._dates[raw] = day
        return day

    def _date_reason(self, raw: str) -> str:
        if not raw.strip():
            return gettext("missing date")
        serial = _SERIAL.fullmatch(raw)
        if serial and 20_000 <= int(serial.group(1)) <= 80_000:
            day = excel_serial_date(int(serial.group(1)))
            return gettext(
                "%(text)s is an Excel date stored as a number (it would be %(date)s): format "
                "the date column as a date in Excel before exporting, or choose "
                "'Excel serial numbers' as the date format"
            ) % {"text": raw.strip(), "date": day}
        hint = self.mapping.date_format or gettext("YYYY-MM-DD, or set date_format")
        if hint == EXCEL_DATES:
            hint = gettext("an Excel serial number")
        return gettext("bad date %(text)s (expected %(hint)s)") % {
            "text": _short(raw),
            "hint": hint,
        }

    def _kpi(self, line: int, raw: str) -> _KpiState | None:
        state = self._kpi_names.get(raw.strip().casefold())
        if state is None:
            reason = (
                gettext("unknown KPI %(kpi)s") % {"kpi": _short(raw)}
                if raw.strip()
                else gettext("missing KPI")
            )
            self.errors.add(line, reason, self.mapping.kpi)
        else:
            self._kpi_names[raw] = state
        return state

    def _weight(self, line: int, cells: list[str], index: int | None = None) -> float:
        index = self._index[self.mapping.weight] if index is None else index
        raw = cells[index]
        column = self.table.header[index]
        text = raw.replace(",", ".") if self.mapping.decimal == "," and "." not in raw else raw
        try:
            weight = float(text) if text.strip() else 1.0
        except ValueError:
            weight = 0.0
        if 0 < weight < _MAX_FLOAT:
            self._weights[raw] = weight
            return weight
        self.errors.add(
            line,
            gettext("weight %(text)s is not a positive number") % {"text": _short(raw)},
            column,
        )
        return 0.0

    def _duplicate(self, line: int, emp: str, kpi: _KpiState, day: date, column: str) -> None:
        self.errors.add(
            line,
            gettext(
                "%(kpi)s: duplicate of an earlier line (the same employee %(employee)s, KPI and "
                "date %(date)s): remove one of them from the export"
            )
            % {"kpi": kpi.rule.code, "employee": emp, "date": day},
            column,
        )

    def _value(self, line: int, kpi: _KpiState, text: str, column: str) -> float | None:
        rule = kpi.rule
        try:
            value = kpi.parse(text)
        except ValueError:
            self.errors.add(
                line,
                gettext("%(kpi)s: %(reason)s")
                % {"kpi": rule.code, "reason": self._value_reason(rule, text)},
                column,
            )
            return None
        if rule.unit == "percent" and text.rstrip()[-1:] != "%":
            value = self._scaled(line, kpi, value, text, column)
            if value is None:
                return None
        if not rule.low <= value <= rule.high:  # also false for NaN
            if rule.high < _MAX_FLOAT:
                reason = gettext("%(kpi)s: value %(value)s is out of range (%(low)s to %(high)s)")
            else:
                reason = gettext("%(kpi)s: value %(value)s is out of range (%(low)s or more)")
            values = {"kpi": rule.code, "value": f"{value:g}", "low": f"{rule.low:g}"}
            self.errors.add(line, reason % {**values, "high": f"{rule.high:g}"}, column)
            return None
        if len(kpi.values) < _VALUE_CACHE:
            kpi.values[text] = value
        return value

    def _value_reason(self, rule: KpiRule, text: str) -> str:
        if not text.strip():
            return gettext("missing value")
        if self.mapping.decimal == "." and _DECIMAL_COMMA.fullmatch(text):
            return gettext(
                "value %(text)s has a decimal comma: choose 'Decimal comma (87,1)' on "
                "the mapping page (or export with decimal points)"
            ) % {"text": _short(text)}
        if self.mapping.decimal == "," and "." in text:
            return gettext(
                "value %(text)s has a '.' although the mapping says decimal commas: "
                "export the numbers without thousands separators"
            ) % {"text": _short(text)}
        if rule.unit == "seconds":
            return gettext("value %(text)s is not a number or a duration (m:ss)") % {
                "text": _short(text)
            }
        return gettext("value %(text)s is not a number") % {"text": _short(text)}

    def _scaled(
        self, line: int, kpi: _KpiState, value: float, text: str, column: str
    ) -> float | None:
        """A bare number in a percentage column: a fraction (0.85 = 85 %) or a percentage
        (87.5), by the mapping's `percent_scale`, or else by the column's own values. A column
        that holds both is refused: 1.012 beside 0.85 is either 101.2 % or 1.012 %."""
        scale = self.mapping.percent_scale
        if scale == "fraction":
            return value * 100
        if scale == "percent" or value == 0:
            return value
        code = kpi.rule.code
        fix = gettext(
            "export the column in one form (Excel: format the cells as Number, or as "
            "Percentage so each value has a percent sign), or say on the mapping page whether bare "
            "numbers are fractions or percentages"
        )
        if value == 1:
            if kpi.percent_line:
                return value
            kpi.one_line = kpi.one_line or line
            return 100.0
        if 0 < value < 1:
            if kpi.percent_line:
                self.errors.add(
                    line,
                    gettext(
                        "%(kpi)s: %(text)s reads as a fraction (%(percent)s %%), but line "
                        "%(line)s holds a percentage: the column mixes fractions and "
                        "percentages; %(fix)s"
                    )
                    % {
                        "kpi": code,
                        "text": text.strip(),
                        "percent": f"{value * 100:g}",
                        "line": kpi.percent_line,
                        "fix": fix,
                    },
                    column,
                )
                return None
            kpi.fraction_line = kpi.fraction_line or line
            return value * 100
        if kpi.fraction_line or kpi.one_line:
            other = kpi.fraction_line or kpi.one_line
            self.errors.add(
                line,
                gettext(
                    "%(kpi)s: %(text)s reads as %(value)s %%, but line %(line)s holds a "
                    "fraction (0.85 for 85 %%): the column mixes fractions and percentages; "
                    "%(fix)s"
                )
                % {
                    "kpi": code,
                    "text": text.strip(),
                    "value": f"{value:g}",
                    "line": other,
                    "fix": fix,
                },
                column,
            )
            return None
        kpi.percent_line = kpi.percent_line or line
        return value
