"""Server-side SVG line charts of weekly KPI values against a target.

Pure string building: no JavaScript, fonts or images to fetch, presentation attributes rather
than CSS, so the same markup renders in a browser and in WeasyPrint's PDF. `width`/`height`
give the intrinsic size and `viewBox` lets CSS scale it (`width: 100%; height: auto`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from html import escape

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from metrics.models import Kpi, Unit
from metrics.queries import WeekPoint

INK, MUTED, GRID = "#111827", "#6b7280", "#e5e7eb"
LINE, GOOD, BAD = "#1d4ed8", "#15803d", "#b91c1c"
GOOD_ZONE = "#ecfdf5"
_SECONDS_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)

Point = WeekPoint | tuple[date, float]


def weekly_chart_svg(
    points: Sequence[Point],
    *,
    kpi: Kpi,
    target: float | None,
    baseline: float | None = None,
    period: tuple[date, date] | None = None,
    period_label: str | None = None,
    title: str | None = None,
    title_lang: str | None = None,
    width: int = 640,
    height: int = 240,
) -> str:
    """A line of weekly values (plotted at each week's Monday) with the target as a dashed line
    and the side of it that meets the target shaded. Optionally a dotted baseline and a shaded
    date range (the plan's period)."""
    data = sorted((p.week, p.value) if isinstance(p, WeekPoint) else (p[0], p[1]) for p in points)
    title = title or kpi.display_name
    period_label = period_label or _("Plan period")
    comparison = "≤" if kpi.lower_is_better else "≥"
    target_text = (
        _("Target %(target)s") % {"target": f"{comparison} {kpi.format_value(target)}"}
        if target is not None
        else ""
    )
    summary = _("%(title)s: weekly values") % {"title": title} + (
        f", {target_text.lower()}" if target_text else ""
    )
    # The title may be the supervisor's words (an expectation's area): marked with its language.
    svg = _Svg(width, height, summary, lang=title_lang)
    svg.text(8, 16, title, weight="bold", size=13, lang=title_lang)
    if not data:
        svg.rect(0.5, 24.5, width - 1, height - 25, fill="none", stroke=GRID)
        svg.text(width / 2, height / 2 + 10, _("No data yet"), anchor="middle", fill=MUTED, size=14)
        return svg.close()

    # A legend on the title row rather than labels on the lines, which would hide points.
    legend = [(target_text, BAD, "6 4")] if target is not None else []
    if baseline is not None:
        legend.append(
            (_("Baseline %(value)s") % {"value": kpi.format_value(baseline)}, MUTED, "2 3")
        )
    if kpi.lower_is_better:
        legend.append((_("lower is better"), MUTED, ""))
    cursor = width - 8
    for label, colour, dash in reversed(legend):
        svg.text(cursor, 16, label, anchor="end", fill=colour)
        cursor -= len(label) * 6 + 4  # roughly 6 units a character at this size
        if dash:
            svg.line(cursor - 18, 12, cursor, 12, stroke=colour, dash=dash)
            cursor -= 18
        cursor -= 14

    left, right, top, bottom = 60, width - 16, 30, height - 26
    lo, hi, step = _y_range(
        [v for _day, v in data] + [x for x in (target, baseline) if x is not None], kpi
    )
    start, end = data[0][0], data[-1][0]
    if period:
        start, end = min(start, period[0]), max(end, period[1])
    if start == end:
        start, end = start - timedelta(days=3), end + timedelta(days=4)

    def x(day: date) -> float:
        return left + (day - start).days / (end - start).days * (right - left)

    def y(value: float) -> float:
        return bottom - (value - lo) / (hi - lo) * (bottom - top)

    if target is not None:
        edge = bottom if kpi.lower_is_better else top
        svg.rect(left, min(edge, y(target)), right - left, abs(edge - y(target)), fill=GOOD_ZONE)
    if period:
        x0, x1 = x(period[0]), x(period[1])
        svg.rect(x0, top, x1 - x0, bottom - top, fill=MUTED, opacity=0.1, cls="period")
        svg.text(x0 + 4, top + 12, period_label, fill=MUTED, size=10)
    for n in range(round((hi - lo) / step) + 1):
        tick = lo + n * step
        svg.line(left, y(tick), right, y(tick), stroke=GRID)
        svg.text(left - 6, y(tick) + 4, kpi.format_value(tick), anchor="end", fill=MUTED)
    every = max(1, math.ceil(len(data) / max(2, (right - left) // 64)))
    for day, _value in data[::every]:
        svg.text(x(day), bottom + 16, date_format(day, "j M"), anchor="middle", fill=MUTED)
    if baseline is not None:
        svg.line(left, y(baseline), right, y(baseline), stroke=MUTED, dash="2 3", cls="baseline")
    if target is not None:
        svg.line(left, y(target), right, y(target), stroke=BAD, dash="6 4", cls="target")

    svg.polyline([(x(day), y(value)) for day, value in data], stroke=LINE)
    for day, value in data:
        met = target is None or kpi.is_better_or_equal(value, target)
        verdict = "" if target is None else (_(" (meets target)") if met else _(" (below target)"))
        svg.point(
            x(day),
            y(value),
            met=met,
            label=_("Week of %(date)s: %(value)s")
            % {"date": date_format(day, "j M Y"), "value": kpi.format_value(value)}
            + verdict,
        )
    return svg.close()


def _y_range(values: list[float], kpi: Kpi) -> tuple[float, float, float]:
    lo, hi = min(values), max(values)
    spread = hi - lo or max(abs(hi) * 0.1, 1.0)
    step = _nice_step(spread / 4, kpi.unit)
    lo = math.floor((lo - spread * 0.05) / step) * step
    hi = math.ceil((hi + spread * 0.05) / step) * step
    # Never below the KPI's floor (no negative AHT) or above its ceiling (100 %).
    if kpi.min_value is not None:
        lo = max(lo, kpi.min_value)
    if kpi.max_value is not None:
        hi = min(hi, kpi.max_value)
    return lo, max(hi, lo + step), step


def _nice_step(raw: float, unit: str) -> float:
    if unit == Unit.SECONDS:
        return next((s for s in _SECONDS_STEPS if s >= raw), _SECONDS_STEPS[-1])
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


class _Svg:
    """Element helpers; every piece of text goes through `escape`."""

    def __init__(self, width: int, height: int, label: str, lang: str | None = None) -> None:
        title_lang = f' lang="{escape(lang)}"' if lang else ""
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
            f' viewBox="0 0 {width} {height}" role="img" font-family="Helvetica, Arial,'
            f' sans-serif" font-size="11" fill="{INK}">',
            f"<title{title_lang}>{escape(label)}</title>",
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        ]

    def close(self) -> str:
        return "".join([*self.parts, "</svg>"])

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        anchor: str = "start",
        fill: str = INK,
        size: int | None = None,
        weight: str | None = None,
        lang: str | None = None,
    ) -> None:
        extra = (
            (f' font-size="{size}"' if size else "")
            + (f' font-weight="{weight}"' if weight else "")
            + (f' lang="{escape(lang)}"' if lang else "")
        )
        self.parts.append(
            f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f"{escape(content)}</text>"
        )

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: str,
        stroke: str = "",
        opacity: float = 1,
        cls: str = "",
    ) -> None:
        extra = (f' stroke="{stroke}"' if stroke else "") + (f' class="{cls}"' if cls else "")
        extra += f' fill-opacity="{opacity}"' if opacity != 1 else ""
        self.parts.append(
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}"'
            f' fill="{fill}"{extra}/>'
        )

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        stroke: str,
        dash: str = "",
        cls: str = "",
    ) -> None:
        extra = (f' stroke-dasharray="{dash}" stroke-width="1.5"' if dash else "") + (
            f' class="{cls}"' if cls else ""
        )
        self.parts.append(
            f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}"'
            f' stroke="{stroke}"{extra}/>'
        )

    def polyline(self, points: list[tuple[float, float]], *, stroke: str) -> None:
        coords = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        self.parts.append(
            f'<polyline class="series" points="{coords}" fill="none" stroke="{stroke}"'
            ' stroke-width="2" stroke-linejoin="round"/>'
        )

    def point(self, x: float, y: float, *, met: bool, label: str) -> None:
        # Hollow when below target, so the difference survives black-and-white printing.
        fill, stroke = (GOOD, GOOD) if met else ("#ffffff", BAD)
        self.parts.append(
            f'<circle class="point" cx="{_num(x)}" cy="{_num(y)}" r="4" fill="{fill}"'
            f' stroke="{stroke}" stroke-width="2"><title>{escape(label)}</title></circle>'
        )
