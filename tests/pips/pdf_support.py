"""Helpers shared by the PDF tests: a drawn signature, KPI data and a plan walked to its
midpoint, and ways to read a PDF back. The fixtures (`signing`, `rich_plan`) are in conftest."""

from __future__ import annotations

import base64
import datetime as dt
import io
import math
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw
from pypdf import PdfReader

from metrics import rollups
from metrics.models import Kpi, Sample
from pips import services
from pips.models import Pip, Review
from pips.services import CheckInInput, ReviewItemInput


def signature_png() -> str:
    """A drawn signature as signature_pad sends it: a data: URL of a PNG with a scribble."""
    image = Image.new("RGBA", (360, 120), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    points = [(20 + 16 * i, 70 + int(28 * math.sin(i / 1.7)) - i) for i in range(21)]
    draw.line(points, fill=(20, 30, 90, 255), width=4, joint="curve")
    draw.line([(40, 95), (320, 88)], fill=(20, 30, 90, 255), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def add_samples(employee_id: str, start: dt.date, end: dt.date) -> None:
    """Weekday samples of every KPI, slowly improving."""
    rows = []
    kpis = list(Kpi.objects.all())
    day, n = start, 0
    while day <= end:
        if day.weekday() < 5:
            for kpi in kpis:
                base = {"qa_score": 74, "aht": 400, "csat": 72, "adherence": 86, "fcr": 65}.get(
                    kpi.code, 80
                )
                # Still below every target at the end, so the plan's targets make sense.
                step = -0.8 if kpi.lower_is_better else 0.1
                wobble = (-1) ** n * (3 if kpi.lower_is_better else 0.8)
                rows.append(
                    Sample(
                        employee_id=employee_id,
                        kpi=kpi,
                        date=day,
                        value=round(base + step * n + wobble, 1),
                        weight=30,
                    )
                )
            n += 1
        day += dt.timedelta(days=1)
    Sample.objects.bulk_create(rows)
    rollups.rebuild()  # written beside the loader: the weekly totals too


def walk_to_midpoint(pip: Pip, *, supervisor, checkins: int = 2) -> Pip:
    """Record check-ins (with a support session and a KPI snapshot), an employee comment and
    the midpoint review on an active plan."""
    version = pip.current_version
    actions = list(version.actions.all())
    expectations = list(version.expectations.all())
    for week in range(checkins):
        held_on = version.period_start + dt.timedelta(days=7 * (week + 1))
        checkin = services.checkin_record(
            actor=supervisor,
            pip=pip,
            data=CheckInInput(
                held_on=held_on,
                attendees="Sam Carter, Alex Rivera",
                notes=f"Week {week + 1}: went through five QA evaluations together.",
                coaching_done="Call opening and hold etiquette.",
                next_steps="Use the call flow checklist on every call.",
                action_statuses={actions[0].pk: "in_progress"},
                sessions_held={actions[0].pk: [held_on - dt.timedelta(days=3), held_on]},
            ),
            snapshot=[
                {
                    "expectation": e.pk,
                    "area": e.area,
                    "name": e.kpi.name,
                    "value": 78.5 + week,
                    "formatted": e.kpi.format_value(78.5 + week if e.kpi.code != "aht" else 370),
                    "standard": e.standard_display(),
                    "met": False,
                }
                for e in expectations
                if e.kpi
            ],
        )
    services.checkin_agent_comment(
        actor=pip.agent.user, checkin=checkin, comment="The shadowing helped a lot."
    )
    review, _ = services.review_open(pip=pip, kind=Review.Kind.MIDPOINT)
    services.midpoint_record(
        actor=supervisor,
        review=review,
        summary="QA and adherence improving; AHT still above target.",
        items=[
            ReviewItemInput(
                expectation_id=e.pk,
                confirmed=e.kpi is None or e.kpi.code != "aht",
                evidence="Weekly QA and WFM reports",
                adjustment="Extra AHT coaching" if e.kpi and e.kpi.code == "aht" else "",
            )
            for e in expectations
        ],
        suggestions={e.pk: (80.0, True) for e in expectations if e.kpi},
    )
    return Pip.objects.get(pk=pip.pk)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdftotext(data: bytes, tmp_path: Path) -> str:
    """poppler's reading of the text, with the layout kept (when poppler is installed)."""
    if shutil.which("pdftotext") is None:
        return pdf_text(data)
    path = tmp_path / "copy.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


def page_images(data: bytes, directory: Path, resolution: int = 60) -> list[Path]:
    """Each page as a PNG (poppler's pdftoppm), to look at."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("page-*.png"):
        old.unlink()
    (directory / "copy.pdf").write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(resolution), str(directory / "copy.pdf"), "page"],
        cwd=directory,
        check=True,
        timeout=120,
    )
    return sorted(directory.glob("page-*.png"))
