"""Reading an HR system's roster export: the column mapping and row-by-row validation.

The file itself (CSV or XLSX, its encoding and delimiter) is read by `metrics.parsing`, the
same reader as KPI files; this module turns its text cells into `PersonRow`s and refuses, by
line and column, every value that could be misread: an unknown status or role, a slash date
without a format, a language that is not a code, an employee ID listed twice. Nothing here
touches the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import IO, Any

from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from metrics.parsing import ErrorLog, FileError, RowError, Table, dict_table, open_table, parse_date

__all__ = [
    "ErrorLog",
    "FileError",
    "MappingError",
    "PersonRow",
    "RosterMapping",
    "RowError",
    "read_rows",
]

# Same characters as KPI samples' employee IDs, so both files name people alike.
EMPLOYEE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@/-]{0,31}")

AGENT, SUPERVISOR, HR, ANALYST = "agent", "supervisor", "hr", "analyst"
ROLES = (AGENT, SUPERVISOR, HR, ANALYST)
ACTIVE, TERMINATED = "active", "terminated"

# File spellings understood without a mapping; anything else must be mapped explicitly.
DEFAULT_STATUS_VALUES = {
    "active": ACTIVE,
    "a": ACTIVE,
    "employed": ACTIVE,
    "terminated": TERMINATED,
    "t": TERMINATED,
    "inactive": TERMINATED,
    "left": TERMINATED,
}
DEFAULT_ROLE_VALUES = {role: role for role in ROLES}

# The roster's fields: which are required, and what the page calls them.
FIELDS: dict[str, tuple[str, bool]] = {
    "employee_id": ("Employee ID", True),
    "full_name": ("Full name", False),
    "first_name": ("First name", False),
    "last_name": ("Last name", False),
    "email": ("E-mail", False),
    "team": ("Team", True),
    "department": ("Department", False),
    "site": ("Site", False),
    "supervisor_id": ("Supervisor's employee ID", False),
    "role": ("Role", False),
    "job_title": ("Job title", False),
    "hire_date": ("Hire date", False),
    "language": ("Preferred language", False),
    "status": ("Active / terminated", False),
}
# Header spellings that propose a column on the mapping page (the user confirms them).
GUESSES: dict[str, tuple[str, ...]] = {
    "employee_id": ("employee id", "employee_id", "employee number", "worker id", "emp id", "id"),
    "full_name": ("full name", "name", "employee name", "worker", "legal name"),
    "first_name": ("first name", "given name", "first_name", "preferred first name"),
    "last_name": ("last name", "family name", "surname", "last_name"),
    "email": ("email", "e-mail", "work email", "email address", "primary work email"),
    "team": ("team", "team name", "supervisory organization", "group"),
    "department": ("department", "cost center", "division"),
    "site": ("site", "location", "work location", "office"),
    "supervisor_id": (
        "supervisor id",
        "supervisor employee id",
        "manager id",
        "manager employee id",
        "reports to id",
    ),
    "role": ("role", "pipsystem role", "access role"),
    "job_title": ("job title", "title", "position", "business title"),
    "hire_date": ("hire date", "start date", "original hire date", "hire_date"),
    "language": ("language", "preferred language", "locale"),
    "status": ("status", "employment status", "worker status", "active"),
}


class MappingError(ValueError):
    """The column mapping cannot be used: a form or API error; nothing is read or recorded."""


@dataclass(frozen=True, slots=True)
class RosterMapping:
    """Which file columns hold what; stored as JSON on `RosterSource.mapping`."""

    employee_id: str
    team: str
    full_name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    department: str = ""
    site: str = ""
    supervisor_id: str = ""
    role: str = ""
    job_title: str = ""
    hire_date: str = ""
    language: str = ""
    status: str = ""
    date_format: str = ""  # strptime format for slash dates, e.g. %m/%d/%Y
    status_values: dict[str, str] = field(default_factory=dict)  # file text -> active/terminated
    role_values: dict[str, str] = field(default_factory=dict)  # file text -> role

    @classmethod
    def parse(cls, data: RosterMapping | Mapping[str, Any] | str) -> RosterMapping:
        if isinstance(data, RosterMapping):
            return data
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise MappingError(f"mapping is not valid JSON: {exc}") from None
        if not isinstance(data, Mapping):
            raise MappingError("mapping must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MappingError(f"unknown mapping keys: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name in known:
            value = data.get(name)
            if name in ("status_values", "role_values"):
                values[name] = cls._values(name, value or {})
            elif value is None:
                values[name] = ""
            elif not isinstance(value, str):
                raise MappingError(f"{name}: must be a column name (text)")
            else:
                values[name] = value.strip()
        for name, (label, required) in FIELDS.items():
            if required and not values[name]:
                raise MappingError(f"{name}: choose the column holding the {label.lower()}")
        if not values["full_name"] and not (values["first_name"] and values["last_name"]):
            raise MappingError("full_name: choose a full-name column, or first and last names")
        used: dict[str, str] = {}
        for name in FIELDS:
            column = values[name]
            if column and column in used:
                raise MappingError(f"{name}: column {column!r} is already used for {used[column]}")
            if column:
                used[column] = name
        return cls(**values)

    @staticmethod
    def _values(name: str, raw: Any) -> dict[str, str]:
        allowed = (ACTIVE, TERMINATED) if name == "status_values" else ROLES
        if not isinstance(raw, Mapping):
            raise MappingError(f"{name}: must be an object of file text to value")
        result = {}
        for text, value in raw.items():
            if value not in allowed:
                raise MappingError(f"{name}: {value!r} must be one of {', '.join(allowed)}")
            result[str(text).strip().casefold()] = value
        return result

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def columns(self) -> dict[str, str]:
        """field -> column, for the fields mapped."""
        return {name: getattr(self, name) for name in FIELDS if getattr(self, name)}


def guess_mapping(header: list[str]) -> dict[str, str]:
    """Columns proposed for each field from the header's names; the user confirms them."""
    lowered = {h.strip().casefold(): h for h in header}
    proposal: dict[str, str] = {}
    taken: set[str] = set()
    for name, spellings in GUESSES.items():
        for spelling in spellings:
            column = lowered.get(spelling)
            if column is not None and column not in taken:
                proposal[name] = column
                taken.add(column)
                break
    return proposal


@dataclass(slots=True)
class PersonRow:
    """One person as the roster has them, validated."""

    line: int
    employee_id: str
    full_name: str
    team: str
    email: str = ""
    department: str | None = None  # None: the column is not mapped, keep what is stored
    site: str | None = None
    supervisor_id: str | None = None
    role: str = AGENT
    job_title: str | None = None
    hire_date: date | None = None
    hire_date_given: bool = False
    language: str | None = None
    active: bool = True


def normalise_language(text: str) -> str:
    """A language code as Django names it (`pt_BR` and `pt-BR` -> `pt-br`), or ValueError."""
    code = text.strip().replace("_", "-").lower()
    if code in LANG_INFO and "fallback" not in LANG_INFO[code]:
        return code
    base = code.split("-")[0]
    if code and base in LANG_INFO and re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", code):
        return code
    raise ValueError(text)


def open_roster(file: bytes | IO[bytes], *, filename: str = "") -> Table:
    """The file as a table of text cells: `metrics.parsing` reads CSV and XLSX alike."""
    return open_table(file, filename=filename)


def api_table(rows: Iterable[Any]) -> tuple[Table, RosterMapping]:
    """JSON rows from the API, under our own field names (line numbers are 1-based items).
    A field left out of every row is not mapped: what is stored for it is kept."""
    rows = list(rows)
    keys: set[str] = set()
    for number, item in enumerate(rows, start=1):
        if not isinstance(item, Mapping):
            raise MappingError(f"rows[{number}]: each row must be an object")
        keys |= set(item)
    unknown = sorted(keys - set(FIELDS))
    if unknown:
        raise MappingError(f"unknown fields: {', '.join(unknown)}")
    columns = [name for name in FIELDS if name in keys]
    mapping = RosterMapping.parse({name: name for name in columns})
    return dict_table(rows, columns), mapping


def read_rows(table: Table, mapping: RosterMapping, errors: ErrorLog) -> Iterator[PersonRow]:
    """Validate every row, logging each problem by line and column; yields the good rows."""
    columns = mapping.columns()
    header = [h.strip() for h in table.header]
    index: dict[str, int] = {}
    missing = []
    for name, column in columns.items():
        if column in header:
            index[name] = header.index(column)
        else:
            missing.append(column)
    if missing:
        raise FileError(f"columns not found in the header: {', '.join(missing)}")
    statuses = DEFAULT_STATUS_VALUES | mapping.status_values
    roles = DEFAULT_ROLE_VALUES | mapping.role_values
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    position = table.position
    width = max(index.values()) + 1
    try:
        for cells in table.rows:
            line = position.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines, and XLSX rows left empty
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            person = _person(line, cells, index, mapping, statuses, roles, errors)
            if person is None:
                continue
            first = seen_ids.setdefault(person.employee_id.casefold(), line)
            if first != line:
                errors.add(
                    line,
                    f"employee ID {person.employee_id} is also on line {first}",
                    columns["employee_id"],
                )
                continue
            if person.email:
                first = seen_emails.setdefault(person.email.casefold(), line)
                if first != line:
                    errors.add(
                        line, f"e-mail {person.email} is also on line {first}", columns["email"]
                    )
                    continue
            yield person
    except (UnicodeDecodeError, ValueError, OSError) as exc:
        if isinstance(exc, FileError):
            raise
        raise table.failure(exc) from None


def _person(
    line: int,
    cells: list[str],
    index: dict[str, int],
    mapping: RosterMapping,
    statuses: dict[str, str],
    roles: dict[str, str],
    errors: ErrorLog,
) -> PersonRow | None:
    def cell(name: str) -> str | None:
        return cells[index[name]].strip() if name in index else None

    before = errors.total

    def bad(name: str, reason: str) -> None:
        errors.add(line, reason, getattr(mapping, name))

    employee_id = cell("employee_id") or ""
    if not employee_id:
        bad("employee_id", "the employee ID is empty")
    elif not EMPLOYEE_ID.fullmatch(employee_id):
        bad("employee_id", f"{employee_id[:40]!r} is not an employee ID (letters, digits, ._@/-)")
    if "full_name" in index:
        full_name = cell("full_name") or ""
    else:
        full_name = f"{cell('first_name') or ''} {cell('last_name') or ''}".strip()
    full_name = " ".join(full_name.split())
    if not full_name:
        bad("full_name" if "full_name" in index else "last_name", "the name is empty")
    elif len(full_name) > 150:
        bad("full_name" if "full_name" in index else "last_name", "the name is over 150 letters")
    team = cell("team") or ""
    if not team:
        bad("team", "the team is empty")
    elif len(team) > 100:
        bad("team", "the team name is over 100 letters")
    email = cell("email") or ""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            bad("email", f"{email[:60]!r} is not an e-mail address")
    supervisor_id = cell("supervisor_id")
    if supervisor_id and not EMPLOYEE_ID.fullmatch(supervisor_id):
        bad("supervisor_id", f"{supervisor_id[:40]!r} is not an employee ID")
    elif supervisor_id and supervisor_id.casefold() == employee_id.casefold():
        bad("supervisor_id", "a person cannot be their own supervisor")
    role = AGENT
    raw_role = cell("role")
    if raw_role:
        found = roles.get(raw_role.casefold())
        if found is None:
            bad(
                "role",
                f"role {raw_role[:40]!r} is not known: use agent, supervisor, hr or analyst, "
                "or map it on the mapping step",
            )
        else:
            role = found
    active = True
    raw_status = cell("status")
    if raw_status:
        found = statuses.get(raw_status.casefold())
        if found is None:
            bad(
                "status",
                f"status {raw_status[:40]!r} is not known: use active or terminated, "
                "or map it on the mapping step",
            )
        else:
            active = found == ACTIVE
    elif "status" in index:
        bad("status", "the status is empty: active or terminated")
    hire_date = None
    raw_date = cell("hire_date")
    if raw_date:
        try:
            hire_date = parse_date(raw_date, mapping.date_format)
        except ValueError:
            hint = (
                f"does not match the format {mapping.date_format}"
                if mapping.date_format
                else "is not a date (use 2024-03-05; for 03/05/2024 set the date format, "
                "as day and month could be read either way)"
            )
            bad("hire_date", f"{raw_date[:40]!r} {hint}")
    language = cell("language")
    if language:
        try:
            language = normalise_language(language)
        except ValueError:
            bad("language", f"{language[:40]!r} is not a language code (such as en, es, fr-CA)")
    job_title = cell("job_title")
    if job_title is not None and len(job_title) > 100:
        bad("job_title", "the job title is over 100 letters")
    department, site = cell("department"), cell("site")
    for name, value in (("department", department), ("site", site)):
        if value is not None and len(value) > 100:
            bad(name, f"the {name} is over 100 letters")
    if errors.total != before:
        return None
    return PersonRow(
        line=line,
        employee_id=employee_id,
        full_name=full_name,
        team=team,
        email=email,
        department=department,
        site=site,
        supervisor_id=supervisor_id or ("" if supervisor_id is not None else None),
        role=role,
        job_title=job_title or (None if job_title is None else ""),
        hire_date=hire_date,
        hire_date_given="hire_date" in index,
        language=language,
        active=active,
    )
