"""The PDF renderer cannot be made to hold the server: a render runs in a process of its own
that is killed at the time limit (nothing keeps running after the "try again" page), one copy
is rendered by one request at a time (the others wait for it and get the stored copy), and a
copy that failed is not rendered again for a while (every retry would otherwise start again).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
import time
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from pips.printing import seal as printing
from pipsystem import pdfrender
from pipsystem.pdfrender import PdfRenderError, PdfRenderTimeout, render_pdf
from tests.pips.png_support import data_url, png

SLOW_HTML = "<p>" + "an endless description of the same concern " * 60_000 + "</p>"


def children() -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(pid) for pid in text]
    return found


def test_a_render_over_its_limit_is_killed_and_leaves_nothing_running():
    before = children()
    started = time.monotonic()
    with pytest.raises(PdfRenderTimeout):
        render_pdf(SLOW_HTML, timeout_seconds=1)
    assert time.monotonic() - started < 2.5
    # Nothing of the render is left: no process, no thread burning this process's CPU.
    assert children() == before
    assert not [t for t in threading.enumerate() if t.name == "pdf-render"]
    cpu = time.process_time()
    time.sleep(1.5)
    assert time.process_time() - cpu < 0.3


def test_a_render_within_its_limit_gives_the_pdf():
    pdf = render_pdf("<h1>Plan</h1><p>Short.</p>", timeout_seconds=20, title="Plan")
    assert pdf.startswith(b"%PDF-")


def test_a_failing_render_says_why_from_its_process(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the layout engine gave up")

    monkeypatch.setattr(pdfrender, "_render_with", broken)
    with pytest.raises(PdfRenderError, match="failed: RuntimeError: the layout engine gave up"):
        render_pdf("<p>x</p>", timeout_seconds=20)
    assert children() == []


@pytest.fixture
def active_plan(make_plan, alex, harper):
    return make_plan(alex, "active", hr=harper)


@pytest.fixture
def counted_renders(monkeypatch):
    """Counts the renders of a copy (each a second long, as a real one can be)."""
    calls: list[int] = []
    real = printing.signed_pdf

    def counted(**kwargs):
        calls.append(1)
        time.sleep(1)
        return real(**kwargs)

    monkeypatch.setattr(printing, "signed_pdf", counted)
    return calls


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_requests_for_one_copy_render_it_once(postgres, active_plan, signing, counted_renders):
    version = active_plan.current_version
    results: list[printing.PdfCopy] = []
    errors: list[BaseException] = []

    def fetch():
        try:
            results.append(printing.stored_copy(pip=active_plan, version=version))
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(counted_renders) == 1
    assert len({copy.name for copy in results}) == 1
    assert sorted(copy.rendered for copy in results) == [False, False, True]


@pytest.mark.django_db
def test_a_copy_that_failed_is_not_rendered_again_for_a_while(
    active_plan, signing, monkeypatch, settings
):
    settings.PIP_PDF_FAILURE_RETRY_SECONDS = 600
    calls: list[int] = []

    def failing(**kwargs):
        calls.append(1)
        raise PdfRenderTimeout("PDF rendering took longer than 20 s")

    monkeypatch.setattr(printing, "signed_pdf", failing)
    version = active_plan.current_version
    with pytest.raises(PdfRenderTimeout):
        printing.stored_copy(pip=active_plan, version=version)
    for _ in range(5):
        with pytest.raises(PdfRenderTimeout, match="failed .* ago"):
            printing.stored_copy(pip=active_plan, version=version)
    assert len(calls) == 1
    later = timezone.now() + dt.timedelta(seconds=601)
    with time_machine.travel(later), pytest.raises(PdfRenderTimeout):
        printing.stored_copy(pip=active_plan, version=version)
    assert len(calls) == 2


@pytest.mark.django_db
def test_the_download_page_answers_503_at_once_while_a_failure_is_remembered(
    client, active_plan, sam, signing, monkeypatch
):
    calls: list[int] = []

    def failing(**kwargs):
        calls.append(1)
        raise PdfRenderTimeout("PDF rendering took longer than 20 s")

    monkeypatch.setattr(printing, "signed_pdf", failing)
    client.force_login(sam)
    url = f"/pips/{active_plan.pk}/pdf/"
    first = client.get(url)
    assert first.status_code == 503
    started = time.monotonic()
    again = client.get(url)
    assert time.monotonic() - started < 1
    assert again.status_code == 503
    assert 0 < int(again["Retry-After"]) <= 600
    assert len(calls) == 1


def test_an_image_of_too_many_pixels_is_left_out_of_the_pdf():
    """A drawn signature stored before the limit on signatures (or any other data: image):
    refused by the renderer from its header, never decoded."""
    started = time.monotonic()
    huge = data_url(png(13_000, 13_000))
    fine = data_url(png(400, 100))
    pdf = render_pdf(f'<p>Signed</p><img src="{huge}"><img src="{fine}">', timeout_seconds=20)
    assert time.monotonic() - started < 5
    images = sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert images == 1
