"""Files shaped like real vendor exports: each is loaded whole as meant, or refused with the
line and how to fix the export. Never guessed. And the preview's account of the rows adds up:
read = to be loaded + refused + skipped (by a named rule)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.utils import translation

from metrics.loading import load_file, preview_file
from metrics.models import Kpi, MetricSource, Sample
from tests.metrics import exports
from tests.metrics.exports import MAPPING, START

pytestmark = pytest.mark.django_db


@pytest.fixture
def wfm(db) -> MetricSource:
    return MetricSource.objects.create(name="NICE WFM", mapping=MAPPING)


def stored() -> dict:
    return {
        (s.employee_id, s.kpi.code, s.date): (s.value, s.weight)
        for s in Sample.objects.select_related("kpi")
    }


def reasons(result) -> list[tuple[int, str]]:
    return [(e.line, e.reason) for e in result.errors]


def adds_up(preview) -> None:
    account = preview.account
    assert account.rows_read == (
        account.rows_loaded + account.rows_refused + account.rows_skipped
    ), account
    assert account.adds_up


# --- Title lines, totals rows, byte-order marks -----------------------------------------------


def test_a_nice_export_with_titles_and_a_totals_row(wfm):
    data = exports.nice_csv(agents=5, days=3)
    preview = preview_file(data, mapping=MAPPING, filename="nice.csv")
    assert preview.ok, preview.errors
    account = preview.account
    assert account.header_line == 4  # two titles and a blank line above it
    assert account.rows_read == 16  # 15 agent-days and the totals row
    assert account.rows_loaded == 15
    assert account.skipped == {
        "totals or summary row (its employee cell says Total, Summary, Average…)": 1
    }
    assert any("3 lines above the header skipped" in note for note in account.notes)
    assert any("UTF-8 with a byte-order mark" in note for note in account.notes)
    adds_up(preview)
    assert preview.rows_total == 45  # 3 KPIs a row

    result = load_file(data, source=wfm, filename="nice.csv")
    assert result.ok, result.errors
    values = stored()
    assert len(values) == 45
    assert not any(emp == "Total" for emp, _, _ in values)
    # Each KPI weighted by its own count: AHT by calls handled, CSAT by surveys.
    assert values[("A0001", "aht", START)] == (5 * 60 + 7, 21)
    assert values[("A0001", "csat", START)] == (81, 4)
    assert values[("A0001", "adherence", START)] == (91.5, 1)
    assert result.load.account == account.as_dict()  # on record with the load


def test_excel_unicode_text_utf16_tab_separated(wfm):
    rows = [["Calabrio ONE export"], exports.HEADER, *exports.wfm_rows(2, 2)]
    rows[2][1] = "Siobhán Ó Briain"
    data = exports.unicode_text(rows)
    assert data[:2] == b"\xff\xfe"
    preview = preview_file(data, mapping=MAPPING, filename="calabrio.txt")
    assert preview.ok, preview.errors
    assert preview.account.header_line == 2 and preview.account.rows_loaded == 4
    assert any("tab-separated, UTF-16" in note for note in preview.account.notes)
    adds_up(preview)
    assert load_file(data, source=wfm, filename="calabrio.txt").ok
    assert len(stored()) == 12


def test_windows_1252_with_the_first_accent_after_64_kb(wfm):
    """It was refused as "mixing encodings": the encoding was judged from the first 64 KB."""
    data, accent_line = exports.cp1252_csv_with_late_accent()
    preview = preview_file(data, mapping=MAPPING, filename="verint.csv")
    assert preview.ok, preview.errors
    assert any(
        f"Windows-1252 (ASCII up to line {accent_line})" in note for note in preview.account.notes
    )
    adds_up(preview)
    result = load_file(data, source=wfm, filename="verint.csv")
    assert result.ok
    assert stored()[("A9999", "aht", START)] == (310, 12)


# --- Decimal commas ---------------------------------------------------------------------------


def test_decimal_commas_are_named_and_read_when_the_mapping_says_so(wfm):
    data = exports.european_csv()
    mapping = {**MAPPING, "date_format": "%d.%m.%Y"}
    preview = preview_file(data, mapping=mapping, filename="eu.csv")
    assert not preview.ok
    first = preview.errors[0]
    assert (first.line, first.column) == (2, "Adherence %")
    assert "decimal comma" in first.reason and "'Decimal comma (87,1)'" in first.reason
    assert preview.account.rows_refused == 3 and preview.account.rows_loaded == 0
    adds_up(preview)

    result = load_file(data, source=wfm, mapping={**mapping, "decimal": ","}, filename="eu.csv")
    assert result.ok, result.errors
    values = stored()
    assert values[("A0001", "adherence", START)] == (87.1, 1)
    assert values[("A0002", "adherence", START)] == (93.25, 1)
    assert values[("A0001", "csat", START)] == (91.5, 4)


def test_a_decimal_comma_mapping_refuses_a_thousands_separator(wfm):
    data = b"Agent ID;Date;Adherence %;AHT\nA1;2026-11-02;1.087,5;5:00\n"
    mapping = {
        "layout": "wide",
        "employee_id": "Agent ID",
        "date": "Date",
        "kpis": {"adherence": "Adherence %", "aht": "AHT"},
        "decimal": ",",
    }
    result = load_file(data, source=wfm, mapping=mapping)
    assert reasons(result) == [
        (
            2,
            "adherence: value '1.087,5' has a '.' although the mapping says decimal commas: "
            "export the numbers without thousands separators",
        )
    ]


# --- Percentages: fractions and percentages in one column -------------------------------------


def test_a_percent_column_mixing_fractions_and_percentages_is_refused(wfm):
    """1.012 beside 0.85 was stored as 1.012 %: either 101.2 % (out of range) or a per-cent
    figure in a column of fractions. The file cannot say which."""
    data = "Agent ID,Date,Adherence %\nA1,2026-11-02,0.85\nA2,2026-11-02,1.012\nA3,2026-11-02,0.9\n"
    mapping = {"layout": "wide", "employee_id": "Agent ID", "date": "Date"}
    mapping["kpis"] = {"adherence": "Adherence %"}
    preview = preview_file(data.encode(), mapping=mapping)
    assert [(e.line, e.column) for e in preview.errors] == [(3, "Adherence %")]
    reason = preview.errors[0].reason
    assert reason.startswith("adherence: 1.012 reads as 1.012 %, but line 2 holds a fraction")
    assert "mixes fractions and percentages" in reason and "mapping page" in reason
    adds_up(preview)
    assert (preview.account.rows_loaded, preview.account.rows_refused) == (2, 1)

    # Said on the mapping page: fractions. 1.012 is then 101.2 %, out of range: still refused.
    fractions = preview_file(data.encode(), mapping={**mapping, "percent_scale": "fraction"})
    assert [e.reason for e in fractions.errors] == [
        "adherence: value 101.2 is out of range (0 to 100)"
    ]
    # Percentages: 0.85 % and 0.9 % of adherence, loaded as written.
    percents = preview_file(data.encode(), mapping={**mapping, "percent_scale": "percent"})
    assert percents.ok and [r.value for r in percents.rows] == [0.85, 1.012, 0.9]


def test_a_bare_1_in_a_column_of_percentages_is_not_read_as_100(wfm):
    data = "Agent ID,Date,Adherence %\nA1,2026-11-02,1\nA2,2026-11-02,97.5\n"
    mapping = {"layout": "wide", "employee_id": "Agent ID", "date": "Date"}
    mapping["kpis"] = {"adherence": "Adherence %"}
    preview = preview_file(data.encode(), mapping=mapping)
    assert [e.line for e in preview.errors] == [3]
    assert "line 2 holds a fraction" in preview.errors[0].reason
    # In a column of fractions, 1 is 100 %.
    fine = "Agent ID,Date,Adherence %\nA1,2026-11-02,1\nA2,2026-11-02,0.975\n"
    assert [r.value for r in preview_file(fine.encode(), mapping=mapping).rows] == [100, 97.5]


# --- Durations --------------------------------------------------------------------------------


def test_a_negative_duration_under_a_minute_keeps_its_sign(wfm):
    """ "-0:45" was stored as 45 s."""
    Kpi.objects.create(
        code="sched_dev",
        name="Schedule deviation",
        unit="seconds",
        direction="lower",
        min_value=-3600,
        max_value=3600,
    )
    data = "Agent ID,Date,Deviation,AHT\nA1,2026-11-02,-0:45,-0:45\nA2,2026-11-02,1:30,5:00\n"
    mapping = {
        "layout": "wide",
        "employee_id": "Agent ID",
        "date": "Date",
        "kpis": {"sched_dev": "Deviation", "aht": "AHT"},
    }
    result = load_file(data.encode(), source=wfm, mapping=mapping)
    # AHT cannot be negative: refused by line, not stored as 45 s.
    assert reasons(result) == [(2, "aht: value -45 is out of range (0 to 86400)")]
    assert not Sample.objects.exists()
    ok = data.replace("-0:45,-0:45", "-0:45,0:45")
    assert load_file(ok.encode(), source=wfm, mapping=mapping).ok
    assert stored()[("A1", "sched_dev", START)] == (-45, 1)
    assert stored()[("A1", "aht", START)] == (45, 1)


# --- Duplicate headers ------------------------------------------------------------------------


def test_two_columns_with_the_same_header_are_refused(wfm):
    """The first was taken without a word (Genesys repeats 'AHT' for voice and chat)."""
    data = "Interaction summary\nAgent ID,Date,AHT,Adherence %,AHT\nA1,2026-11-02,5:00,95,9:30\n"
    mapping = {
        "layout": "wide",
        "employee_id": "Agent ID",
        "date": "Date",
        "kpis": {"aht": "AHT", "adherence": "Adherence %"},
    }
    result = load_file(data.encode(), source=wfm, mapping=mapping)
    assert reasons(result) == [
        (
            2,
            "the header names 2 columns 'AHT' (columns 3 and 5): the file does not say which "
            "one is meant; rename or remove the others in the export and upload it again",
        )
    ]
    assert not Sample.objects.exists()


# --- Workbooks: sheets, formulas, serial dates ------------------------------------------------


def sheets_workbook(**extra) -> bytes:
    day = dt.datetime(2026, 11, 2)  # noqa: DTZ001 (a spreadsheet date has no zone)
    return exports.workbook(
        {
            "Daily": [
                ["QA evaluations, week 45"],
                ["Agent ID", "Date", "QA Score", "Evaluations"],
                ["A1", day, 0.91, 3],
                ["A2", day, 0.84, 2],
                ["Team total", day, 0.875, 5],
            ],
            "Summary": [["Agent ID", "Week", "QA Score"], ["A1", 45, 0.91]],
            **extra,
        }
    )


QA_MAPPING = {
    "layout": "wide",
    "employee_id": "Agent ID",
    "date": "Date",
    "kpis": {"qa_score": "QA Score"},
    "weights": {"qa_score": "Evaluations"},
}


def test_a_workbook_of_several_sheets_needs_the_sheet_named(wfm):
    data = sheets_workbook()
    preview = preview_file(data, mapping=QA_MAPPING, filename="qa.xlsx")
    assert [e.reason for e in preview.errors] == [
        "the workbook has 2 sheets ('Daily', 'Summary'): choose the one to load on the mapping "
        "page (`sheet`)"
    ]
    preview = preview_file(data, mapping={**QA_MAPPING, "sheet": "Daily"}, filename="qa.xlsx")
    assert preview.ok, preview.errors
    assert preview.account.header_line == 2
    assert "sheet 'Daily' read; not read: 'Summary'" in preview.account.notes
    assert preview.account.rows_read == 3 and preview.account.rows_loaded == 2
    assert sum(preview.account.skipped.values()) == 1  # the team total
    adds_up(preview)
    result = load_file(
        data, source=wfm, mapping={**QA_MAPPING, "sheet": "Daily"}, filename="q.xlsx"
    )
    assert result.ok
    assert stored() == {("A1", "qa_score", START): (91, 3), ("A2", "qa_score", START): (84, 2)}


def test_formulas_without_saved_results_are_refused_not_read_as_blank(wfm):
    """A workbook written by a reporting tool that does not calculate: =B3*100 has no value."""
    day = dt.datetime(2026, 11, 2)  # noqa: DTZ001
    data = exports.workbook(
        {
            "QA": [
                ["Agent ID", "Date", "Raw", "QA Score"],
                ["A1", day, 0.91, "=C2*100"],
                ["A2", day, 0.84, 84],
            ]
        }
    )
    mapping = {"layout": "wide", "employee_id": "Agent ID", "date": "Date"}
    mapping["kpis"] = {"qa_score": "QA Score"}
    result = load_file(data, source=wfm, mapping=mapping, filename="qa.xlsx")
    assert [(e.line, e.column) for e in result.errors] == [(2, "QA Score")]
    assert result.errors[0].reason.startswith("the formula =C2*100 has no saved result")
    assert "open it in Excel, save it" in result.errors[0].reason
    assert not Sample.objects.exists()


def test_excel_serial_dates_are_named_and_read_when_chosen(wfm):
    serial = exports.excel_serial(START)
    data = f"Agent ID,Date,AHT\nA1,{serial},5:00\n".encode()
    mapping = {"layout": "wide", "employee_id": "Agent ID", "date": "Date", "kpis": {"aht": "AHT"}}
    result = load_file(data, source=wfm, mapping=mapping)
    assert reasons(result) == [
        (
            2,
            f"{serial} is an Excel date stored as a number (it would be {START}): format the date "
            "column as a date in Excel before exporting, or choose 'Excel serial numbers' as "
            "the date format",
        )
    ]
    assert load_file(data, source=wfm, mapping={**mapping, "date_format": "excel"}).ok
    assert stored() == {("A1", "aht", START): (300, 1)}


def test_a_workbook_that_unpacks_too_large_is_refused_before_it_is_opened(wfm, monkeypatch):
    from metrics import parsing

    data = sheets_workbook(Notes=[["x" * 1000] for _ in range(2000)])
    monkeypatch.setattr(parsing, "XLSX_MAX_UNCOMPRESSED", 1_000_000)
    opened = []
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: opened.append(1))
    preview = preview_file(data, mapping={**QA_MAPPING, "sheet": "Daily"}, filename="big.xlsx")
    assert [e.reason for e in preview.errors] == [
        "the workbook unpacks to 2 MB, more than the 1 MB accepted: export the data as CSV"
    ]
    assert opened == []


def test_a_sheet_declared_wider_than_the_column_cap_is_refused_before_reading(wfm):
    """A cell far to the right (or a forged dimension) pads every row read to that width."""
    day = dt.datetime(2026, 11, 2)  # noqa: DTZ001
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Agent ID", "Date", "QA Score"])
    sheet.append(["A1", day, 0.9])
    sheet.cell(row=2, column=16_000, value="x")
    buffer = io.BytesIO()
    book.save(buffer)
    mapping = {**QA_MAPPING, "weights": {}}
    preview = preview_file(buffer.getvalue(), mapping=mapping, filename="wide.xlsx")
    assert [e.reason for e in preview.errors] == [
        "the sheet 'Sheet' is 16,000 columns wide (cells as far as column 16,000); at most 500 "
        "are read: delete the empty columns on the right, or export the data as CSV"
    ]
    with translation.override("fr"):
        french = preview_file(buffer.getvalue(), mapping=mapping, filename="wide.xlsx")
    assert "16\xa0000" in french.errors[0].reason and "16,000" not in french.errors[0].reason
