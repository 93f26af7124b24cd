"""Loading KPI data in a real browser: an analyst uploads a QA export, maps its columns, sees
the preview with an error on its line, uploads the corrected file, loads it; the supervisor
then sees the agent's chart move on the plan. Screenshots go to
test-artifacts/screenshots/<test>/."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from metrics.models import MetricLoad, MetricSource, Sample
from tests.browser import log_in
from tests.conftest import make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def qa_chart(page: Page):
    return page.locator('figure.kpi-chart[data-kpi="qa_score"] svg')


def test_upload_map_preview_fix_load_and_the_chart_moves(
    chrome, live_server, shots, tmp_path, alex, sam, harper, make_plan
):
    make_user("quinn", "Quinn", "Analyst", "analyst")
    pip = make_plan(alex, "active", hr=harper)
    today = timezone.localdate().isoformat()
    base = live_server.url

    # Sam looks at Alex's plan: no QA data yet.
    sam_page = chrome.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(sam_page, base, "sam")
    sam_page.goto(f"{base}/pips/{pip.pk}/")
    expect(sam_page.locator('.progress-table tr[data-kpi="qa_score"]')).to_contain_text(
        "No data yet"
    )
    expect(qa_chart(sam_page)).to_contain_text("No data yet")
    assert qa_chart(sam_page).locator("circle.point").count() == 0
    shots(sam_page, "plan-before")

    # The analyst uploads the QA export, which has a typo on its third line.
    bad = tmp_path / "qa-export.csv"
    bad.write_text(f"Agent,Day,QA,Handle time\nE1001,{today},91 %,4:40\nE1002,{today},870,5:10\n")
    page = chrome.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, base, "quinn")
    page.get_by_role("link", name="KPI data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Load KPI data")
    page.fill("#id_new_source", "QA evaluations")
    page.set_input_files("#id_file", str(bad))
    shots(page, "upload")
    page.get_by_role("button", name="Upload and map columns").click()

    # Map its columns: a wide file with a column per KPI.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Map the columns")
    page.get_by_label("Wide: one column per KPI").check()
    expect(page.locator("#layout-long")).to_be_hidden()  # only the chosen layout's fields
    page.select_option("#id_employee_id", "Agent")
    page.select_option("#id_date", "Day")
    page.select_option("#id_kpi_qa_score", "QA")
    page.select_option("#id_kpi_aht", "Handle time")
    shots(page, "map")
    page.get_by_role("button", name="Save the mapping and preview").click()

    # The preview names the problem and its line; nothing can be loaded.
    expect(page.locator(".preview-errors")).to_contain_text("line 3")
    expect(page.locator(".preview-errors")).to_contain_text("out of range")
    expect(page.get_by_role("button", name="Load the file")).to_have_count(0)
    expect(page.locator(".preview-rows")).to_contain_text("E1001")
    shots(page, "preview-with-error")
    assert not Sample.objects.exists()

    # The corrected file: the saved mapping is filled in, the preview is clean, it loads.
    good = tmp_path / "qa-export-fixed.csv"
    good.write_text(f"Agent,Day,QA,Handle time\nE1001,{today},91 %,4:40\nE1002,{today},87,5:10\n")
    page.get_by_role("link", name="Upload a corrected file").click()
    expect(page.locator("#id_source option:checked")).to_have_text("QA evaluations")
    page.set_input_files("#id_file", str(good))
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.locator("#id_kpi_qa_score")).to_have_value("QA")
    page.get_by_role("button", name="Save the mapping and preview").click()
    expect(page.get_by_role("status")).to_contain_text("4 values ready to load")
    shots(page, "preview-clean")
    page.get_by_role("button", name="Load the file").click()
    expect(page.locator(".alert-success").first).to_contain_text("loaded 4 values")
    shots(page, "loaded")
    load = MetricLoad.objects.get(status="loaded")
    assert load.source == MetricSource.objects.get(name="QA evaluations")
    assert load.uploaded_by.username == "quinn" and load.rows_total == 4
    page.get_by_role("link", name="Recent loads").click()
    expect(page.locator(".loads-table")).to_contain_text("qa-export-fixed.csv")
    shots(page, "loads")

    # Sam reloads the plan: the QA chart has its first point, and it meets the target.
    sam_page.reload()
    row = sam_page.locator('.progress-table tr[data-kpi="qa_score"]')
    expect(row).to_contain_text("91 %")
    expect(row).to_contain_text("On track")
    expect(qa_chart(sam_page).locator("circle.point")).to_have_count(1)
    aht = sam_page.locator('.progress-table tr[data-kpi="aht"]')
    expect(aht).to_contain_text("4:40")
    expect(aht).to_contain_text("On track")  # 4:40 is under the 5:00 target: lower is better
    sam_page.locator('figure.kpi-chart[data-kpi="qa_score"]').scroll_into_view_if_needed()
    shots(sam_page, "plan-after")
