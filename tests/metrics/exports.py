"""KPI files shaped like the exports analysts upload (NICE, Genesys, Verint, Calabrio, and the
spreadsheets QA teams keep): title lines above the header, totals rows, Windows-1252, UTF-8
with a byte-order mark, UTF-16 from Excel's "Unicode text", semicolons with decimal commas,
workbooks of several sheets, formulas, serial dates."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

START = dt.date(2026, 11, 2)  # a Monday
NAMES = ["Zoë Martín", "André Brönner", "Chloé Dubois", "Jürgen Weiß", "Siobhán Ó Briain"]


def wfm_rows(agents: int, days: int) -> list[list[str]]:
    """Agent ID, Agent Name, Date, Adherence %, AHT, Calls Handled, CSAT %, Surveys."""
    rows = []
    for day in range(days):
        for n in range(agents):
            rows.append(
                [
                    f"A{n:04d}",
                    f"Agent {n}",
                    (START + dt.timedelta(days=day)).isoformat(),
                    f"{90 + (n + day) % 10}.5",
                    f"{4 + n % 3}:{(n * 7 + day) % 60:02d}",
                    str(20 + n % 30),
                    f"{80 + n % 20}",
                    str(3 + n % 5),
                ]
            )
    return rows


HEADER = [
    "Agent ID",
    "Agent Name",
    "Date",
    "Adherence %",
    "AHT",
    "Calls Handled",
    "CSAT %",
    "Surveys",
]
MAPPING = {
    "layout": "wide",
    "employee_id": "Agent ID",
    "date": "Date",
    "kpis": {"adherence": "Adherence %", "aht": "AHT", "csat": "CSAT %"},
    "weights": {"aht": "Calls Handled", "csat": "Surveys"},
}


def nice_csv(agents: int = 5, days: int = 3) -> bytes:
    """A NICE-style agent summary: two title lines and a blank line above the header, a totals
    row with a date at the end, UTF-8 with a byte-order mark, CRLF line ends."""
    rows = wfm_rows(agents, days)
    calls, surveys = sum(int(r[5]) for r in rows), sum(int(r[7]) for r in rows)
    lines = [
        "Agent Performance Summary",
        f"Report period: {START} - {START + dt.timedelta(days=days - 1)}",
        "",
        ",".join(HEADER),
        *(",".join(row) for row in rows),
        f"Total,,{START},95.1,5:02,{calls},88,{surveys}",
    ]
    return "\ufeff".encode() + "\r\n".join(lines).encode() + b"\r\n"


def unicode_text(rows: list[list[str]]) -> bytes:
    """Excel's "Unicode text": UTF-16 little-endian with a byte-order mark, tab-separated."""
    return "\r\n".join("\t".join(row) for row in rows).encode("utf-16") + "\r\n".encode("utf-16-le")


def cp1252_csv_with_late_accent() -> tuple[bytes, int]:
    """Windows-1252, ASCII for the first 64 KB and more, then an agent's name with an accent.
    Returns the file and the line of the first accent."""
    header = "Agent ID,Agent Name,Date,Adherence %,AHT,Calls Handled,CSAT %,Surveys"
    lines = [header]
    rows = wfm_rows(200, 10)
    for row in rows:
        lines.append(",".join(row))
    accent_line = len(lines) + 1
    lines.append(f"A9999,{NAMES[0]},{START},91.5,5:10,12,85,4")
    data = "\r\n".join(lines).encode("cp1252") + b"\r\n"
    assert data.index("ë".encode("cp1252")) > 65536
    return data, accent_line


def european_csv() -> bytes:
    """A semicolon export with decimal commas, as European Excel writes it (Windows-1252)."""
    lines = [
        "Agent ID;Agent Name;Date;Adherence %;AHT;Calls Handled;CSAT %;Surveys",
        f"A0001;{NAMES[1]};02.11.2026;87,1 %;5:30;32;91,5;4",
        f"A0002;{NAMES[2]};02.11.2026;93,25 %;4:45;28;78;6",
        f"A0003;{NAMES[3]};02.11.2026;100 %;6:05;19;88,0;3",
    ]
    return "\r\n".join(lines).encode("cp1252") + b"\r\n"


def workbook(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def excel_serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days
