from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from metrics.charts import weekly_chart_svg
from metrics.models import Kpi
from metrics.queries import WeekPoint

NS = {"svg": "http://www.w3.org/2000/svg"}
MON = dt.date(2025, 3, 3)
AHT = Kpi(code="aht", name="AHT", unit="seconds", direction="lower", min_value=0, max_value=86400)
QA = Kpi(code="qa_score", name="QA score", unit="percent", direction="higher", max_value=100)


def weeks(*values: float) -> list[WeekPoint]:
    return [WeekPoint(MON + dt.timedelta(weeks=n), v, 10, 5) for n, v in enumerate(values)]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_a_sized_scalable_svg_with_a_target_line():
    root = parse(weekly_chart_svg(weeks(80, 84, 88), kpi=QA, target=85, width=600, height=200))

    assert (root.get("width"), root.get("height"), root.get("viewBox")) == (
        "600",
        "200",
        "0 0 600 200",
    )
    targets = root.findall(".//svg:line[@class='target']", NS)
    assert len(targets) == 1 and targets[0].get("y1") == targets[0].get("y2")
    assert "Target ≥ 85 %" in texts(root)
    assert root.find("svg:title", NS).text == "QA score: weekly values, target ≥ 85 %"
    assert len(root.findall(".//svg:polyline[@class='series']", NS)) == 1
    points = root.findall(".//svg:circle[@class='point']", NS)
    assert [p.find("svg:title", NS).text for p in points] == [
        "Week of 3 Mar 2025: 80 % (below target)",
        "Week of 10 Mar 2025: 84 % (below target)",
        "Week of 17 Mar 2025: 88 % (meets target)",
    ]
    assert all(
        label.endswith(" %") for label in texts(root) if label[:1].isdigit() and "Mar" not in label
    )


def test_aht_axis_in_minutes_and_lower_is_better():
    root = parse(weekly_chart_svg(weeks(330, 310, 290), kpi=AHT, target=300))
    labels = texts(root)

    assert "lower is better" in labels and "Target ≤ 5:00" in labels
    assert {"5:00", "5:30"} <= set(labels)
    target_y = float(root.find(".//svg:line[@class='target']", NS).get("y1"))
    circles = root.findall(".//svg:circle[@class='point']", NS)
    # Below the line on the page is better here: only the last week meets the target.
    assert [float(c.get("cy")) > target_y for c in circles] == [False, False, True]
    assert [c.get("fill") == "#ffffff" for c in circles] == [True, True, False]


def test_baseline_and_plan_period():
    svg = weekly_chart_svg(
        weeks(340, 320),
        kpi=AHT,
        target=300,
        baseline=345,
        period=(MON + dt.timedelta(days=7), MON + dt.timedelta(days=37)),
    )
    root = parse(svg)
    assert root.find(".//svg:line[@class='baseline']", NS) is not None
    assert "Baseline 5:45" in texts(root)
    period = root.find(".//svg:rect[@class='period']", NS)
    assert float(period.get("width")) > 0 and "Plan period" in texts(root)


def test_text_is_escaped():
    evil = Kpi(code="x", name='<script>alert("x")</script> & co', unit="count", direction="higher")
    svg = weekly_chart_svg(weeks(3, 4), kpi=evil, target=5, period_label="<b>period</b>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp; co" in svg
    root = parse(svg)
    assert root.find("svg:title", NS).text.startswith('<script>alert("x")</script> & co')


def test_no_data_is_said_plainly():
    root = parse(weekly_chart_svg([], kpi=QA, target=85, title="QA score (Alex)"))
    assert texts(root) == ["QA score (Alex)", "No data yet"]
    assert root.find(".//svg:polyline", NS) is None


def test_one_point_and_tuples_are_fine():
    root = parse(weekly_chart_svg([(MON, 0.0)], kpi=QA, target=None))
    assert root.find(".//svg:line[@class='target']", NS) is None
    assert len(root.findall(".//svg:circle", NS)) == 1
