from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.parsing import (
    ColumnMapping,
    FileError,
    MappingError,
    cell_text,
    open_table,
    parse_date,
    parse_duration,
    parse_percent,
)
from tests.metrics.conftest import LONG, WIDE


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("330", 330),
        ("330.5", 330.5),
        ("5:30", 330),
        ("05:30", 330),
        ("75:00", 4500),
        ("1:05:30", 3930),
        (" 4:07 ", 247),
        ("0:00:59.5", 59.5),
        # The sign is the whole duration's: -0:45 is 45 seconds under (it lost its sign).
        ("-0:45", -45),
        ("-1:30", -90),
        ("-1:05:30", -3930),
        ("-45", -45),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["5:75", "1:60:00", "a:30", "1:2:3:4", "--1:30", "1:-30", "-:30", "", "5m30s"]
)
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "percent"),
    [
        ("85", 85),
        ("85%", 85),
        ("85 %", 85),
        (" 85.5 % ", 85.5),
        # Bare numbers as written: whether 0.85 is 85 % is decided per column (test_loading).
        ("0.85", 0.85),
        ("1", 1),
        ("1 %", 1),
        ("0.5%", 0.5),
        ("0", 0),
        ("100", 100),
    ],
)
def test_percentages(text, percent):
    assert parse_percent(text) == pytest.approx(percent)


@given(st.integers(min_value=0, max_value=100))
def test_fractions_and_percentages_agree(whole):
    assert parse_percent(f"{whole / 100}") * 100 == pytest.approx(parse_percent(f"{whole} %"))


@pytest.mark.parametrize(
    ("text", "fmt", "day"),
    [
        ("2025-03-04", "", dt.date(2025, 3, 4)),
        ("20250304", "", dt.date(2025, 3, 4)),
        ("2025-03-04 00:00:00", "", dt.date(2025, 3, 4)),
        ("2025-03-04T08:30", "", dt.date(2025, 3, 4)),
        ("2025/03/04", "", dt.date(2025, 3, 4)),
        ("04.03.2025", "", dt.date(2025, 3, 4)),
        ("4-Mar-2025", "", dt.date(2025, 3, 4)),
        ("03/04/2025", "%m/%d/%Y", dt.date(2025, 3, 4)),
        ("04/03/2025", "%d/%m/%Y", dt.date(2025, 3, 4)),
        ("2025-03-04", "%d/%m/%Y", dt.date(2025, 3, 4)),  # ISO is never ambiguous
    ],
)
def test_dates(text, fmt, day):
    assert parse_date(text, fmt) == day


@pytest.mark.parametrize("text", ["03/04/2025", "2025-02-30", "yesterday", ""])
def test_ambiguous_or_bad_dates_need_a_format(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_spreadsheet_cells_become_csv_text():
    assert cell_text(None) == ""
    assert cell_text(10023.0) == "10023"
    assert cell_text(0.855) == "0.855"
    assert cell_text(dt.datetime(2025, 3, 4, 0, 0)) == "2025-03-04"  # noqa: DTZ001
    assert cell_text(dt.date(2025, 3, 4)) == "2025-03-04"
    assert cell_text(dt.time(0, 5, 30)) == "330"
    assert cell_text(dt.timedelta(hours=25)) == "90000.0"


def test_mapping_round_trip():
    for data in (LONG, WIDE):
        mapping = ColumnMapping.parse(data)
        assert ColumnMapping.parse(mapping.as_dict()) == mapping
    assert ColumnMapping.parse('{"employee_id": "a", "date": "b", "kpi": "c", "value": "d"}')


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{nope", "not valid JSON"),
        ([], "JSON object"),
        ({"employee_id": "a", "date": "b", "layout": "tall"}, "wide' or 'long"),
        ({"employee_id": "a", "date": "b", "layout": "wide"}, "needs kpis"),
        ({"employee_id": "a", "date": "b"}, "needs kpi, value"),
        ({**LONG, "colour": "red"}, "unknown mapping keys: colour"),
        ({**WIDE, "kpis": {"qa_score": 3}}, "kpis must map names to names"),
    ],
)
def test_bad_mappings(data, message):
    with pytest.raises(MappingError, match=message):
        ColumnMapping.parse(data)


def test_csv_delimiter_encoding_and_bom_are_detected():
    text = "\ufeffAgent ID;Date;Métrique\nE1;2025-03-04;qa\n"
    for encoding in ("utf-8", "cp1252"):
        table = open_table(text.encode(encoding, errors="ignore"), filename="x.csv")
        assert table.header == ["Agent ID", "Date", "Métrique"]
        assert list(table.rows) == [["E1", "2025-03-04", "qa"]]
        assert table.position.line_num == 2


def test_unreadable_files_are_refused():
    with pytest.raises(FileError, match="empty"):
        open_table(b"", filename="x.csv")
    with pytest.raises(FileError, match="spreadsheet cannot be read"):
        open_table(b"PK\x03\x04garbage", filename="x.xlsx")
    with pytest.raises(FileError, match="other than .xlsx"):
        open_table(b"\xd0\xcf\x11\xe0", filename="old.xls")
