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
Every value must lie within the KPI's min/max. Dates are ISO (`2024-03-05`, `20240305`, with or
without a time) or one of `FALLBACK_DATE_FORMATS`; `03/04/2024` is ambiguous between day- and
month-first, so slash dates need the mapping's `date_format`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from time import strptime
from typing import IO, Any

LAYOUTS = ("wide", "long")
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
        where = f"line {self.line}, {self.column}" if self.column else f"line {self.line}"
        return f"{where}: {self.reason}"


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

    @classmethod
    def parse(cls, data: ColumnMapping | Mapping[str, Any] | str) -> ColumnMapping:
        if isinstance(data, ColumnMapping):
            return data
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise MappingError(f"mapping is not valid JSON: {exc}") from None
        if not isinstance(data, Mapping):
            raise MappingError("mapping must be a JSON object")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise MappingError(f"unknown mapping keys: {', '.join(sorted(unknown))}")
        layout = data.get("layout", "long")
        if layout not in LAYOUTS:
            raise MappingError("layout must be 'wide' or 'long'")
        required = ["employee_id", "date"] + (["kpis"] if layout == "wide" else ["kpi", "value"])
        missing = [key for key in required if not data.get(key)]
        if missing:
            raise MappingError(f"mapping for a {layout} file needs {', '.join(missing)}")
        for key in ("employee_id", "date", "kpi", "value", "weight", "date_format"):
            if not isinstance(data.get(key, ""), str):
                raise MappingError(f"{key} must be a column name")
        for key in ("kpis", "kpi_aliases"):
            value = data.get(key, {})
            if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
            ):
                raise MappingError(f"{key} must map names to names")
        return cls(
            **{
                **data,
                "kpis": dict(data.get("kpis", {})),
                "kpi_aliases": dict(data.get("kpi_aliases", {})),
            }
        )

    def as_dict(self) -> dict[str, Any]:
        keys = ["layout", "employee_id", "date"]
        keys += ["kpis"] if self.layout == "wide" else ["kpi", "value", "kpi_aliases"]
        keys += ["weight", "date_format"]
        return {key: getattr(self, key) for key in keys if getattr(self, key)}

    def columns(self) -> list[str]:
        cols = [self.employee_id, self.date]
        cols += list(self.kpis.values()) if self.layout == "wide" else [self.kpi, self.value]
        return cols + ([self.weight] if self.weight else [])


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

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_table(file: bytes | IO[bytes], *, filename: str = "") -> Table:
    """A CSV or XLSX file (by extension, else by content) as a table of text cells."""
    stream = io.BytesIO(file) if isinstance(file, bytes | bytearray | memoryview) else file
    start = stream.read(4)
    stream.seek(0)
    ext = os.path.splitext(filename)[1].lower()
    if ext in (".xlsx", ".xlsm") or (not ext and start == _XLSX_MAGIC):
        return _xlsx_table(stream)
    if start == _XLSX_MAGIC or ext in (".xls", ".ods"):
        raise FileError("this looks like a spreadsheet other than .xlsx: save it as CSV or XLSX")
    return _csv_table(stream)


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


def _csv_table(stream: IO[bytes]) -> Table:
    head = stream.read(65536)
    stream.seek(0)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "cp1252"  # what Excel on Windows writes as "CSV"
    first_line = head.decode(encoding, errors="replace").partition("\n")[0]
    if not first_line.strip():
        raise FileError("the file is empty or its first line (the header) is blank")
    # The header's most frequent candidate is the delimiter (European exports use ';').
    delimiter = max(",;\t|", key=first_line.count)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    detached = False

    def close() -> None:
        nonlocal detached
        if not detached:  # a wrapper that is garbage-collected closes its buffer
            text.detach()
            detached = True

    def failure(exc: Exception) -> FileError:
        if isinstance(exc, UnicodeDecodeError):
            # The wrapper decodes ahead of the reader: find the line from the bytes.
            line = _first_undecodable_line(stream, encoding)
            return FileError("the file mixes text encodings; save it as UTF-8", line)
        return FileError(f"unreadable CSV: {exc}", reader.line_num)

    try:
        header = next(reader)
    except (csv.Error, UnicodeDecodeError) as exc:
        close()
        raise FileError(f"the header cannot be read: {exc}") from None
    return Table(header, reader, reader, close, failure)


def _first_undecodable_line(stream: IO[bytes], encoding: str) -> int:
    stream.seek(0)
    for number, raw in enumerate(stream, start=1):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            return number
    return 1


def _xlsx_table(stream: IO[bytes]) -> Table:
    import openpyxl  # only XLSX uploads pay for the import

    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike mean "unreadable"
        raise FileError(f"the spreadsheet cannot be read: {exc}") from None
    values = book.worksheets[0].iter_rows(values_only=True)
    header = [cell_text(cell) for cell in next(values, ())]
    table = _numbered(header, values, first=2)
    table.close = book.close
    return table


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
    stripped = text.rstrip()
    if stripped[-1:] == "%":
        return float(stripped[:-1])
    value = float(text)
    return value * 100 if 0 < value <= 1 else value


def parse_duration(text: str) -> float:
    if ":" not in text:
        return float(text)
    parts = text.strip().split(":")
    if len(parts) not in (2, 3):
        raise ValueError(text)
    seconds = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[0]) if len(parts) == 3 else 0
    if not 0 <= seconds < 60 or minutes < 0 or hours < 0 or (len(parts) == 3 and minutes > 59):
        raise ValueError(text)
    return hours * 3600 + minutes * 60 + seconds


PARSERS: dict[str, Callable[[str], float]] = {
    "percent": parse_percent,
    "seconds": parse_duration,
    "count": float,
}


def parse_date(text: str, date_format: str = "") -> date:
    text = text.strip()
    try:
        return date.fromisoformat(text[:10] if text[10:11] in (" ", "T") else text)
    except ValueError:
        pass
    for fmt in (date_format,) if date_format else FALLBACK_DATE_FORMATS:
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
    """A KPI as the hot loop sees it, with this file's parsed values by their text."""

    __slots__ = ("rule", "id", "values")

    def __init__(self, rule: KpiRule) -> None:
        self.rule, self.id = rule, rule.id
        self.values: dict[str, float] = {}


class Validator:
    """Turns a table into validated `Row` tuples, collecting every problem in `errors`.

    Iterate `rows()` once. A file with any error must not be loaded (`errors.total > 0`), but
    rows keep coming after an error so that the caller can report them all in one pass.
    """

    def __init__(
        self, table: Table, mapping: ColumnMapping, kpis: Iterable[KpiRule], errors: ErrorLog
    ) -> None:
        self.table, self.mapping, self.errors = table, mapping, errors
        self.kpis = {rule.code: _KpiState(rule) for rule in kpis}
        # Exports repeat the same IDs, dates, weights and values over and over: each distinct
        # text is checked once, then found in a dict. Invalid texts are never cached.
        self._employees: dict[str, str] = {}
        self._dates: dict[str, date] = {}
        self._weights: dict[str, float] = {"": 1.0}
        self._kpi_names: dict[str, _KpiState] = {}
        self._seen: dict[tuple[str, int, date], int] = {}
        if mapping.layout == "wide":
            unknown = sorted(set(mapping.kpis) - set(self.kpis))
            if unknown:
                raise MappingError(f"unknown KPI codes in mapping: {', '.join(unknown)}")
        for state in self.kpis.values():
            self._kpi_names[state.rule.code.casefold()] = state
            self._kpi_names[state.rule.name.casefold()] = state
        for alias, code in mapping.kpi_aliases.items():
            if code not in self.kpis:
                raise MappingError(f"kpi_aliases: unknown KPI code {code!r}")
            self._kpi_names[alias.strip().casefold()] = self.kpis[code]
        self._index = self._locate_columns()
        self._width = max(self._index.values()) + 1

    def _locate_columns(self) -> dict[str, int]:
        exact: dict[str, int] = {}
        loose: dict[str, int] = {}
        for i, name in enumerate(self.table.header):
            exact.setdefault(name, i)
            loose.setdefault(name.strip().casefold(), i)
        index, missing = {}, []
        for col in self.mapping.columns():
            found = exact.get(col, loose.get(col.strip().casefold()))
            if found is None:
                missing.append(repr(col))
            else:
                index[col] = found
        if missing:
            raise FileError(f"not in the header: {', '.join(missing)}")
        return index

    def rows(self) -> Iterator[Row]:
        return self._wide() if self.mapping.layout == "wide" else self._long()

    # The two loops below are the hot path: locals only, dict hits before any parsing.

    def _long(self) -> Iterator[Row]:
        m, idx, width, table = self.mapping, self._index, self._width, self.table
        i_emp, i_date, i_kpi, i_val = idx[m.employee_id], idx[m.date], idx[m.kpi], idx[m.value]
        i_wt = idx[m.weight] if m.weight else None
        employees, dates, weights = self._employees, self._dates, self._weights
        names, seen, position = self._kpi_names, self._seen, table.position
        try:
            for cells in table.rows:
                line = position.line_num
                if len(cells) < width or not (cells[i_emp] or any(cells)):
                    self._short_row(line, cells)
                    continue
                emp = employees.get(cells[i_emp]) or self._employee(line, cells[i_emp])
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
                first = seen.setdefault((emp, kpi.id, day), line)
                if first != line:
                    self.errors.add(
                        line, f"duplicate of line {first} (same employee, KPI and date)"
                    )
                    continue
                yield line, emp, kpi.id, day, value, weight
        except (UnicodeDecodeError, csv.Error) as exc:
            raise table.failure(exc) from None

    def _wide(self) -> Iterator[Row]:
        m, idx, width, table = self.mapping, self._index, self._width, self.table
        i_emp, i_date = idx[m.employee_id], idx[m.date]
        i_wt = idx[m.weight] if m.weight else None
        columns = [(idx[col], col, self.kpis[code]) for code, col in m.kpis.items()]
        employees, dates, weights = self._employees, self._dates, self._weights
        seen, position = self._seen, table.position
        try:
            for cells in table.rows:
                line = position.line_num
                if len(cells) < width:
                    self._short_row(line, cells)
                    continue
                present = [(col, kpi, cells[i]) for i, col, kpi in columns if cells[i].strip()]
                if not present:
                    continue  # blank cells are "no value that day", not an error
                emp = employees.get(cells[i_emp]) or self._employee(line, cells[i_emp])
                day = dates.get(cells[i_date]) or self._date(line, cells[i_date])
                weight = (
                    1.0 if i_wt is None else weights.get(cells[i_wt]) or self._weight(line, cells)
                )
                if not (emp and day and weight):
                    continue
                for col, kpi, text in present:
                    value = kpi.values.get(text)
                    if value is None:
                        value = self._value(line, kpi, text, col)
                        if value is None:
                            continue
                    first = seen.setdefault((emp, kpi.id, day), line)
                    if first != line:
                        self.errors.add(line, f"{kpi.rule.code}: duplicate of line {first}", col)
                        continue
                    yield line, emp, kpi.id, day, value, weight
        except (UnicodeDecodeError, csv.Error) as exc:
            raise table.failure(exc) from None

    # Slow paths: first sight of a text, or a problem (recorded; a falsy result).

    def _short_row(self, line: int, cells: list[str]) -> None:
        if any(cell.strip() for cell in cells):  # all-blank rows are padding, not mistakes
            self.errors.add(line, f"{len(cells)} columns, but the mapping needs {self._width}")

    def _employee(self, line: int, raw: str) -> str:
        text = raw.strip()
        if _EMPLOYEE_ID.fullmatch(text):
            self._employees[raw] = text
            return text
        reason = (
            f"bad employee id {_short(text)} (1 to 32 letters, digits or . _ - @ /)"
            if text
            else "missing employee id"
        )
        self.errors.add(line, reason, self.mapping.employee_id)
        return ""

    def _date(self, line: int, raw: str) -> date | None:
        try:
            day = parse_date(raw, self.mapping.date_format)
        except ValueError:
            hint = self.mapping.date_format or "YYYY-MM-DD, or set date_format"
            reason = f"bad date {_short(raw)} (expected {hint})" if raw.strip() else "missing date"
            self.errors.add(line, reason, self.mapping.date)
            return None
        self._dates[raw] = day
        return day

    def _kpi(self, line: int, raw: str) -> _KpiState | None:
        state = self._kpi_names.get(raw.strip().casefold())
        if state is None:
            reason = f"unknown KPI {_short(raw)}" if raw.strip() else "missing KPI"
            self.errors.add(line, reason, self.mapping.kpi)
        else:
            self._kpi_names[raw] = state
        return state

    def _weight(self, line: int, cells: list[str]) -> float:
        raw = cells[self._index[self.mapping.weight]]
        try:
            weight = float(raw) if raw.strip() else 1.0
        except ValueError:
            weight = 0.0
        if 0 < weight < _MAX_FLOAT:
            self._weights[raw] = weight
            return weight
        self.errors.add(line, f"weight {_short(raw)} is not a positive number", self.mapping.weight)
        return 0.0

    def _value(self, line: int, kpi: _KpiState, text: str, column: str) -> float | None:
        rule = kpi.rule
        try:
            value = rule.parse(text)
        except ValueError:
            kind = "a number or a duration (m:ss)" if rule.unit == "seconds" else "a number"
            reason = f"value {_short(text)} is not {kind}" if text.strip() else "missing value"
            self.errors.add(line, f"{rule.code}: {reason}", column)
            return None
        if not rule.low <= value <= rule.high:  # also false for NaN
            top = f" to {rule.high:g}" if rule.high < _MAX_FLOAT else " or more"
            self.errors.add(
                line, f"{rule.code}: value {value:g} is out of range ({rule.low:g}{top})", column
            )
            return None
        if len(kpi.values) < _VALUE_CACHE:
            kpi.values[text] = value
        return value
