from __future__ import annotations

import base64
import io
import threading
import time
from pathlib import Path

import pytest
from django.utils.html import escape
from PIL import Image
from pypdf import PdfReader
from weasyprint.urls import URLFetcher

from pipsystem import pdfrender
from pipsystem.pdfrender import (
    PdfRendererBusy,
    PdfRenderTimeout,
    StaticFilesURLFetcher,
    metadata_from_info,
    render_pdf,
)


def _png_bytes(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buffer, format="PNG")
    return buffer.getvalue()


def _page_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _image_count(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def static_dir(tmp_path: Path, settings) -> Path:
    """A static directory of our own with an image and a stylesheet under pdf-test/."""
    root = tmp_path / "static"
    (root / "pdf-test").mkdir(parents=True)
    (root / "pdf-test" / "dot.png").write_bytes(_png_bytes())
    (root / "pdf-test" / "print.css").write_text(
        'h1::after { content: " [styled]"; }\n'
        ".badge { background-image: url(dot.png); width: 16px; height: 16px; }\n"
    )
    settings.STATICFILES_DIRS = [root]
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.STATIC_URL = "/static/"
    return root


@pytest.fixture
def base_fetcher_calls(monkeypatch) -> list[str]:
    """Records any call to WeasyPrint's own (network- and file-capable) fetcher."""
    calls: list[str] = []

    def spy(self, url, headers=None):
        calls.append(url)
        raise OSError("the default fetcher must never be used")

    monkeypatch.setattr(URLFetcher, "fetch", spy)
    return calls


def test_renders_text_title_and_metadata():
    pdf = render_pdf(
        "<html><head><title>From HTML</title></head>"
        "<body><h1>Performance Improvement Plan</h1><p>Agent: Ana Silva</p></body></html>",
        title="PIP #42 - Ana Silva",
        author="Contact Center HR",
        metadata={"pip_id": 42, "version": 3, "content_hash": "ab" * 32, "unused": None},
    )
    assert pdf.startswith(b"%PDF-")
    text = _page_text(pdf)
    assert "Performance Improvement Plan" in text
    assert "Ana Silva" in text

    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info.title == "PIP #42 - Ana Silva"
    assert info.author == "Contact Center HR"
    assert info["/PipId"] == "42"
    assert info["/PipVersion"] == "3"
    assert info["/PipContentHash"] == "ab" * 32
    assert "/PipUnused" not in info
    assert metadata_from_info(info) == {"pip_id": "42", "version": "3", "content_hash": "ab" * 32}


def test_html_title_used_and_html_meta_tags_not_copied():
    pdf = render_pdf(
        '<html><head><title>Plan 7</title><meta name="PipId" content="999">'
        '<meta name="pip_id" content="999"></head><body>x</body></html>',
        metadata={"pip_id": 7, "plan_status": "active"},
    )
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info.title == "Plan 7"
    assert info["/PipId"] == "7"
    assert metadata_from_info(info) == {"pip_id": "7", "plan_status": "active"}
    assert "999" not in str(dict(info))


@pytest.mark.parametrize("key", ["PipId", "pip-id", "1st", "", "pip id"])
def test_bad_metadata_keys_rejected(key):
    with pytest.raises(ValueError, match="Metadata key"):
        render_pdf("<p>x</p>", metadata={key: "1"})


def test_clashing_metadata_keys_rejected():
    with pytest.raises(ValueError, match="clashes"):
        render_pdf("<p>x</p>", metadata={"pip_id": "1", "id": "2"})


def test_escaped_script_appears_as_text():
    user_text = "<script>alert('owned')</script> & <b>bold</b>"
    pdf = render_pdf(f"<p>Comment: {escape(user_text)}</p>")
    text = _page_text(pdf)
    assert "<script>alert('owned')</script>" in text
    assert "<b>bold</b>" in text


def test_local_files_and_remote_urls_are_refused(base_fetcher_calls):
    fetcher = StaticFilesURLFetcher()
    refused_urls = [
        "file:///etc/passwd",
        "http://example.com/logo.png",
        "https://example.com/logo.png",
        "ftp://example.com/logo.png",
        "/etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/../../etc/passwd",
        "//example.com/static/logo.png",
    ]
    images = "".join(f'<img src="{url}">' for url in refused_urls)
    html = (
        '<html><head><link rel="stylesheet" href="https://example.com/evil.css">'
        '<style>@import url("file:///etc/hostname");</style></head>'
        f"<body><p>Plan</p>{images}"
        '<img src="data:text/html;base64,PGgxPng8L2gxPg==">'
        '<object data="file:///etc/passwd"></object></body></html>'
    )
    pdf = render_pdf(html, url_fetcher=fetcher)

    assert fetcher.served == []
    assert "file:///etc/passwd" in fetcher.refused
    assert "http://example.com/logo.png" in fetcher.refused
    assert "https://example.com/logo.png" in fetcher.refused
    assert "https://example.com/evil.css" in fetcher.refused
    assert "file:///etc/hostname" in fetcher.refused
    assert any(url.startswith("data:text/html") for url in fetcher.refused)
    assert not any("pipsystem.invalid/static/" in url and "passwd" in url for url in fetcher.served)
    assert base_fetcher_calls == []  # WeasyPrint's own fetcher was never reached
    assert _image_count(pdf) == 0
    assert "root:" not in _page_text(pdf)


def test_static_files_are_served(static_dir, base_fetcher_calls):
    fetcher = StaticFilesURLFetcher()
    html = (
        '<html><head><link rel="stylesheet" href="/static/pdf-test/print.css"></head>'
        '<body><h1>Plan</h1><img src="pdf-test/dot.png"><div class="badge"></div></body></html>'
    )
    pdf = render_pdf(html, url_fetcher=fetcher)

    assert fetcher.refused == []
    assert "https://pipsystem.invalid/static/pdf-test/print.css" in fetcher.served
    assert "https://pipsystem.invalid/static/pdf-test/dot.png" in fetcher.served
    assert "[styled]" in _page_text(pdf)  # the stylesheet was applied
    assert _image_count(pdf) >= 1
    assert base_fetcher_calls == []


def test_named_stylesheets_are_parsed_once_and_again_when_the_file_changes(static_dir, monkeypatch):
    parsed: list[str] = []
    real_css = pdfrender.CSS

    def counting_css(*args, **kwargs):
        parsed.append(kwargs.get("base_url", ""))
        return real_css(*args, **kwargs)

    monkeypatch.setattr(pdfrender, "CSS", counting_css)
    html = '<h1>Plan</h1><div class="badge"></div>'
    fetcher = StaticFilesURLFetcher()
    first = render_pdf(html, stylesheets=["pdf-test/print.css"], url_fetcher=fetcher)
    second = render_pdf(html, stylesheets=["pdf-test/print.css"])
    assert "[styled]" in _page_text(first) and "[styled]" in _page_text(second)
    # url(dot.png) in the stylesheet is fetched by the render, through its fetcher.
    assert fetcher.served == ["https://pipsystem.invalid/static/pdf-test/dot.png"]
    assert len(parsed) == 1

    sheet = static_dir / "pdf-test" / "print.css"
    sheet.write_text('h1::after { content: " [restyled, a longer rule]"; }\n')
    third = render_pdf(html, stylesheets=["pdf-test/print.css"])
    assert "[restyled, a longer rule]" in _page_text(third)
    assert len(parsed) == 2


def test_a_missing_named_stylesheet_is_an_error(static_dir):
    with pytest.raises(pdfrender.PdfRenderError, match="no static stylesheet"):
        render_pdf("<p>x</p>", stylesheets=["pdf-test/missing.css"])


def test_resources_given_in_memory_are_served_to_that_render_only(base_fetcher_calls):
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
        b'<text x="2" y="14">Chart label</text></svg>'
    )
    fetcher = StaticFilesURLFetcher()
    url = pdfrender.resource_url("chart-1.svg")
    pdf = render_pdf(
        f'<img src="{url}"><img src="{pdfrender.resource_url("chart-2.svg")}">',
        url_fetcher=fetcher,
        resources={"chart-1.svg": (svg, "image/svg+xml")},
    )
    assert "Chart label" in _page_text(pdf)
    assert fetcher.served == [url]
    assert fetcher.refused == [pdfrender.resource_url("chart-2.svg")]
    # Another render does not see them.
    other = StaticFilesURLFetcher()
    assert "Chart label" not in _page_text(render_pdf(f'<img src="{url}">', url_fetcher=other))
    assert other.refused == [url]
    assert base_fetcher_calls == []


@pytest.mark.parametrize("name", ["../x.svg", "Chart.svg", "", "a/b.svg", "x" * 101])
def test_resource_names_are_plain(name):
    with pytest.raises(ValueError):
        pdfrender.resource_url(name)


def test_absolute_static_urls_of_this_site_are_read_from_disk(static_dir, settings):
    settings.SITE_URL = "https://pips.example.org"
    fetcher = StaticFilesURLFetcher()
    pdf = render_pdf(
        '<img src="https://pips.example.org/static/pdf-test/dot.png">'
        '<img src="https://other.example.org/static/pdf-test/dot.png">',
        url_fetcher=fetcher,
    )
    assert fetcher.served == ["https://pips.example.org/static/pdf-test/dot.png"]
    assert fetcher.refused == ["https://other.example.org/static/pdf-test/dot.png"]
    assert _image_count(pdf) == 1


def test_static_root_is_used_when_finders_do_not_have_the_file(static_dir, settings):
    collected = Path(settings.STATIC_ROOT) / "pdf-test"
    collected.mkdir(parents=True)
    (collected / "collected.png").write_bytes(_png_bytes((0, 0, 200)))
    fetcher = StaticFilesURLFetcher()
    pdf = render_pdf('<img src="/static/pdf-test/collected.png">', url_fetcher=fetcher)
    assert fetcher.served and _image_count(pdf) == 1


def test_data_uri_image_is_allowed():
    encoded = base64.b64encode(_png_bytes()).decode()
    fetcher = StaticFilesURLFetcher()
    pdf = render_pdf(f'<img src="data:image/png;base64,{encoded}">', url_fetcher=fetcher)
    assert fetcher.refused == []
    assert _image_count(pdf) == 1


class SlowFetcher(StaticFilesURLFetcher):
    """Hangs on every fetch until the render is cancelled."""

    def fetch(self, url, headers=None):
        self.cancelled.wait(30)
        return super().fetch(url, headers)


def _wait_for_render_threads(timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(t.name == "pdf-render" and t.is_alive() for t in threading.enumerate()):
            return True
        time.sleep(0.05)
    return False


def test_timeout_fires_for_a_hanging_fetch():
    fetcher = SlowFetcher()
    started = time.monotonic()
    with pytest.raises(PdfRenderTimeout, match="longer than 0.5 s"):
        render_pdf('<img src="/static/anything.png">', timeout_seconds=0.5, url_fetcher=fetcher)
    assert time.monotonic() - started < 3
    assert fetcher.cancelled.is_set()
    # The abandoned render stops at its next fetch instead of running on.
    assert _wait_for_render_threads()


def test_timeout_fires_for_a_pathological_document():
    # A wide table of wrapped cells: about a second of layout, far beyond a tiny limit.
    rows = "".join(
        f"<tr>{''.join(f'<td>cell {r}.{c} with some words</td>' for c in range(12))}</tr>"
        for r in range(30)
    )
    started = time.monotonic()
    with pytest.raises(PdfRenderTimeout):
        render_pdf(f"<table>{rows}</table>", timeout_seconds=0.05)
    assert time.monotonic() - started < 0.5
    # Layout cannot be interrupted; the abandoned render finishes in the background.
    assert _wait_for_render_threads(timeout=30)


def test_busy_renderer_gives_up_within_the_time_limit(monkeypatch):
    full = threading.BoundedSemaphore(1)
    full.acquire()
    monkeypatch.setattr(pdfrender, "_slots", full)
    with pytest.raises(PdfRendererBusy):
        render_pdf("<p>x</p>", timeout_seconds=0.2)


def test_render_timeout_works_off_the_main_thread():
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["pdf"] = render_pdf("<p>in a request thread</p>", timeout_seconds=10)
        except Exception as exc:  # pragma: no cover - reported below
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert "error" not in result
    assert "in a request thread" in _page_text(result["pdf"])  # type: ignore[arg-type]


def test_only_static_fetchers_accepted():
    with pytest.raises(TypeError):
        render_pdf("<p>x</p>", url_fetcher=URLFetcher())  # type: ignore[arg-type]
