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
from django.utils.translation import gettext, gettext_lazy

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
    "employee_id": (gettext_lazy("Employee ID"), True),
    "full_name": (gettext_lazy("Full name"), False),
    "first_name": (gettext_lazy("First name"), False),
    "last_name": (gettext_lazy("Last name"), False),
    "email": (gettext_lazy("E-mail"), False),
    "team": (gettext_lazy("Team"), True),
    "department": (gettext_lazy("Department"), False),
    "site": (gettext_lazy("Site"), False),
    "supervisor_id": (gettext_lazy("Supervisor's employee ID"), False),
    "role": (gettext_lazy("Role"), False),
    "job_title": (gettext_lazy("Job title"), False),
    "hire_date": (gettext_lazy("Hire date"), False),
    "language": (gettext_lazy("Preferred language"), False),
    "status": (gettext_lazy("Active / terminated"), False),
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
    """The column mapping cannot be used: a form or API error; nothing is read or recorded.
    `field` is the roster field the message is about ("" for the mapping as a whole)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field, self.message = field, message


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
                raise MappingError(
                    gettext("mapping is not valid JSON: %(error)s") % {"error": exc}
                ) from None
        if not isinstance(data, Mapping):
            raise MappingError(gettext("mapping must be a JSON object"))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MappingError(
                gettext("unknown mapping keys: %(keys)s") % {"keys": ", ".join(unknown)}
            )
        values: dict[str, Any] = {}
        for name in known:
            value = data.get(name)
            if name in ("status_values", "role_values"):
                values[name] = cls._values(name, value or {})
            elif value is None:
                values[name] = ""
            elif not isinstance(value, str):
                raise MappingError(gettext("must be a column name (text)"), name)
            else:
                values[name] = value.strip()
        for name, (label, required) in FIELDS.items():
            if required and not values[name]:
                raise MappingError(
                    gettext("choose the column holding the %(field)s") % {"field": label.lower()},
                    name,
                )
        if not values["full_name"] and not (values["first_name"] and values["last_name"]):
            raise MappingError(
                gettext("choose a full-name column, or first and last names"), "full_name"
            )
        used: dict[str, str] = {}
        for name in FIELDS:
            column = values[name]
            if column and column in used:
                raise MappingError(
                    gettext("column %(column)s is already used for %(field)s")
                    % {"column": repr(column), "field": used[column]},
                    name,
                )
            if column:
                used[column] = name
        return cls(**values)

    @staticmethod
    def _values(name: str, raw: Any) -> dict[str, str]:
        allowed = (ACTIVE, TERMINATED) if name == "status_values" else ROLES
        if not isinstance(raw, Mapping):
            raise MappingError(gettext("must be an object of file text to value"), name)
        result = {}
        for text, value in raw.items():
            if value not in allowed:
                raise MappingError(
                    gettext("%(value)s must be one of %(allowed)s")
                    % {"value": repr(value), "allowed": ", ".join(allowed)},
                    name,
                )
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
            raise MappingError(gettext("each row must be an object"), f"rows[{number}]")
        keys |= set(item)
    unknown = sorted(keys - set(FIELDS))
    if unknown:
        raise MappingError(gettext("unknown fields: %(fields)s") % {"fields": ", ".join(unknown)})
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
        raise FileError(
            gettext("columns not found in the header: %(columns)s")
            % {"columns": ", ".join(missing)}
        )
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
                    gettext("employee ID %(id)s is also on line %(line)s")
                    % {"id": person.employee_id, "line": first},
                    columns["employee_id"],
                )
                continue
            if person.email:
                first = seen_emails.setdefault(person.email.casefold(), line)
                if first != line:
                    errors.add(
                        line,
                        gettext("e-mail %(email)s is also on line %(line)s")
                        % {"email": person.email, "line": first},
                        columns["email"],
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
        bad("employee_id", gettext("the employee ID is empty"))
    elif not EMPLOYEE_ID.fullmatch(employee_id):
        bad(
            "employee_id",
            gettext("%(id)s is not an employee ID (letters, digits, ._@/-)")
            % {"id": repr(employee_id[:40])},
        )
    if "full_name" in index:
        full_name = cell("full_name") or ""
    else:
        full_name = f"{cell('first_name') or ''} {cell('last_name') or ''}".strip()
    full_name = " ".join(full_name.split())
    if not full_name:
        bad("full_name" if "full_name" in index else "last_name", gettext("the name is empty"))
    elif len(full_name) > 150:
        bad(
            "full_name" if "full_name" in index else "last_name",
            gettext("the name is over 150 letters"),
        )
    team = cell("team") or ""
    if not team:
        bad("team", gettext("the team is empty"))
    elif len(team) > 100:
        bad("team", gettext("the team name is over 100 letters"))
    email = cell("email") or ""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            bad(
                "email",
                gettext("%(email)s is not an e-mail address") % {"email": repr(email[:60])},
            )
    supervisor_id = cell("supervisor_id")
    if supervisor_id and not EMPLOYEE_ID.fullmatch(supervisor_id):
        bad(
            "supervisor_id",
            gettext("%(id)s is not an employee ID") % {"id": repr(supervisor_id[:40])},
        )
    elif supervisor_id and supervisor_id.casefold() == employee_id.casefold():
        bad("supervisor_id", gettext("a person cannot be their own supervisor"))
    role = AGENT
    raw_role = cell("role")
    if raw_role:
        found = roles.get(raw_role.casefold())
        if found is None:
            bad(
                "role",
                gettext(
                    "role %(role)s is not known: use agent, supervisor, hr or analyst, "
                    "or map it on the mapping step"
                )
                % {"role": repr(raw_role[:40])},
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
                gettext(
                    "status %(status)s is not known: use active or terminated, "
                    "or map it on the mapping step"
                )
                % {"status": repr(raw_status[:40])},
            )
        else:
            active = found == ACTIVE
    elif "status" in index:
        bad("status", gettext("the status is empty: active or terminated"))
    hire_date = None
    raw_date = cell("hire_date")
    if raw_date:
        try:
            hire_date = parse_date(raw_date, mapping.date_format)
        except ValueError:
            text = repr(raw_date[:40])
            if mapping.date_format:
                reason = gettext("%(date)s does not match the format %(format)s") % {
                    "date": text,
                    "format": mapping.date_format,
                }
            else:
                reason = gettext(
                    "%(date)s is not a date (use 2024-03-05; for 03/05/2024 set the date format, "
                    "as day and month could be read either way)"
                ) % {"date": text}
            bad("hire_date", reason)
    language = cell("language")
    if language:
        try:
            language = normalise_language(language)
        except ValueError:
            bad(
                "language",
                gettext("%(language)s is not a language code (such as en, es, fr-CA)")
                % {"language": repr(language[:40])},
            )
    job_title = cell("job_title")
    if job_title is not None and len(job_title) > 100:
        bad("job_title", gettext("the job title is over 100 letters"))
    department, site = cell("department"), cell("site")
    if department is not None and len(department) > 100:
        bad("department", gettext("the department is over 100 letters"))
    if site is not None and len(site) > 100:
        bad("site", gettext("the site is over 100 letters"))
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
