"""The roster API (token, JSON rows, dry run) and `manage.py import_roster`: the same load."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from pips.models import Agent
from pips.roster.models import RosterImport
from tests.roster.conftest import MAPPING, csv_bytes, person, supervisor

pytestmark = pytest.mark.django_db

PEOPLE = [
    {
        "employee_id": "S100",
        "full_name": "Sam Carter",
        "team": "Billing",
        "role": "supervisor",
        "email": "sam.c@example.com",
        "status": "active",
    },
    {
        "employee_id": "E1001",
        "full_name": "Alex Rivera",
        "team": "Billing",
        "supervisor_id": "S100",
        "email": "alex.r@example.com",
        "hire_date": "2024-03-05",
        "language": "es",
        "status": "active",
    },
]


def post(client, token, body):
    return client.post(
        "/people/api/roster/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )


@pytest.fixture
def hr_token(harper):
    return Token.objects.create(user=harper)


def test_the_api_loads_and_is_idempotent(client, hr_token):
    response = post(client, hr_token, {"source": "BambooHR", "rows": PEOPLE})
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 2
    alex = Agent.objects.get(employee_id="E1001")
    assert alex.language == "es" and alex.supervisor.username == "S100"
    again = post(client, hr_token, {"source": "BambooHR", "rows": PEOPLE})
    assert again.status_code == 201 and again.json()["unchanged"] == 2
    assert RosterImport.objects.filter(origin="api").count() == 2


def test_the_api_dry_run_writes_nothing(client, hr_token):
    response = post(client, hr_token, {"source": "BambooHR", "rows": PEOPLE, "dry_run": True})
    assert response.status_code == 200
    assert response.json()["summary"]["new"] == 2
    assert Agent.objects.count() == 0 and RosterImport.objects.count() == 0


def test_the_api_names_the_row_and_field_of_every_error(client, hr_token):
    rows = [PEOPLE[0], {**PEOPLE[1], "hire_date": "03/05/2024", "status": "gone"}]
    response = post(client, hr_token, {"source": "BambooHR", "rows": rows})
    assert response.status_code == 400
    errors = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert errors == {(2, "hire_date"), (2, "status")}
    assert Agent.objects.count() == 0
    assert (
        post(client, hr_token, {"source": "", "rows": PEOPLE}).json()["errors"][0]["field"]
        == "source"
    )
    bad = post(client, hr_token, {"source": "X", "rows": [{"employee_id": "E1", "shoe_size": 9}]})
    assert (
        bad.status_code == 400 and "unknown fields: shoe_size" in bad.json()["errors"][0]["reason"]
    )
    assert post(client, hr_token, {"source": "X", "rows": ["E1"]}).status_code == 400
    assert (
        post(client, hr_token, {"source": "X", "rows": PEOPLE, "dry_run": "yes"}).status_code == 400
    )


def test_the_api_needs_an_hr_token(client, sam):
    token = Token.objects.create(user=sam)
    assert post(client, token, {"source": "X", "rows": PEOPLE}).status_code == 403
    assert client.post("/people/api/roster/", {}).status_code == 401


def test_the_command_loads_a_file_with_the_saved_mapping(tmp_path, harper, source, capsys):
    path = tmp_path / "workday.csv"
    path.write_bytes(csv_bytes([supervisor("S100", "Sam Carter"), person("E1001", "Alex Rivera")]))
    call_command("import_roster", str(path), "--source", "Workday", "--user", "harper")
    out = capsys.readouterr().out
    assert out.startswith("loaded: 2 rows, 2 new")
    assert RosterImport.objects.get().origin == "command"


def test_the_command_dry_run_and_refusals(tmp_path, harper, source, capsys):
    path = tmp_path / "workday.csv"
    path.write_bytes(csv_bytes([person("E1001", "Alex Rivera", manager="S9")]))
    with pytest.raises(SystemExit) as exit_:
        call_command(
            "import_roster", str(path), "--source", "Workday", "--user", "harper", "--dry-run"
        )
    assert exit_.value.code == 1
    assert "line 2, Manager ID: supervisor S9" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        call_command("import_roster", str(path), "--source", "Workday", "--user", "harper")
    assert RosterImport.objects.get().status == "rejected"


def test_the_command_needs_an_hr_user_and_a_mapping(tmp_path, sam, harper):
    from django.core.management.base import CommandError

    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes([]))
    with pytest.raises(CommandError, match="not an HR"):
        call_command("import_roster", str(path), "--source", "Workday", "--user", "sam")
    with pytest.raises(CommandError, match="No mapping saved for ADP"):
        call_command("import_roster", str(path), "--source", "ADP", "--user", "harper")
    call_command(
        "import_roster",
        str(path),
        "--source",
        "ADP",
        "--user",
        "harper",
        "--mapping",
        json.dumps(MAPPING),
        "--dry-run",
    )


def test_the_api_leaves_the_sources_file_mapping_alone(client, hr_token, source):
    post(client, hr_token, {"source": "Workday", "rows": PEOPLE})
    source.refresh_from_db()
    assert source.mapping == MAPPING


def test_files_dropped_in_a_folder_are_loaded_in_order_and_moved(
    tmp_path, harper, source, settings
):
    from pips.roster.tasks import sync_drop_folder

    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "2026-11-28.csv").write_bytes(csv_bytes([supervisor("S100", "Sam Carter")]))
    (folder / "2026-11-29.csv").write_bytes(
        csv_bytes([supervisor("S100", "Sam Carter"), person("E1001", "Alex Rivera")])
    )
    (folder / "bad.csv").write_bytes(csv_bytes([person("E1002", "Jo Bad", manager="S9")]))
    (folder / "notes.pdf").write_bytes(b"%PDF")
    settings.ROSTER_DROP_FOLDER = str(folder)
    settings.ROSTER_DROP_SOURCE = "Workday"
    settings.ROSTER_DROP_USER = "harper"
    report = sync_drop_folder()
    assert report == {"loaded": ["2026-11-28.csv", "2026-11-29.csv"], "refused": ["bad.csv"]}
    assert sorted(p.name for p in (folder / "loaded").iterdir()) == [
        "2026-11-28.csv",
        "2026-11-29.csv",
    ]
    assert [p.name for p in (folder / "refused").iterdir()] == ["bad.csv"]
    assert (folder / "notes.pdf").exists()
    assert Agent.objects.filter(employee_id="E1001").exists()
    assert sync_drop_folder() == {"loaded": [], "refused": []}


def test_the_folder_command(tmp_path, harper, source, capsys):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.csv").write_bytes(csv_bytes([supervisor("S100", "Sam Carter")]))
    call_command(
        "import_roster", "--folder", str(folder), "--source", "Workday", "--user", "harper"
    )
    assert capsys.readouterr().out.strip() == "1 loaded, 0 refused"
