"""The mapping page with real exports: the header found below title lines (or chosen), the
sheet chosen when a workbook has several, and a column suggested for each field from the
header and the first values, for the analyst to confirm."""

from __future__ import annotations

import datetime as dt

import pytest

from metrics.models import MetricSource
from tests.conftest import make_user
from tests.metrics import exports
from tests.metrics.test_views_upload import token_of, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst_client(client):
    client.force_login(make_user("quinn", "Quinn", "Analyst", "analyst"))
    return client


def initial(response) -> dict:
    form = response.context["form"]
    return {name: form[name].value() for name in form.fields if form[name].value()}


def test_a_nice_export_gets_its_header_line_and_suggested_columns(analyst_client):
    token = token_of(upload(analyst_client, exports.nice_csv(), "nice.csv"))
    page = analyst_client.get(f"/metrics/upload/{token}/map/")
    assert page.status_code == 200
    assert page.context["header"].header_row == 4  # below two titles and a blank line
    assert "suggested" in page.content.decode()
    assert initial(page) == {
        "layout": "wide",
        "header_row": 4,
        "employee_id": "Agent ID",
        "date": "Date",
        "decimal": ".",
        "kpi_adherence": "Adherence %",
        "kpi_aht": "AHT",
        "kpi_csat": "CSAT %",
        "weight_aht": "Calls Handled",
        "weight_csat": "Surveys",
    }


def test_vendor_spellings_are_suggested(analyst_client):
    data = (
        b"Employee Number;Report Date;Avg Handle Time;Quality;Schedule Adherence;Surveys Returned;"
        b"CSAT\n"
        b"10023;2026-11-02;5:30;87,5;93,1 %;4;81\n"
    )
    token = token_of(upload(analyst_client, data, "genesys.csv"))
    values = initial(analyst_client.get(f"/metrics/upload/{token}/map/"))
    assert values["employee_id"] == "Employee Number" and values["date"] == "Report Date"
    assert values["kpi_aht"] == "Avg Handle Time"
    assert values["kpi_qa_score"] == "Quality"
    assert values["kpi_adherence"] == "Schedule Adherence"
    assert values["kpi_csat"] == "CSAT" and values["weight_csat"] == "Surveys Returned"
    assert values["decimal"] == ","  # 87,5 and 93,1 % in the first rows


def test_another_header_line_can_be_chosen(analyst_client):
    token = token_of(upload(analyst_client, exports.nice_csv(), "nice.csv"))
    page = analyst_client.get(f"/metrics/upload/{token}/map/?header_row=2")
    assert page.context["header"].header_row == 2
    assert [name for name, _ in page.context["columns"]][0].startswith("Report period")


def test_a_long_export_is_suggested_as_long(analyst_client):
    data = b"Agent ID,Date,Metric,Value\nA1,2026-11-02,AHT,5:30\n"
    token = token_of(upload(analyst_client, data, "long.csv"))
    values = initial(analyst_client.get(f"/metrics/upload/{token}/map/"))
    assert (values["layout"], values["kpi"], values["value"]) == ("long", "Metric", "Value")


def test_a_saved_mapping_that_fits_is_used_instead_of_suggestions(analyst_client):
    source = MetricSource.objects.create(name="NICE", mapping=exports.MAPPING)
    token = token_of(upload(analyst_client, exports.nice_csv(), "nice.csv", source=source.pk))
    page = analyst_client.get(f"/metrics/upload/{token}/map/")
    assert "Its saved mapping is filled in" in page.content.decode()
    assert page.context["header"].header_row == 4  # found by the saved columns


def test_a_workbook_of_several_sheets_asks_for_the_sheet(analyst_client):
    day = dt.datetime(2026, 11, 2)  # noqa: DTZ001
    data = exports.workbook(
        {
            "Summary": [["Week", "Team QA"], [45, 0.88]],
            "Daily": [
                ["QA export"],
                ["Agent ID", "Date", "QA Score", "Evaluations"],
                ["A1", day, 0.9, 3],
            ],
        }
    )
    token = token_of(upload(analyst_client, data, "qa.xlsx"))
    page = analyst_client.get(f"/metrics/upload/{token}/map/")
    body = page.content.decode()
    assert "Which sheet holds the data?" in body and "form" not in page.context
    assert '<option value="Daily">Daily</option>' in body

    page = analyst_client.get(f"/metrics/upload/{token}/map/?sheet=Daily")
    assert page.context["header"].header_row == 2
    values = initial(page)
    assert values["sheet"] == "Daily"
    assert values["kpi_qa_score"] == "QA Score" and values["weight_qa_score"] == "Evaluations"
    # Confirmed as suggested: the preview reads that sheet and names the other.
    form = {k: v for k, v in values.items()}
    response = analyst_client.post(f"/metrics/upload/{token}/map/", form)
    assert response.status_code == 302, response.context["form"].errors
    preview = analyst_client.get(response["Location"]).content.decode()
    assert "No problems found: 1 value ready to load" in preview
    assert "sheet &#x27;Daily&#x27; read; not read: &#x27;Summary&#x27;" in preview
