"""The KPI data API: token auth, bulk rows through the same loader as files, errors naming the
row and field, all or nothing, idempotent, and an OpenAPI schema."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from rest_framework.authtoken.models import Token

from metrics.models import MetricLoad, MetricSource, Sample
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

URL = "/metrics/api/samples/"
ROWS = [
    {"employee_id": "E1001", "date": "2025-03-03", "kpi": "qa_score", "value": "85 %"},
    {"employee_id": "E1001", "date": "2025-03-03", "kpi": "aht", "value": "5:30", "weight": 40},
    {"employee_id": "E1001", "date": "2025-03-04", "kpi": "CSAT score", "value": 0.9},
]


@pytest.fixture
def integration(db):
    return make_user("acd-feed", "ACD", "Feed", "analyst")


@pytest.fixture
def token(integration) -> str:
    return Token.objects.create(user=integration).key


def post(client, body, key: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


def test_good_rows_load(client, token, integration):
    response = post(client, {"source": "ACD", "label": "nightly", "rows": ROWS}, token)
    assert response.status_code == 201, response.json()
    body = response.json()
    load = MetricLoad.objects.get()
    assert body == {
        "load": load.pk,
        "status": "loaded",
        "rows_total": 3,
        "rows_changed": 3,
        "errors": [],
        "error_count": 0,
    }
    assert (load.source.name, load.uploaded_by, load.filename) == ("ACD", integration, "nightly")
    values = {
        (s.kpi.code, s.date): (s.value, s.weight) for s in Sample.objects.select_related("kpi")
    }
    assert values == {
        ("qa_score", dt.date(2025, 3, 3)): (85, 1),
        ("aht", dt.date(2025, 3, 3)): (330, 40),
        ("csat", dt.date(2025, 3, 4)): (90, 1),
    }


def test_the_same_rows_twice_change_nothing(client, token):
    post(client, {"source": "ACD", "rows": ROWS}, token)
    response = post(client, {"source": "ACD", "rows": ROWS}, token)
    assert response.status_code == 201
    assert (response.json()["rows_total"], response.json()["rows_changed"]) == (3, 0)
    assert Sample.objects.count() == 3 and MetricSource.objects.count() == 1


def test_bad_rows_name_the_row_and_field_and_nothing_loads(client, token):
    rows = [
        *ROWS,
        {"employee_id": "E1001", "date": "2025-02-30", "kpi": "qa_score", "value": 80},
        {"employee_id": "E1001", "date": "2025-03-05", "kpi": "aht", "value": "-5"},
        {"employee_id": "E1001", "date": "2025-03-05", "kpi": "mood", "value": 1},
    ]
    response = post(client, {"source": "ACD", "rows": rows}, token)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "rejected" and body["error_count"] == 3
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (4, "date"),
        (5, "value"),
        (6, "kpi"),
    ]
    assert "bad date" in body["errors"][0]["reason"]
    assert "out of range" in body["errors"][1]["reason"]
    assert not Sample.objects.exists()
    assert MetricLoad.objects.get().status == "rejected"  # the attempt is on record


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rows": ROWS}, "source"),
        ({"source": "ACD"}, "rows"),
        ({"source": "ACD", "rows": []}, "rows"),
        ({"source": "ACD", "rows": "E1001,2025-03-03"}, "rows"),
        ({"source": "ACD", "rows": [ROWS[0], "not an object"]}, "rows"),
    ],
)
def test_a_malformed_batch_names_the_field(client, token, body, field):
    response = post(client, body, token)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and {e["field"] for e in errors} == {field}
    if body.get("rows") and isinstance(body["rows"], list) and len(body["rows"]) == 2:
        assert errors[0]["row"] == 2
    assert not MetricLoad.objects.exists() and not Sample.objects.exists()


def test_too_many_rows(client, token, settings):
    settings.METRICS_API_MAX_ROWS = 2
    response = post(client, {"source": "ACD", "rows": ROWS}, token)
    assert response.status_code == 400
    assert "At most 2 rows" in response.json()["errors"][0]["reason"]


def test_no_token_or_a_bad_one_is_refused(client, token):
    assert post(client, {"source": "ACD", "rows": ROWS}).status_code == 401
    assert post(client, {"source": "ACD", "rows": ROWS}, "not-a-token").status_code == 401
    assert not MetricLoad.objects.exists()


def test_a_session_is_not_enough(client, harper):
    client.force_login(harper)  # the API is for integrations, with a token
    assert post(client, {"source": "ACD", "rows": ROWS}).status_code == 401


def test_a_token_of_someone_who_may_not_load_is_forbidden(client, sam):
    key = Token.objects.create(user=sam).key
    response = post(client, {"source": "ACD", "rows": ROWS}, key)
    assert response.status_code == 403
    assert "may not load KPI data" in response.json()["detail"]
    assert not MetricLoad.objects.exists()


def test_wrong_method(client, token):
    response = client.get(URL, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 405


def test_openapi_schema(client):
    response = client.get("/metrics/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    operation = schema["paths"]["/metrics/api/samples/"]["post"]
    assert "201" in operation["responses"] and "400" in operation["responses"]
    assert list(schema["paths"]) == ["/metrics/api/samples/"]


# --- Request sizes: the row limit can be reached; more is a JSON error; gzip; nesting ---------


def many_rows(count: int) -> list[dict]:
    start = dt.date(2025, 1, 1)
    return [
        {
            "employee_id": f"E{n // 100:05d}",
            "date": (start + dt.timedelta(days=n % 100)).isoformat(),
            "kpi": "aht",
            "value": "5:30",
            "weight": 12,
        }
        for n in range(count)
    ]


def test_a_batch_at_the_row_limit_is_accepted(client, token, settings):
    """50,000 rows are about 5 MB of JSON: Django's 2.5 MB limit answered with an HTML page."""
    assert settings.METRICS_API_MAX_ROWS == 50_000
    body = json.dumps({"source": "ACD", "rows": many_rows(50_000)})
    assert len(body) > 2.5 * 1024 * 1024
    response = client.post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 201, response.content[:500]
    assert response.json()["rows_total"] == 50_000
    assert Sample.objects.count() == 50_000


def test_one_row_over_the_limit_is_a_json_error_naming_it(client, token):
    response = post(client, {"source": "ACD", "rows": many_rows(50_001)}, token)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"] == [
        {
            "row": None,
            "field": "rows",
            "reason": "At most 50,000 rows per request; send the rest in further batches.",
        }
    ]
    assert not MetricLoad.objects.exists()


def test_a_body_over_the_byte_limit_is_refused_before_it_is_read(client, token, settings):
    settings.METRICS_API_MAX_BYTES = 10_000
    response = post(client, {"source": "ACD", "rows": many_rows(200)}, token)
    assert response.status_code == 413
    [error] = response.json()["errors"]
    assert error["field"] == "body" and "larger than 10,000 bytes" in error["reason"]
    assert "METRICS_API_MAX_BYTES" in error["reason"]


def test_a_gzip_encoded_body_is_accepted_and_its_unpacked_size_capped(client, token, settings):
    import gzip

    body = gzip.compress(json.dumps({"source": "ACD", "rows": many_rows(2_000)}).encode())
    headers = {"HTTP_AUTHORIZATION": f"Token {token}", "HTTP_CONTENT_ENCODING": "gzip"}
    response = client.post(URL, body, content_type="application/json", **headers)
    assert response.status_code == 201, response.content[:500]
    assert Sample.objects.count() == 2_000

    settings.METRICS_API_MAX_BYTES = len(body) + 100  # the packed body fits, unpacked it does not
    response = client.post(URL, body, content_type="application/json", **headers)
    assert response.status_code == 413
    assert "unpacked request body is larger" in response.json()["errors"][0]["reason"]

    response = client.post(URL, b"not gzip", content_type="application/json", **headers)
    assert response.status_code == 400
    assert "not valid gzip" in response.json()["errors"][0]["reason"]


def test_deeply_nested_json_is_a_json_error(client, token):
    """It was a 500 (the parser's recursion error)."""
    nested = '{"source": "ACD", "rows": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post(
        URL, nested, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["reason"].startswith("the JSON is nested too deeply")

    row = {**ROWS[0], "value": json.loads("[" * 500 + "]" * 500)}
    response = post(client, {"source": "ACD", "rows": [row]}, token)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "row": None,
            "field": "rows",
            "reason": "row 1, value: a number or text, not a list or an object",
        }
    ]
    assert not MetricLoad.objects.exists()


def test_the_row_limit_is_written_with_the_readers_digit_grouping(settings):
    from django.utils import translation
    from rest_framework.exceptions import ValidationError

    from metrics.serializers import BatchSerializer

    settings.METRICS_API_MAX_ROWS = 1_000
    with translation.override("pt-br"), pytest.raises(ValidationError) as caught:
        BatchSerializer().validate_rows([{}] * 1_001)
    assert "1.000" in str(caught.value.detail[0])
    with pytest.raises(ValidationError) as caught:
        BatchSerializer().validate_rows([{}] * 1_001)
    assert "At most 1,000 rows" in str(caught.value.detail[0])
