"""Roster files as HR systems export them, built in the tests."""

from __future__ import annotations

import csv
import io

import pytest

from pips.roster.models import RosterSource
from pips.roster.parsing import RosterMapping
from pips.services.roster import RosterFile, roster_load_file

# A Workday-style export's header and its mapping.
HEADER = [
    "Employee ID",
    "Legal Name",
    "Work Email",
    "Team",
    "Location",
    "Manager ID",
    "Role",
    "Hire Date",
    "Language",
    "Status",
]
MAPPING = {
    "employee_id": "Employee ID",
    "full_name": "Legal Name",
    "email": "Work Email",
    "team": "Team",
    "site": "Location",
    "supervisor_id": "Manager ID",
    "role": "Role",
    "hire_date": "Hire Date",
    "language": "Language",
    "status": "Status",
}


def person(
    eid: str,
    name: str,
    team: str = "Billing",
    manager: str = "S100",
    role: str = "agent",
    status: str = "active",
    email: str | None = None,
    site: str = "Manila",
    hired: str = "2024-03-05",
    language: str = "en",
) -> list[str]:
    if email is None:
        email = f"{(name.split() or ['x'])[0].lower()}.{eid.lower()}@example.com"
    return [eid, name, email, team, site, manager, role, hired, language, status]


def supervisor(eid: str, name: str, team: str = "Billing", manager: str = "") -> list[str]:
    return person(eid, name, team=team, manager=manager, role="supervisor")


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


@pytest.fixture
def source(db) -> RosterSource:
    return RosterSource.objects.create(name="Workday", mapping=MAPPING)


@pytest.fixture
def load(source):
    """Load rows as the command does; returns the RosterImport."""

    def run(rows, actor, *, mapping=MAPPING, filename="roster.csv", data: bytes | None = None):
        file = RosterFile(data=data if data is not None else csv_bytes(rows), filename=filename)
        return roster_load_file(
            actor=actor,
            source=source,
            file=file,
            mapping=RosterMapping.parse(mapping),
            origin="command",
        )

    return run
