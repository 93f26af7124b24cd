"""The KPI upload pages: upload → map the columns → preview with every error by line → load,
all or nothing; the recent loads; a large file loading in the background with its progress."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from metrics import uploads
from metrics.models import MetricLoad, MetricSource, Sample
from tests.conftest import make_user
from tests.metrics.conftest import LONG, WIDE, csv_bytes, upload_dir

pytestmark = pytest.mark.django_db

D = dt.date(2025, 3, 3)  # a Monday


@pytest.fixture
def quinn(db):
    """A QA analyst: loads KPI data, sees no plans."""
    return make_user("quinn", "Quinn", "Analyst", "analyst")


@pytest.fixture
def analyst_client(client, quinn):
    client.force_login(quinn)
    return client


def upload(client, data: bytes, name: str = "export.csv", **fields):
    if "source" not in fields and "new_source" not in fields:
        fields["new_source"] = "QA tool"
    return client.post(
        "/metrics/upload/", {**fields, "file": SimpleUploadedFile(name, data)}, follow=False
    )


def token_of(response) -> str:
    assert response.status_code == 302, getattr(response, "content", b"")[:2000]
    match = re.match(r"^/metrics/upload/([^/]+)/map/$", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def map_form(mapping: dict) -> dict:
    """The mapping form's fields for a mapping in ColumnMapping's JSON form."""
    data = {
        key: mapping.get(key, "")
        for key in ("layout", "employee_id", "date", "date_format", "weight", "kpi", "value")
    }
    for code, column in mapping.get("kpis", {}).items():
        data[f"kpi_{code}"] = column
    return data


def to_preview(client, data: bytes, mapping: dict, name: str = "export.csv", **fields):
    token = token_of(upload(client, data, name, **fields))
    response = client.post(f"/metrics/upload/{token}/map/", map_form(mapping))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == f"/metrics/upload/{token}/preview/"
    return token, client.get(response["Location"])


def stored() -> dict:
    return {
        (s.employee_id, s.kpi.code, s.date): (s.value, s.weight)
        for s in Sample.objects.select_related("kpi")
    }


WIDE_FILE = csv_bytes(
    "Agent ID,Day,QA %,AHT,CSAT",
    "E1001,2025-03-03,85,5:30,0.9",
    "E1001,2025-03-04,85 %,330,90 %",
    "E1002,2025-03-03,85.0,0:05:30,0.90",
)


# --- The happy path, every format -------------------------------------------------------------


def test_wide_csv_through_every_step(analyst_client, quinn):
    token, preview = to_preview(analyst_client, WIDE_FILE, WIDE)
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "No problems found: 9 values ready to load" in body
    assert "E1002" in body and "5:30" in body  # AHT shown as m:ss
    assert MetricLoad.objects.count() == 0 and not Sample.objects.exists()  # nothing yet
    source = MetricSource.objects.get(name="QA tool")
    assert source.mapping == WIDE  # saved at the mapping step, for the next file

    response = analyst_client.post(f"/metrics/upload/{token}/preview/")
    load = MetricLoad.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/metrics/loads/{load.pk}/"
    # The load is the record: who, when, which file, how many rows, from which source.
    assert (load.source, load.uploaded_by, load.filename, load.status) == (
        source,
        quinn,
        "export.csv",
        "loaded",
    )
    assert (load.rows_total, load.rows_loaded) == (9, 9)
    # 85, 85 % and 85.0 are the same, and 0.9, 90 % and 0.90 (a column of fractions); so are
    # 330, 5:30 and 0:05:30.
    values = stored()
    assert {v for (e, k, d), v in values.items() if k == "qa_score"} == {(85.0, 1.0)}
    assert {v for (e, k, d), v in values.items() if k == "aht"} == {(330.0, 1.0)}
    assert {v for (e, k, d), v in values.items() if k == "csat"} == {(90.0, 1.0)}
    page = analyst_client.get(response["Location"]).content.decode()
    assert "Loaded 9 values" in page
    assert not list(upload_dir().iterdir())  # the stored file is gone


def test_long_csv_with_names_weights_and_semicolons(analyst_client, kpis):
    data = csv_bytes(
        "Agent ID;Date;Metric;Value;Contacts",
        "E1001;2025-03-03;QA score;80;2",
        "E1001;2025-03-03;aht;6:00;40",
        "E1001;2025-03-04;qa_score;90 %;6",
    )
    token, preview = to_preview(analyst_client, data, LONG)
    assert "3 values ready to load" in preview.content.decode()
    analyst_client.post(f"/metrics/upload/{token}/preview/")
    assert stored() == {
        ("E1001", "qa_score", D): (80, 2),
        ("E1001", "aht", D): (360, 40),
        ("E1001", "qa_score", D + dt.timedelta(1)): (90, 6),
    }


def test_xlsx(analyst_client, xlsx):
    data = xlsx(
        ["Agent ID", "Day", "QA %", "AHT", "CSAT"],
        [10023, dt.date(2025, 3, 3), 0.85, dt.time(0, 5, 30), 90],
    )
    token, preview = to_preview(analyst_client, data, WIDE, name="qa.xlsx")
    assert "3 values ready to load" in preview.content.decode()
    analyst_client.post(f"/metrics/upload/{token}/preview/")
    assert stored() == {
        ("10023", "qa_score", D): (85, 1),
        ("10023", "aht", D): (330, 1),
        ("10023", "csat", D): (90, 1),
    }


def test_day_first_slash_dates_need_the_format(analyst_client):
    data = csv_bytes("Agent ID,Day,QA %", "E1001,04/03/2025,88")
    mapping = {**WIDE, "kpis": {"qa_score": "QA %"}}
    _, preview = to_preview(analyst_client, data, mapping)
    assert "line 2" in preview.content.decode() and "bad date" in preview.content.decode()
    source = MetricSource.objects.get().pk
    token, preview = to_preview(
        analyst_client, data, {**mapping, "date_format": "%d/%m/%Y"}, source=source
    )
    assert "1 value ready to load" in preview.content.decode()
    analyst_client.post(f"/metrics/upload/{token}/preview/")
    assert stored() == {("E1001", "qa_score", dt.date(2025, 3, 4)): (88, 1)}


def test_the_saved_mapping_is_reused(analyst_client, qa_tool):
    token = token_of(upload(analyst_client, WIDE_FILE, source=qa_tool.pk))
    page = analyst_client.get(f"/metrics/upload/{token}/map/")
    form = page.context["form"]
    assert form.initial["layout"] == "wide" and form.initial["kpi_aht"] == "AHT"
    assert "Its saved mapping is filled in" in page.content.decode()
    # Submitting it unchanged goes straight on to the preview.
    response = analyst_client.post(f"/metrics/upload/{token}/map/", map_form(WIDE))
    assert response.status_code == 302


# --- Validation, by line, and nothing loaded --------------------------------------------------

HEADER = "Agent ID,Date,Metric,Value,Contacts"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("bad id!,2025-03-03,qa_score,85,1", "bad employee id"),
        (",2025-03-03,qa_score,85,1", "missing employee id"),
        ("E1001,2025-13-45,qa_score,85,1", "bad date"),
        ("E1001,2025-03-03,happiness,85,1", "unknown KPI"),
        ("E1001,2025-03-03,qa_score,good,1", "is not a number"),
        ("E1001,2025-03-03,aht,5:75,1", "is not a number or a duration"),
        ("E1001,2025-03-03,qa_score,120,1", "out of range"),
        ("E1001,2025-03-03,qa_score,,1", "missing value"),
        ("E1001,2025-03-03,qa_score,85,-3", "is not a positive number"),
        ("E1001,2025-03-03,qa_score", "columns, but the mapping needs"),
        ("E1000,2025-03-03,csat,85,1", "duplicate of an earlier line"),
    ],
)
def test_each_rule_is_shown_with_its_line_and_nothing_loads(analyst_client, line, reason):
    data = csv_bytes(HEADER, "E1000,2025-03-03,csat,85,1", line, "E1002,2025-03-03,fcr,70,1")
    token, preview = to_preview(analyst_client, data, LONG)
    body = preview.content.decode()
    assert "nothing can be loaded from this file" in body
    errors = preview.context["preview"].errors
    assert [(e.line, reason in e.reason) for e in errors] == [(3, True)]
    assert "line 3" in body and reason in body
    assert "Load the file" not in body  # no way to load it

    # Even a forced POST loads nothing and records nothing.
    response = analyst_client.post(f"/metrics/upload/{token}/preview/")
    assert response.status_code == 200
    assert not Sample.objects.exists() and not MetricLoad.objects.exists()


def test_a_column_missing_from_the_header_is_reported(analyst_client):
    data = csv_bytes("Agent ID,Date,Metric,Amount", "E1001,2025-03-03,qa_score,85")
    token = token_of(upload(analyst_client, data))
    MetricSource.objects.filter(name="QA tool").update(mapping=LONG)
    # The saved mapping names a column the file lacks: the preview says which.
    session = analyst_client.session
    entry = session[uploads.SESSION_KEY][token]
    entry["mapping"] = LONG
    session.save()
    body = analyst_client.get(f"/metrics/upload/{token}/preview/").content.decode()
    assert "not in the header" in body and "Value" in body
    assert not Sample.objects.exists()


def test_the_same_file_twice_changes_nothing(analyst_client):
    token, _ = to_preview(analyst_client, WIDE_FILE, WIDE)
    analyst_client.post(f"/metrics/upload/{token}/preview/")
    before = stored()
    token, _ = to_preview(analyst_client, WIDE_FILE, WIDE, source=MetricSource.objects.get().pk)
    response = analyst_client.post(f"/metrics/upload/{token}/preview/")
    second = MetricLoad.objects.order_by("-id").first()
    assert (second.status, second.rows_total, second.rows_loaded) == ("loaded", 9, 0)
    assert stored() == before and Sample.objects.count() == 9
    page = analyst_client.get(response["Location"]).content.decode()
    assert "0 new or changed, 9 unchanged" in page


# --- Bad input on the forms -------------------------------------------------------------------


def test_upload_refuses_wrong_type_size_and_missing_source(analyst_client, settings):
    def errors(response) -> str:
        assert response.status_code == 200
        return " ".join(str(e) for e in response.context["form"].errors.values())

    assert "Only CSV" in errors(upload(analyst_client, b"%PDF-1.7 ...", "report.pdf"))
    assert "not a text CSV" in errors(upload(analyst_client, b"PK\x03\x04zip", "data.csv"))
    assert "not an Excel" in errors(upload(analyst_client, b"a,b\n1,2\n", "data.xlsx"))
    assert "Pick the source" in errors(
        analyst_client.post("/metrics/upload/", {"file": SimpleUploadedFile("a.csv", WIDE_FILE)})
    )
    settings.METRICS_UPLOAD_MAX_BYTES = 10
    assert "too large" in errors(upload(analyst_client, WIDE_FILE))
    assert not MetricSource.objects.exists()
    assert not upload_dir().exists() or not list(upload_dir().iterdir())


def test_mapping_errors_are_shown_and_nothing_is_saved(analyst_client, qa_tool):
    token = token_of(upload(analyst_client, WIDE_FILE, source=qa_tool.pk))
    url = f"/metrics/upload/{token}/map/"
    no_kpi = analyst_client.post(url, {"layout": "wide", "employee_id": "Agent ID", "date": "Day"})
    assert "at least one KPI column" in no_kpi.content.decode()
    twice = analyst_client.post(url, map_form({**WIDE, "kpis": {"qa_score": "Day"}}))
    assert "picked twice" in twice.content.decode()
    long_missing = analyst_client.post(
        url, {"layout": "long", "employee_id": "Agent ID", "date": "Day"}
    )
    assert "a long file needs it" in long_missing.content.decode()
    qa_tool.refresh_from_db()
    assert qa_tool.mapping == WIDE


def test_an_unreadable_file_goes_back_to_the_upload(analyst_client):
    token = token_of(upload(analyst_client, b"\n\n", "empty.csv"))
    response = analyst_client.get(f"/metrics/upload/{token}/map/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/metrics/upload/?source=")
    assert "cannot be read" in response.content.decode()


# --- Who may, and which method ----------------------------------------------------------------


def test_only_analysts_hr_and_admins_load(client, sam, alex, harper, admin_user, quinn):
    for url in ("/metrics/upload/", "/metrics/loads/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for user, code in (
        (sam, 403),
        (alex.user, 403),
        (quinn, 200),
        (harper, 200),
        (admin_user, 200),
    ):
        client.force_login(user)
        assert client.get("/metrics/upload/").status_code == code, user
        assert client.get("/metrics/loads/").status_code == code, user


def test_another_sessions_upload_is_not_found(analyst_client, harper):
    token = token_of(upload(analyst_client, WIDE_FILE))
    other = Client()
    other.force_login(harper)  # may load, but this upload is not theirs
    for step in ("map", "preview"):
        assert other.get(f"/metrics/upload/{token}/{step}/").status_code == 404
    assert other.get("/metrics/upload/not-a-token/map/").status_code == 404


def test_supervisor_cannot_reach_an_upload_or_a_load(analyst_client, sam):
    token, _ = to_preview(analyst_client, WIDE_FILE, WIDE)
    analyst_client.post(f"/metrics/upload/{token}/preview/")
    load = MetricLoad.objects.get()
    other = Client()
    other.force_login(sam)
    for url in (
        f"/metrics/upload/{token}/preview/",
        f"/metrics/loads/{load.pk}/",
        f"/metrics/loads/{load.pk}/status/",
    ):
        assert other.get(url).status_code == 403


def test_wrong_methods(analyst_client):
    assert analyst_client.put("/metrics/upload/").status_code == 405
    assert analyst_client.post("/metrics/loads/").status_code == 405
    load = MetricLoad.objects.create(source=MetricSource.objects.create(name="S"))
    assert analyst_client.post(f"/metrics/loads/{load.pk}/").status_code == 405
    assert analyst_client.post(f"/metrics/loads/{load.pk}/status/").status_code == 405
    assert analyst_client.get("/metrics/loads/999999/").status_code == 404


# --- Large files: in the background, with a progress bar ------------------------------------


def test_a_large_file_loads_in_the_background(
    analyst_client, settings, django_capture_on_commit_callbacks
):
    settings.METRICS_ASYNC_ROWS = 5  # anything above is "large"
    token, preview = to_preview(analyst_client, WIDE_FILE, WIDE)
    assert "loads in the background" in preview.content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = analyst_client.post(f"/metrics/upload/{token}/preview/")
    load = MetricLoad.objects.get()
    assert (load.status, load.rows_total) == ("pending", 9)
    page = analyst_client.get(response["Location"]).content.decode()
    assert f'data-status-url="/metrics/loads/{load.pk}/status/"' in page
    assert "js/upload.js" in page and "<progress" in page
    status = analyst_client.get(f"/metrics/loads/{load.pk}/status/").json()
    assert status == {
        "id": load.pk,
        "status": "pending",
        "status_label": "Pending",
        "rows_total": 9,
        "rows_loaded": 0,
        "percent": 0,
        "done": False,
    }
    assert len(callbacks) == 1
    callbacks[0]()  # the commit happens: the task is queued (and runs at once in tests)
    load.refresh_from_db()
    assert (load.status, load.rows_total, load.rows_loaded) == ("loaded", 9, 9)
    assert Sample.objects.count() == 9
    status = analyst_client.get(f"/metrics/loads/{load.pk}/status/").json()
    assert status["done"] and status["percent"] == 100
    assert not list(upload_dir().iterdir())


def test_the_background_task_runs_once(
    analyst_client, settings, django_capture_on_commit_callbacks
):
    settings.METRICS_ASYNC_ROWS = 5
    token, _ = to_preview(analyst_client, WIDE_FILE, WIDE)
    path = uploads.upload_of(analyst_client.session, token).path
    with django_capture_on_commit_callbacks(execute=False):
        analyst_client.post(f"/metrics/upload/{token}/preview/")
    load = MetricLoad.objects.get()
    assert uploads.load_stored(load.pk, path).status == "loaded"
    assert uploads.load_stored(load.pk, path) is None  # a second delivery does nothing
    assert MetricLoad.objects.count() == 1


def test_a_background_load_of_a_bad_file_is_rejected_whole(analyst_client, settings):
    source = MetricSource.objects.create(name="WFM", mapping=LONG)
    path = uploads.upload_storage().save(
        "uploads/bad.csv",
        ContentFile(csv_bytes(HEADER, "E1,2025-03-03,qa_score,85,1", "E1,2025-03-04,qa,85,1")),
    )
    load = MetricLoad.objects.create(source=source, filename="bad.csv", rows_total=2)
    uploads.load_stored(load.pk, path)
    load.refresh_from_db()
    assert load.status == "rejected" and load.errors[0]["line"] == 3
    assert not Sample.objects.exists()
    page = analyst_client.get(f"/metrics/loads/{load.pk}/").content.decode()
    assert "Rejected: nothing from this file was loaded" in page and "line 3" in page


# --- Queries do not grow with the data --------------------------------------------------------


def queries(client, method: str, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url)
    assert response.status_code in (200, 302)
    return len(ctx.captured_queries)


def wide_file(rows: int) -> bytes:
    lines = ["Agent ID,Day,QA %,AHT,CSAT"]
    for i in range(rows):
        day = D + dt.timedelta(days=i % 28)
        lines.append(f"E{i // 28:04d},{day.isoformat()},{80 + i % 20},5:{i % 60:02d},{70 + i % 30}")
    return csv_bytes(*lines)


def test_preview_and_map_queries_do_not_grow_with_the_file(analyst_client):
    counts = []
    for rows in (5, 500):
        token, _ = to_preview(analyst_client, wide_file(rows), WIDE, new_source=f"QA {rows}")
        counts.append(
            (
                queries(analyst_client, "get", f"/metrics/upload/{token}/map/"),
                queries(analyst_client, "get", f"/metrics/upload/{token}/preview/"),
                queries(analyst_client, "get", "/metrics/upload/"),
            )
        )
    assert counts[0] == counts[1]


def test_loads_list_queries_do_not_grow(analyst_client, quinn):
    source = MetricSource.objects.create(name="WFM", mapping=LONG)

    def add(n: int) -> None:
        for i in range(n):
            MetricLoad.objects.create(
                source=MetricSource.objects.create(name=f"S{MetricLoad.objects.count()}-{i}"),
                uploaded_by=quinn,
                filename=f"f{i}.csv",
            )

    MetricLoad.objects.create(source=source, uploaded_by=quinn, filename="a.csv")
    at_1 = queries(analyst_client, "get", "/metrics/loads/")
    add(30)
    at_31 = queries(analyst_client, "get", "/metrics/loads/")
    assert at_1 == at_31
    load = MetricLoad.objects.first()
    assert queries(analyst_client, "get", f"/metrics/loads/{load.pk}/") <= at_31
    body = analyst_client.get("/metrics/loads/").content.decode()
    assert "f29.csv" in body and "Quinn Analyst" in body


def test_an_oversized_upload_is_refused_before_its_body_is_read(analyst_client, settings):
    """A 250 MB upload was received in full before the size check."""
    settings.METRICS_UPLOAD_MAX_BYTES = 1024 * 1024

    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body was read")

        readline = read

    response = analyst_client.generic(
        "POST",
        "/metrics/upload/",
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(250 * 1024 * 1024),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    body = response.content.decode()
    assert "This upload is 250 MB; KPI files of at most 1 MB are accepted" in body
    assert not upload_dir().exists() or not list(upload_dir().iterdir())


def test_a_large_file_is_previewed_by_the_worker_not_the_request(
    analyst_client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """A 199 MB CSV timed the web worker out at preview (#20): above
    METRICS_PREVIEW_ASYNC_BYTES the page queues the preview and looks again."""
    from metrics import views

    settings.METRICS_PREVIEW_ASYNC_BYTES = 100
    assert len(WIDE_FILE) > 100
    token = token_of(upload(analyst_client, WIDE_FILE))
    analyst_client.post(f"/metrics/upload/{token}/map/", map_form(WIDE))

    def not_here(*args, **kwargs):
        raise AssertionError("the request parsed the file")

    monkeypatch.setattr(views, "preview_file", not_here)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        page = analyst_client.get(f"/metrics/upload/{token}/preview/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Checking every row of this" in body and 'http-equiv="refresh"' in body
    assert len(queued) == 1
    # Polling again before the worker is done queues nothing more.
    with django_capture_on_commit_callbacks(execute=False) as again:
        analyst_client.get(f"/metrics/upload/{token}/preview/")
    assert again == []
    queued[0]()  # the worker's turn (eager in tests)
    page = analyst_client.get(f"/metrics/upload/{token}/preview/").content.decode()
    assert "No problems found: 9 values ready to load" in page
    response = analyst_client.post(f"/metrics/upload/{token}/preview/")
    assert response.status_code == 302
    assert MetricLoad.objects.get().status == "loaded" and Sample.objects.count() == 9
