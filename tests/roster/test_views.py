"""The roster pages: upload, map (saved per source), preview with every row accounted for,
load, the record; and the list of who has not joined, to invite them."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pips.models import Agent
from pips.roster.models import RosterImport, RosterSource
from pipsystem.identity.models import Invitation
from tests.roster.conftest import MAPPING, csv_bytes, person, supervisor

pytestmark = pytest.mark.django_db

ROWS = [
    supervisor("S100", "Sam Carter"),
    person("E1001", "Alex Rivera"),
    person("E1002", "Jordan Patel"),
]


def upload(client, rows, *, source="", new_source="Workday", name="roster.csv", data=None):
    file = SimpleUploadedFile(name, data if data is not None else csv_bytes(rows), "text/csv")
    return client.post(
        "/people/", {"source": source, "new_source": new_source if not source else "", "file": file}
    )


def test_upload_map_preview_load(client, harper):
    client.force_login(harper)
    response = upload(client, ROWS)
    assert response.status_code == 302
    map_url = response["Location"]
    token = re.search(r"/people/upload/([^/]+)/map/", map_url).group(1)
    page = client.get(map_url)
    assert page.status_code == 200
    # The header's names propose the columns.
    assert 'value="Employee ID" selected' in page.content.decode()
    form = {**MAPPING, "date_format": "", "status_values": "", "role_values": ""}
    response = client.post(map_url, form)
    assert response["Location"] == f"/people/upload/{token}/preview/"
    preview = client.get(response["Location"])
    text = preview.content.decode()
    assert preview.status_code == 200
    assert "Load the roster" in text and "Alex Rivera (E1001)" in text
    assert Agent.objects.count() == 0  # a preview writes nothing
    # The mapping is remembered for the source once the roster loads.
    response = client.post(f"/people/upload/{token}/preview/")
    record = RosterImport.objects.get()
    assert response["Location"] == f"/people/imports/{record.pk}/"
    assert record.status == "loaded" and record.created == 3 and record.origin == "page"
    assert RosterSource.objects.get(name="Workday").mapping == MAPPING
    detail = client.get(response["Location"]).content.decode()
    assert "Alex Rivera (E1001)" in detail
    # Next time the saved mapping is proposed.
    response = upload(client, ROWS, source=RosterSource.objects.get().pk)
    page = client.get(response["Location"]).content.decode()
    assert 'value="Legal Name" selected' in page


def test_refused_rows_are_listed_by_line_and_nothing_loads(client, harper, source):
    client.force_login(harper)
    rows = ROWS + [person("E1003", "Taylor Kim", hired="31/12/2024")]
    response = upload(client, rows, source=source.pk)
    token = re.search(r"/people/upload/([^/]+)/map/", response["Location"]).group(1)
    client.post(response["Location"], {**MAPPING})
    text = client.get(f"/people/upload/{token}/preview/").content.decode()
    assert "1 row refused" in text
    assert re.search(r"<td>5</td><td>Hire Date</td>", text)
    assert "Load the roster" not in text
    client.post(f"/people/upload/{token}/preview/")
    assert RosterImport.objects.get().status == "rejected"
    assert Agent.objects.count() == 0


def test_a_mapping_that_cannot_work_is_refused_at_its_field(client, harper):
    client.force_login(harper)
    response = upload(client, ROWS)
    bad = {**MAPPING, "team": "", "full_name": ""}
    page = client.post(response["Location"], bad)
    assert page.status_code == 200
    assert "This field is required." in page.content.decode()
    twice = {**MAPPING, "site": "Team"}
    page = client.post(response["Location"], twice)
    assert "already used for" in page.content.decode()
    bad_values = {**MAPPING, "status_values": "On leave = maybe"}
    page = client.post(response["Location"], bad_values)
    assert "Line 1: write FILE TEXT = active / terminated" in page.content.decode()


def test_the_upload_refuses_other_files(client, harper):
    client.force_login(harper)
    page = upload(client, [], name="roster.pdf", data=b"%PDF-1.7")
    assert "Upload a .csv or .xlsx file." in page.content.decode()
    page = upload(client, ROWS, new_source="")
    assert "Choose a source or name a new one." in page.content.decode()


def test_uploads_belong_to_the_session(client, harper, admin_user):
    client.force_login(harper)
    response = upload(client, ROWS)
    other = type(client)()
    other.force_login(admin_user)
    assert other.get(response["Location"]).status_code == 404


def test_only_hr_and_admins(client, sam, alex):
    for user in (sam, alex.user):
        client.force_login(user)
        assert client.get("/people/").status_code == 403
    client.logout()
    assert client.get("/people/")["Location"].startswith("/accounts/login/")


def test_the_loads_page_takes_a_constant_number_of_queries(client, harper, source):
    client.force_login(harper)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/people/").status_code == 200
        return len(queries)

    RosterImport.objects.create(source=source, status="loaded", origin="api", created_by=harper)
    small = count()
    for _ in range(30):
        RosterImport.objects.create(source=source, status="loaded", origin="api", created_by=harper)
    assert count() == small


# --- Invitations ------------------------------------------------------------------------------


@pytest.fixture
def imported(load, harper):
    rows = ROWS + [
        person("E1003", "Taylor Kim", team="Retention"),
        person("E1004", "No Mail", email=""),
    ]
    assert load(rows, harper).status == "loaded"
    return {a.employee_id: a for a in Agent.objects.select_related("user")}


def test_the_list_shows_who_has_not_joined(
    client, harper, imported, django_capture_on_commit_callbacks
):
    client.force_login(harper)
    page = client.get("/people/invitations/").content.decode()
    for name in ("Alex Rivera", "Jordan Patel", "Taylor Kim", "Sam Carter", "No Mail"):
        assert name in page
    user = imported["E1001"].user
    user.set_password("a-long-password-123")
    user.save()
    page = client.get("/people/invitations/").content.decode()
    assert "Alex Rivera" not in page


def test_invite_chosen_people_a_team_or_everyone(
    client, harper, imported, django_capture_on_commit_callbacks
):
    client.force_login(harper)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/people/invitations/", {"scope": "people", "agents": [imported["E1002"].pk]})
    assert [m.to for m in mail.outbox] == [["jordan.e1002@example.com"]]
    retention = imported["E1003"].team
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/people/invitations/", {"scope": "team", "team": retention.pk})
    assert mail.outbox[-1].to == ["taylor.e1003@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/people/invitations/", {"scope": "all"})
    assert response.status_code == 302
    # Everyone not joined with an address: the earlier links are replaced.
    assert Invitation.objects.pending().count() == 4
    page = client.get("/people/invitations/").content.decode()
    assert "no e-mail: cannot be invited" in page and "works until" in page


def test_a_supervisor_invites_only_their_own_people(
    client, imported, django_capture_on_commit_callbacks, olivia
):
    sam = User.objects.get(username="S100")
    client.force_login(sam)
    page = client.get("/people/invitations/").content.decode()
    assert ">Alex Rivera</label>" in page and ">Sam Carter</label>" not in page
    client.force_login(olivia)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/people/invitations/", {"scope": "people", "agents": [imported["E1001"].pk]})
    assert mail.outbox == []
    assert Invitation.objects.count() == 0


def test_agents_may_not_invite(client, alex):
    client.force_login(alex.user)
    assert client.get("/people/invitations/").status_code == 403


def test_the_invitation_list_takes_a_constant_number_of_queries(client, harper, load):
    client.force_login(harper)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/people/invitations/").status_code == 200
        return len(queries)

    load([supervisor("S1", "Lead One"), person("E1", "Pat One", manager="S1")], harper)
    small = count()
    load(
        [supervisor("S1", "Lead One")]
        + [person(f"E{n}", f"Pat N{n}", manager="S1") for n in range(60)],
        harper,
    )
    assert count() == small
