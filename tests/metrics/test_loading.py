from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest

from metrics.loading import load_file, load_rows, preview_file, preview_rows
from metrics.models import MetricLoad, MetricSource, Sample
from metrics.parsing import MappingError
from tests.metrics.conftest import LONG, WIDE, csv_bytes

pytestmark = pytest.mark.django_db

D = dt.date(2025, 3, 3)  # a Monday


def stored() -> dict[tuple[str, str, dt.date], tuple[float, float]]:
    return {
        (s.employee_id, s.kpi.code, s.date): (s.value, s.weight)
        for s in Sample.objects.select_related("kpi")
    }


def errors_of(result) -> list[tuple[int, str]]:
    return [(e.line, e.reason) for e in result.errors]


# --- Formats and mappings --------------------------------------------------------------------


def test_long_csv(wfm, harper):
    data = csv_bytes(
        "Agent ID,Date,Metric,Value,Contacts",
        "E1,2025-03-03,qa_score,85 %,3",
        "E1,2025-03-03,AHT,5:30,40",
        "E1,2025-03-04,CSAT score,0.9,",  # the KPI's name works too; blank weight is 1
        "E2,2025-03-03,fcr,72.5,12",
    )
    result = load_file(data, source=wfm, uploaded_by=harper, filename="wfm.csv")

    assert result.ok and (result.rows_total, result.rows_changed) == (4, 4)
    assert stored() == {
        ("E1", "qa_score", D): (85, 3),
        ("E1", "aht", D): (330, 40),
        ("E1", "csat", D + dt.timedelta(1)): (90, 1),
        ("E2", "fcr", D): (72.5, 12),
    }
    load = MetricLoad.objects.get()
    assert (load.source, load.uploaded_by, load.filename) == (wfm, harper, "wfm.csv")
    assert load.file_sha256 == hashlib.sha256(data).hexdigest()
    assert (load.status, load.rows_total, load.rows_loaded, load.errors) == ("loaded", 4, 4, [])
    assert load.finished_at is not None
    assert set(Sample.objects.values_list("load", flat=True)) == {load.pk}


def test_wide_csv_skips_blank_cells(qa_tool):
    data = csv_bytes(
        "Agent ID,Day,QA %,AHT,CSAT,Notes",
        "E1,2025-03-03,85,4:10,,fine",
        "E2,2025-03-03,,,  ,nothing that day",
        "E3,2025-03-03,91.5%,,0.8,",
    )
    result = load_file(data, source=qa_tool, filename="qa.csv")

    assert result.ok and result.rows_total == 4
    assert stored() == {
        ("E1", "qa_score", D): (85, 1),
        ("E1", "aht", D): (250, 1),
        ("E3", "qa_score", D): (91.5, 1),
        ("E3", "csat", D): (80, 1),
    }


def test_wide_xlsx_with_excel_types(qa_tool, xlsx):
    data = xlsx(
        ["Agent ID", "Day", "QA %", "AHT", "CSAT"],
        [10023, dt.datetime(2025, 3, 3), 0.85, dt.time(0, 5, 30), None],  # noqa: DTZ001
        [],
        ["E2", dt.date(2025, 3, 4), 0.9, 300, "75 %"],
    )
    result = load_file(io.BytesIO(data), source=qa_tool, filename="qa.xlsx")

    assert result.ok, result.errors
    assert stored() == {
        ("10023", "qa_score", D): (85, 1),
        ("10023", "aht", D): (330, 1),
        ("E2", "qa_score", D + dt.timedelta(1)): (90, 1),
        ("E2", "aht", D + dt.timedelta(1)): (300, 1),
        ("E2", "csat", D + dt.timedelta(1)): (75, 1),
    }


def test_long_xlsx_reports_sheet_rows(wfm, xlsx):
    data = xlsx(
        ["Agent ID", "Date", "Metric", "Value", "Contacts"],
        ["E1", dt.date(2025, 3, 3), "aht", 310, 20],
        [None, None, None, None, None],
        ["E1", dt.date(2025, 3, 4), "aht", "slow", 20],
    )
    result = load_file(data, source=wfm, filename="x.xlsx")
    assert errors_of(result) == [(4, "aht: value 'slow' is not a number or a duration (m:ss)")]


def test_mapping_matches_headers_loosely_and_reads_date_formats(wfm):
    data = csv_bytes(
        "agent id ; date;METRIC;Value;Contacts",
        "E1;03/04/2025;qa_score;88;2",
    )
    mapping = {**LONG, "date_format": "%m/%d/%Y"}
    result = load_file(data, source=wfm, mapping=mapping, filename="us.csv")
    assert result.ok and stored() == {("E1", "qa_score", dt.date(2025, 3, 4)): (88, 2)}


def test_kpi_aliases(wfm):
    data = csv_bytes("Agent ID,Date,Metric,Value,Contacts", "E1,2025-03-03,Handle time,4:00,9")
    mapping = {**LONG, "kpi_aliases": {"Handle Time": "aht"}}
    assert load_file(data, source=wfm, mapping=mapping).ok
    assert stored() == {("E1", "aht", D): (240, 9)}


def test_dict_rows_for_the_api(wfm):
    result = load_rows(
        [
            {"employee_id": "E1", "date": "2025-03-03", "kpi": "aht", "value": 301, "weight": 5},
            {"employee_id": "E1", "date": D, "kpi": "qa_score", "value": "0.9"},
        ],
        source=wfm,
        label="api batch",
    )
    assert result.ok and result.load.filename == "api batch"
    assert stored() == {("E1", "aht", D): (301, 5), ("E1", "qa_score", D): (90, 1)}

    bad = load_rows([{"employee_id": "E1", "date": "x", "kpi": "aht", "value": 1}], source=wfm)
    assert [(e.line, e.column) for e in bad.errors] == [(1, "date")]


def test_unusable_mappings_raise_and_record_nothing(wfm):
    data = csv_bytes("Agent ID,Date,Metric,Value", "E1,2025-03-03,aht,300")
    with pytest.raises(MappingError, match="unknown KPI codes in mapping: nope"):
        load_file(data, source=wfm, mapping={**WIDE, "kpis": {"nope": "QA %"}})
    with pytest.raises(MappingError, match="no saved column mapping"):
        load_file(data, source=MetricSource.objects.create(name="new"))
    assert not MetricLoad.objects.exists()


# --- Validation, line by line ----------------------------------------------------------------


def test_every_rule_reports_its_line(wfm):
    data = csv_bytes(
        "Agent ID,Date,Metric,Value,Contacts",  # 1
        "E1,2025-03-03,qa_score,85,1",  # 2: fine
        "E1,2025-03-03,nps,85,1",  # 3
        ",2025-03-03,aht,300,1",  # 4
        "E 2,2025-03-03,aht,300,1",  # 5
        "E3,2025-13-01,aht,300,1",  # 6
        "E3,,aht,300,1",  # 7
        "E3,2025-03-04,aht,abc,1",  # 8
        "E3,2025-03-05,qa_score,120,1",  # 9
        "E3,2025-03-05,aht,-5,1",  # 10
        "E1,2025-03-03,QA score,90,1",  # 11: same key as line 2
        "E3,2025-03-06,aht,300,0",  # 12
        "E3,2025-03-07,aht",  # 13
        ",,,,",  # 14: padding, ignored
        "E3,2025-03-08,qa_score,,1",  # 15
    )
    result = load_file(data, source=wfm, filename="bad.csv")

    assert not result.ok
    assert errors_of(result) == [
        (3, "unknown KPI 'nps'"),
        (4, "missing employee id"),
        (5, "bad employee id 'E 2' (1 to 32 letters, digits or . _ - @ /)"),
        (6, "bad date '2025-13-01' (expected YYYY-MM-DD, or set date_format)"),
        (7, "missing date"),
        (8, "aht: value 'abc' is not a number or a duration (m:ss)"),
        (9, "qa_score: value 120 is out of range (0 to 100)"),
        (10, "aht: value -5 is out of range (0 to 86400)"),
        (
            11,
            "qa_score: duplicate of an earlier line (the same employee E1, KPI and date "
            "2025-03-03): remove one of them from the export",
        ),
        (12, "weight '0' is not a positive number"),
        (13, "3 columns, but the mapping needs 5"),
        (15, "qa_score: missing value"),
    ]
    assert result.errors[3].column == "Date"


def test_wide_duplicates_and_values_name_the_kpi(qa_tool):
    data = csv_bytes(
        "Agent ID,Day,QA %,AHT,CSAT",
        "E1,2025-03-03,85,4:10,",
        "E1,2025-03-03,,4:20,nan",
    )
    result = load_file(data, source=qa_tool)
    assert errors_of(result) == [
        (
            3,
            "aht: duplicate of an earlier line (the same employee E1, KPI and date 2025-03-03):"
            " remove one of them from the export",
        ),
        (3, "csat: value nan is out of range (0 to 100)"),
    ]
    assert [e.column for e in result.errors] == ["AHT", "CSAT"]


def test_a_missing_column_rejects_the_file_at_line_1(wfm):
    result = load_file(csv_bytes("Agent ID,Day,Metric,Value", "E1,2025-03-03,aht,1"), source=wfm)
    assert errors_of(result) == [(1, "not in the header (line 1): 'Date', 'Contacts'")]
    assert MetricLoad.objects.get().status == "rejected"


# --- All or nothing, idempotent --------------------------------------------------------------


def test_one_bad_row_loads_nothing(wfm):
    rows = [f"E{n},2025-03-03,aht,300,1" for n in range(1500)]  # more than one batch
    rows[1200] = "E1200,2025-03-03,aht,300,-1"
    result = load_file(csv_bytes("Agent ID,Date,Metric,Value,Contacts", *rows), source=wfm)

    assert errors_of(result) == [(1202, "weight '-1' is not a positive number")]
    assert not Sample.objects.exists()
    load = MetricLoad.objects.get()
    assert (load.status, load.rows_loaded, load.rows_total) == ("rejected", 0, 1499)
    assert load.errors == [
        {"line": 1202, "column": "Contacts", "reason": "weight '-1' is not a positive number"}
    ]


def test_a_rejected_file_keeps_what_was_there(wfm):
    load_file(
        csv_bytes("Agent ID,Date,Metric,Value,Contacts", "E1,2025-03-03,aht,300,1"), source=wfm
    )
    bad = csv_bytes(
        "Agent ID,Date,Metric,Value,Contacts", "E1,2025-03-03,aht,200,1", "E1,x,aht,1,1"
    )
    assert not load_file(bad, source=wfm).ok
    assert stored() == {("E1", "aht", D): (300, 1)}


def test_stored_errors_are_capped_with_a_count(wfm):
    rows = [f"E{n},2025-03-03,nps,1,1" for n in range(30)]
    result = load_file(
        csv_bytes("Agent ID,Date,Metric,Value,Contacts", *rows), source=wfm, max_errors=10
    )
    assert (len(result.errors), result.error_count) == (10, 30)
    assert result.load.errors[-1] == {"line": None, "column": "", "reason": "… and 20 more errors"}


def test_the_same_file_twice_changes_nothing(wfm):
    data = csv_bytes(
        "Agent ID,Date,Metric,Value,Contacts",
        "E1,2025-03-03,qa_score,85,3",
        "E1,2025-03-03,aht,5:30,40",
    )
    first = load_file(data, source=wfm)
    before = list(Sample.objects.order_by("pk").values())
    second = load_file(data, source=wfm)

    assert second.ok and (second.rows_total, second.rows_changed) == (2, 0)
    assert list(Sample.objects.order_by("pk").values()) == before
    assert set(Sample.objects.values_list("load", flat=True)) == {first.load.pk}
    assert second.load.rows_loaded == 0


def test_a_corrected_file_replaces_the_values_it_covers(wfm):
    header = "Agent ID,Date,Metric,Value,Contacts"
    load_file(
        csv_bytes(
            header,
            "E1,2025-03-03,aht,5:30,40",
            "E1,2025-03-03,qa_score,85,3",
            "E2,2025-03-03,aht,4:00,10",
        ),
        source=wfm,
    )
    fix = load_file(
        csv_bytes(header, "E1,2025-03-03,aht,5:00,40", "E1,2025-03-03,qa_score,85,4"), source=wfm
    )

    assert fix.rows_changed == 2
    assert stored() == {
        ("E1", "aht", D): (300, 40),
        ("E1", "qa_score", D): (85, 4),
        ("E2", "aht", D): (240, 10),
    }
    changed = Sample.objects.filter(employee_id="E1").values_list("load", flat=True)
    assert set(changed) == {fix.load.pk}


# --- Preview ---------------------------------------------------------------------------------


def test_preview_parses_without_writing(wfm):
    rows = [f"E{n},2025-03-03,aht,{n % 600},1" for n in range(50)] + ["E1,bad,aht,1,1"]
    preview = preview_file(
        csv_bytes("Agent ID,Date,Metric,Value,Contacts", *rows), mapping=LONG, limit=3
    )

    assert [(r.line, r.employee_id, r.kpi, r.date, r.value) for r in preview.rows] == [
        (2, "E0", "aht", D, 0),
        (3, "E1", "aht", D, 1),
        (4, "E2", "aht", D, 2),
    ]
    assert (preview.rows_total, preview.error_count, preview.ok) == (50, 1, False)
    assert [e.line for e in preview.errors] == [52]
    assert not MetricLoad.objects.exists() and not Sample.objects.exists()


def test_preview_caps_errors_but_counts_them_all():
    rows = [f"E{n},2025-03-03,nps,1" for n in range(500)]
    preview = preview_rows(
        [
            dict(zip(["employee_id", "date", "kpi", "value"], r.split(","), strict=True))
            for r in rows
        ],
        max_errors=25,
    )
    assert (len(preview.errors), preview.error_count, preview.rows) == (25, 500, [])


def test_preview_reports_an_unreadable_file():
    preview = preview_file(b"", mapping=LONG, filename="empty.csv")
    assert [(e.line, e.reason) for e in preview.errors] == [
        (1, "the file is empty or its first lines are blank")
    ]


def test_a_broken_encoding_deep_in_the_file_rejects_it(wfm):
    rows = [f"E{n},2025-03-03,aht,300,1,Zoë" for n in range(5000)]  # UTF-8 accents first
    header = "Agent ID,Date,Metric,Value,Contacts,Name"
    data = csv_bytes(header, *rows) + b"E1,2025-03-04,aht,1,1,Andr\xe9\n"  # then Windows-1252
    result = load_file(data, source=wfm)
    assert errors_of(result) == [
        (
            5002,
            "the file mixes text encodings (UTF-8 accents earlier, then a byte that is not UTF-8):"
            " save the export again as 'CSV UTF-8' (Excel: Save As, CSV UTF-8)",
        )
    ]
    assert not Sample.objects.exists()


def test_uploaded_files_load_and_stay_open(wfm, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

    data = csv_bytes("Agent ID,Date,Metric,Value,Contacts", "E1,2025-03-03,aht,300,1")
    small = SimpleUploadedFile("wfm.csv", data)
    assert load_file(small, source=wfm).load.filename == "wfm.csv"
    assert not small.closed
    small.seek(0)
    assert small.read() == data

    big = TemporaryUploadedFile("big.csv", "text/csv", len(data), "utf-8")
    big.write(data)
    big.seek(0)
    result = load_file(big, source=wfm)
    assert (result.load.filename, result.rows_total) == ("big.csv", 1)
    assert not big.closed
    big.close()
