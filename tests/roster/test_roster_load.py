"""Loading a roster: teams, people, accounts and roles created and updated; all or nothing,
every refusal by line; idempotent; recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from pips import roles
from pips.models import Agent, Team
from pips.roster.models import RosterImport
from tests.roster.conftest import MAPPING, csv_bytes, person, supervisor

pytestmark = pytest.mark.django_db

ROSTER = [
    supervisor("S100", "Sam Carter", manager=""),
    person("E1001", "Alex Rivera", language="es", hired="2023-01-09"),
    person("E1002", "Jordan Patel", language="pt_BR"),
    supervisor("S200", "Olivia Brooks", team="Retention"),
    person(
        "E2001", "Blake Moreau", team="Retention", manager="S200", site="Montreal", language="fr-CA"
    ),
    [
        "H1",
        "Harper Lee",
        "harper.lee@example.com",
        "People Team",
        "HQ",
        "",
        "hr",
        "2020-02-01",
        "en",
        "active",
    ],
]


def test_a_roster_creates_teams_people_accounts_and_roles(load, harper):
    record = load(ROSTER, harper)
    assert record.status == "loaded", record.errors
    assert (record.rows_total, record.created, record.updated, record.unchanged) == (6, 6, 0, 0)
    assert record.teams_created == 3
    assert set(Team.objects.values_list("name", flat=True)) == {
        "Billing",
        "Retention",
        "People Team",
    }
    alex = Agent.objects.select_related("user", "supervisor", "team").get(employee_id="E1001")
    assert (alex.full_name, alex.team.name, alex.site, alex.language) == (
        "Alex Rivera",
        "Billing",
        "Manila",
        "es",
    )
    assert alex.hired_on == dt.date(2023, 1, 9)
    assert alex.supervisor.username == "S100"
    assert alex.user.username == "E1001" and alex.user.email == "alex.e1001@example.com"
    assert (alex.user.first_name, alex.user.last_name) == ("Alex", "Rivera")
    assert not alex.user.has_usable_password()  # they join through an invitation or SSO
    assert Agent.objects.get(employee_id="E1002").language == "pt-br"
    assert Agent.objects.get(employee_id="E2001").language == "fr-ca"
    sam = User.objects.get(username="S100")
    assert roles.is_supervisor(sam)
    assert roles.is_hr(User.objects.get(username="H1"))
    assert not roles.is_supervisor(alex.user)


def test_the_same_file_twice_changes_nothing(load, harper):
    load(ROSTER, harper)
    before = list(Agent.objects.order_by("pk").values())
    users_before = list(User.objects.order_by("pk").values())
    again = load(ROSTER, harper)
    assert again.status == "loaded"
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert again.changes == []
    assert list(Agent.objects.order_by("pk").values()) == before
    assert list(User.objects.order_by("pk").values()) == users_before
    assert RosterImport.objects.count() == 2  # both loads are on record


def test_changes_are_applied_and_recorded(load, harper):
    load(ROSTER, harper)
    changed = [row[:] for row in ROSTER]
    changed[1][1] = "Alex Rivera-Santos"
    changed[1][3] = "Retention"
    changed[2][8] = "en"
    record = load(changed, harper)
    assert (record.created, record.updated, record.unchanged) == (0, 2, 4)
    alex = Agent.objects.select_related("team", "user").get(employee_id="E1001")
    assert alex.full_name == "Alex Rivera-Santos" and alex.team.name == "Retention"
    assert alex.user.last_name == "Rivera-Santos"
    entry = next(c for c in record.changes if c["employee_id"] == "E1001")
    assert entry["fields"]["full_name"] == ["Alex Rivera", "Alex Rivera-Santos"]
    assert entry["fields"]["team"] == ["Billing", "Retention"]


def test_one_bad_row_refuses_the_whole_file_by_line(load, harper):
    rows = [
        supervisor("S100", "Sam Carter"),
        person("E1001", "Alex Rivera"),
        person("E1002", "Jordan Patel", hired="03/05/2024"),
        person("E1003", "", manager="S100"),
        person("E1004", "Taylor Kim", status="on leave"),
        person("E1005", "Morgan Lee", manager="S999"),
        person("E1001", "Alex Again", email="again@example.com"),
        person("E1006", "Casey Wu", role="team lead"),
        person("E1007", "Riley Ng", language="Spanish"),
        person("E1008", "Jamie Fox", email="not-an-email"),
        person("E1009", "Avery Cole", manager="E1001"),
    ]
    record = load(rows, harper)
    assert record.status == "rejected"
    assert Agent.objects.count() == 0 and Team.objects.count() == 0
    assert not User.objects.filter(username__in=["S100", "E1001"]).exists()
    by_line = {(e["line"], e["column"]): e["reason"] for e in record.errors}
    assert "day and month could be read either way" in by_line[(4, "Hire Date")]
    assert by_line[(5, "Legal Name")] == "the name is empty"
    assert "status 'on leave' is not known" in by_line[(6, "Status")]
    assert "S999 is neither in this file nor on the roster" in by_line[(7, "Manager ID")]
    assert by_line[(8, "Employee ID")] == "employee ID E1001 is also on line 3"
    assert "role 'team lead' is not known" in by_line[(9, "Role")]
    assert "not a language code" in by_line[(10, "Language")]
    assert "not an e-mail address" in by_line[(11, "Work Email")]
    assert "E1001 is not an active supervisor" in by_line[(12, "Manager ID")]
    assert record.error_count == 9
    assert record.rows_total == 11


def test_mapped_texts_are_understood(load, harper):
    mapping = {**MAPPING, "date_format": "%m/%d/%Y"}
    mapping["status_values"] = {"On Leave": "active", "Resigned": "terminated"}
    mapping["role_values"] = {"Team Lead": "supervisor"}
    rows = [
        person("S100", "Sam Carter", manager="", role="Team Lead", hired="12/01/2020"),
        person("E1001", "Alex Rivera", status="on leave", hired="03/05/2024"),
    ]
    record = load(rows, harper, mapping=mapping)
    assert record.status == "loaded", record.errors
    assert Agent.objects.get(employee_id="E1001").hired_on == dt.date(2024, 3, 5)
    assert roles.is_supervisor(User.objects.get(username="S100"))


def test_an_unreadable_file_is_refused_and_recorded(load, harper):
    record = load([], harper, data=b"\x00\x01PK\x03\x04garbage", filename="roster.xlsx")
    assert record.status == "rejected"
    assert "spreadsheet cannot be read" in record.errors[0]["reason"]


def test_xlsx_and_semicolons_and_windows_encoding(load, harper, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        [
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
    )
    sheet.append(
        [
            100,
            "Zoë Ñúñez",
            "zoe@example.com",
            "Billing",
            "Madrid",
            None,
            "supervisor",
            dt.datetime(2021, 4, 1),  # noqa: DTZ001 - Excel cells carry no zone
            "es",
            "active",
        ]
    )
    path = tmp_path / "roster.xlsx"
    book.save(path)
    record = load([], harper, data=path.read_bytes(), filename="roster.xlsx")
    assert record.status == "loaded", record.errors
    zoe = Agent.objects.get(employee_id="100")
    assert zoe.full_name == "Zoë Ñúñez" and zoe.hired_on == dt.date(2021, 4, 1)
    data = (
        csv_bytes(
            [person("E5", "René Côté", manager="100", email="rene@example.com")], delimiter=";"
        )
        .decode()
        .encode("cp1252")
    )
    record = load([], harper, data=data)
    assert record.status == "loaded", record.errors
    assert Agent.objects.get(employee_id="E5").full_name == "René Côté"


def test_an_existing_account_with_the_same_email_is_linked(load, harper):
    sam = User.objects.create_user("supervisor", "sam.s100@example.com", "x" * 16)
    record = load([supervisor("S100", "Sam Carter")], harper)
    assert record.status == "loaded", record.errors
    assert Agent.objects.get(employee_id="S100").user == sam
    assert User.objects.get(pk=sam.pk).has_usable_password()


def test_an_email_held_by_someone_else_is_refused(load, harper, alex):
    rows = [
        supervisor("S100", "Sam Carter", manager=""),
        person("E9", "Pat Doe", email="ALEX@example.com"),
    ]
    record = load(rows, harper)
    assert record.status == "rejected"
    assert "already belongs to another account (alex)" in record.errors[0]["reason"]


def test_only_hr_and_admins_load(load, sam):
    with pytest.raises(PermissionDenied):
        load(ROSTER, sam)
    assert RosterImport.objects.count() == 0


def test_a_supervisor_still_leading_people_cannot_be_demoted(load, harper):
    load(ROSTER, harper)
    rows = [person("S100", "Sam Carter", manager="", role="agent")]
    record = load(rows, harper)
    assert record.status == "rejected"
    assert "still leads 2 people not in this file" in record.errors[0]["reason"]
