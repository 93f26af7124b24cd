"""HTML to PDF rendering with WeasyPrint, locked down for HR records.

What this module guarantees:

* **Nothing is fetched but the app's own static files.** Every URL WeasyPrint wants (images,
  stylesheets, fonts, SVG references, attachments) goes through :class:`StaticFilesURLFetcher`.
  It serves a URL only if it points under ``STATIC_URL`` and the file is found by the
  staticfiles finders or in ``STATIC_ROOT``; ``data:`` URIs are accepted for images. Anything
  else (``file://``, ``http(s)://`` to any other place, ``ftp:``, ...) is refused by raising
  :class:`PdfResourceRefused`; WeasyPrint then logs a warning and leaves the resource out.
  Static files are read from disk: no network request is ever made, even for an absolute
  ``https://.../static/...`` URL. Besides those, it serves the resources the caller made for
  this render and handed over in memory (the KPI chart SVGs of a plan), under
  :func:`resource_url`.
* **Stylesheets are parsed once per process.** A static stylesheet given to :func:`render_pdf`
  by name is parsed on first use and reused by every later render (it is read again only when
  the file changes), rather than fetched and parsed from a ``<link>`` on every render.
* **Rendering has a time limit.** WeasyPrint runs in a worker thread; the calling thread
  waits at most ``timeout_seconds`` and then raises :class:`PdfRenderTimeout`. This works
  the same in a web request thread, a Celery task or a management command (no signals
  involved). Python cannot kill a thread, so a render that overruns is told to stop at its
  next resource fetch and otherwise finishes in the background; the number of renders running
  at once (including overrunning ones) is capped by ``PIP_PDF_MAX_CONCURRENT_RENDERS``.
* **Metadata is set on the rendered document, not through the HTML.** Title, author, subject
  and the caller's custom keys are written onto WeasyPrint's document metadata after layout
  and before the PDF is written, so user text in the HTML can never inject or spoof them.
  Custom keys go into the PDF document information dictionary (see :data:`METADATA_KEYS` and
  :func:`info_name`) and are read back with :func:`metadata_from_info`. The PDF is not
  post-processed afterwards, so it can be signed as it comes out of :func:`render_pdf`.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import queue
import re
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.utils._os import safe_join
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from pipsystem.images import PNG_HEADER_BYTES, PNG_MAGIC, NotAPng, png_dimensions

logger = logging.getLogger(__name__)

#: Origin that stands for "this application" when no other base URL is given. The ``.invalid``
#: top-level domain is reserved and never resolves; it is only ever compared, never requested.
INTERNAL_ORIGIN = "https://pipsystem.invalid"

#: Largest static file or ``data:`` image the renderer accepts.
MAX_RESOURCE_BYTES = 10 * 1024 * 1024
#: Most pixels of a ``data:`` PNG image, read from its header before it is decoded (a few
#: kilobytes of PNG can hold billions of pixels).
MAX_IMAGE_PIXELS = 16_000_000

#: Where the resources handed to one render in memory are found (see :func:`resource_url`).
RESOURCE_PREFIX = INTERNAL_ORIGIN + "/render/"
_RESOURCE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")

#: Well-known custom metadata keys and the name each has in the PDF information dictionary.
#: Other keys are stored as ``Pip`` + CamelCase (``plan_status`` -> ``PipPlanStatus``).
METADATA_KEYS: dict[str, str] = {
    "pip_id": "PipId",
    "version": "PipVersion",
    "content_hash": "PipContentHash",
}

_STANDARD_INFO_NAMES = frozenset(
    {
        "Title",
        "Author",
        "Subject",
        "Keywords",
        "Creator",
        "Producer",
        "CreationDate",
        "ModDate",
        "Trapped",
    }
)
_METADATA_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_INFO_NAME_RE = re.compile(r"^Pip[A-Z0-9][A-Za-z0-9]*$")


class PdfRenderError(Exception):
    """The PDF could not be rendered."""


class PdfRenderTimeout(PdfRenderError):
    """Rendering did not finish within the time limit."""


class PdfRendererBusy(PdfRenderTimeout):
    """Too many renders were already running to start this one within the time limit."""


class PdfResourceRefused(ValueError):
    """The renderer was asked for a resource that is not one of the app's static files."""


# ---------------------------------------------------------------------------------------------
# Metadata names


def info_name(key: str) -> str:
    """Return the PDF information-dictionary name a custom metadata ``key`` is stored under."""
    if not _METADATA_KEY_RE.match(key):
        raise ValueError(
            f"Metadata key {key!r} must be lower-case letters, digits and underscores, "
            "starting with a letter"
        )
    if key in METADATA_KEYS:
        return METADATA_KEYS[key]
    return "Pip" + "".join(part[:1].upper() + part[1:] for part in key.split("_") if part)


def metadata_from_info(info: Mapping[str, object]) -> dict[str, str]:
    """Map a PDF information dictionary back to the custom keys given to :func:`render_pdf`.

    ``info`` may use plain names (``"PipId"``) or PDF names (``"/PipId"``); standard entries
    such as Title or Producer are ignored.
    """
    reverse = {name: key for key, name in METADATA_KEYS.items()}
    result: dict[str, str] = {}
    for raw_name, value in info.items():
        name = str(raw_name).lstrip("/")
        if name in reverse:
            result[reverse[name]] = str(value)
        elif _INFO_NAME_RE.match(name):
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name[3:]).lower()
            result.setdefault(snake, str(value))
    return result


def _custom_info(metadata: Mapping[str, object] | None) -> dict[str, str]:
    info: dict[str, str] = {}
    for key, value in (metadata or {}).items():
        if value is None:
            continue
        name = info_name(key)
        if name in info or name in _STANDARD_INFO_NAMES:
            raise ValueError(f"Metadata key {key!r} clashes with another key ({name})")
        info[name] = str(value)
    return info


# ---------------------------------------------------------------------------------------------
# URL fetcher


def _static_path_prefix() -> str:
    """The path part of STATIC_URL, with leading and trailing slashes ("/static/")."""
    path = urlsplit(settings.STATIC_URL or "/static/").path or "/static/"
    return "/" + path.strip("/") + "/" if path.strip("/") else "/"


def default_base_url() -> str:
    """Base URL used when the caller gives none: relative URLs resolve under STATIC_URL."""
    return INTERNAL_ORIGIN + _static_path_prefix()


def resource_url(name: str) -> str:
    """The URL under which a render finds the in-memory resource ``name`` (lower-case letters,
    digits, ``.``, ``_`` and ``-``), as given to :meth:`StaticFilesURLFetcher.add_resource`."""
    if not _RESOURCE_NAME_RE.match(name):
        raise ValueError(f"not a resource name: {name!r}")
    return RESOURCE_PREFIX + name


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    return None


class StaticFilesURLFetcher(URLFetcher):
    """WeasyPrint URL fetcher that serves only the app's static files and image ``data:`` URIs.

    A URL is served when it starts with one of the static prefixes: the internal origin, the
    site's own origin (``SITE_URL``) or the origin of the ``base_url`` given to
    :func:`render_pdf`, each followed by STATIC_URL's path, or STATIC_URL itself when that is
    absolute. The file is looked up with the staticfiles finders, then in ``STATIC_ROOT``.
    Every other URL raises :class:`PdfResourceRefused`.

    Resources made for one render (a chart drawn for this copy) are added with
    :meth:`add_resource` and served from memory under :func:`resource_url`.

    ``served`` and ``refused`` record the URLs asked for, for logging and tests. ``cancelled``
    is set when the caller gave up waiting; further fetches then stop the render.
    """

    def __init__(self, base_url: str | None = None) -> None:
        super().__init__(allowed_protocols=())
        self.resources: dict[str, tuple[bytes, str]] = {}
        self.served: list[str] = []
        self.refused: list[str] = []
        self.cancelled = threading.Event()
        static_path = _static_path_prefix()
        origins = {INTERNAL_ORIGIN}
        for url in (getattr(settings, "SITE_URL", ""), base_url or ""):
            origin = _origin(url)
            if origin:
                origins.add(origin)
        prefixes = {origin + static_path for origin in origins}
        static_url = settings.STATIC_URL or ""
        if _origin(static_url):
            prefixes.add(static_url if static_url.endswith("/") else static_url + "/")
        self.static_prefixes: tuple[str, ...] = tuple(sorted(prefixes, key=len, reverse=True))

    def cancel(self) -> None:
        self.cancelled.set()

    def add_resource(self, name: str, body: bytes, content_type: str) -> str:
        """Serve ``body`` to this render under :func:`resource_url` (``name``); returns it."""
        url = resource_url(name)
        if len(body) > MAX_RESOURCE_BYTES:
            raise ValueError(f"resource {name!r} is too large ({len(body)} bytes)")
        self.resources[url] = (body, content_type)
        return url

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        if self.cancelled.is_set():
            raise FatalURLFetchingError("PDF rendering was cancelled (time limit exceeded)")
        try:
            if url[:5].lower() == "data:":
                response = self._fetch_data_uri(url)
            elif url in self.resources:
                body, content_type = self.resources[url]
                response = URLFetcherResponse(
                    url=url, body=body, headers={"Content-Type": content_type}
                )
            else:
                response = self._fetch_static(url)
        except PdfResourceRefused as exc:
            self.refused.append(url)
            logger.warning("PDF renderer refused %s: %s", _shorten(url), exc)
            raise
        self.served.append(url)
        return response

    def open(self, url, data=None, timeout=None):  # type: ignore[override]
        raise PdfResourceRefused("direct URL opening is not allowed in the PDF renderer")

    def _fetch_static(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        bare = parts._replace(query="", fragment="").geturl()
        prefix = next((p for p in self.static_prefixes if bare.startswith(p)), None)
        if prefix is None:
            raise PdfResourceRefused("only the application's static files may be used")
        relative = unquote(bare[len(prefix) :])
        segments = relative.split("/")
        if (
            not relative
            or "\\" in relative
            or "\x00" in relative
            or any(segment in ("", ".", "..") for segment in segments)
        ):
            raise PdfResourceRefused("not a valid static file path")
        path = self._find(relative)
        if path is None:
            raise PdfResourceRefused(f"no static file {relative!r}")
        size = path.stat().st_size
        if size > MAX_RESOURCE_BYTES:
            raise PdfResourceRefused(f"static file {relative!r} is too large ({size} bytes)")
        content_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url=bare, body=path.read_bytes(), headers={"Content-Type": content_type}
        )

    @staticmethod
    def _find(relative: str) -> Path | None:
        try:
            found = finders.find(relative)
        except SuspiciousFileOperation:
            return None
        if isinstance(found, list):  # pragma: no cover - only with find_all=True
            found = found[0] if found else None
        if found and Path(found).is_file():
            return Path(found)
        static_root = getattr(settings, "STATIC_ROOT", None)
        if static_root:
            try:
                candidate = Path(safe_join(str(static_root), relative))
            except SuspiciousFileOperation:
                return None
            if candidate.is_file():
                return candidate
        return None

    @staticmethod
    def _fetch_data_uri(url: str) -> URLFetcherResponse:
        header, comma, payload = url[5:].partition(",")
        if not comma:
            raise PdfResourceRefused("malformed data: URI")
        params = [p.strip().lower() for p in header.split(";")]
        media_type = params[0] or "text/plain"
        if not media_type.startswith("image/"):
            raise PdfResourceRefused(f"data: URIs are accepted for images only, not {media_type}")
        if len(payload) > MAX_RESOURCE_BYTES * 2:
            raise PdfResourceRefused("data: URI is too large")
        raw = unquote_to_bytes(payload)
        if "base64" in params[1:]:
            try:
                raw = base64.b64decode(raw)
            except ValueError as exc:
                raise PdfResourceRefused("invalid base64 in data: URI") from exc
        if len(raw) > MAX_RESOURCE_BYTES:
            raise PdfResourceRefused("data: URI is too large")
        if media_type == "image/png" or raw.startswith(PNG_MAGIC):
            try:
                width, height = png_dimensions(raw[:PNG_HEADER_BYTES])
            except NotAPng as exc:
                raise PdfResourceRefused("data: URI is not a readable PNG image") from exc
            if width * height > MAX_IMAGE_PIXELS:
                raise PdfResourceRefused(
                    f"data: image of {width} × {height} pixels is over {MAX_IMAGE_PIXELS:,}"
                )
        return URLFetcherResponse(url=url, body=raw, headers={"Content-Type": media_type})


def _shorten(url: str, limit: int = 120) -> str:
    return url if len(url) <= limit else url[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# Rendering

_slots_lock = threading.Lock()
_slots: threading.BoundedSemaphore | None = None


def _render_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            size = int(getattr(settings, "PIP_PDF_MAX_CONCURRENT_RENDERS", 4))
            _slots = threading.BoundedSemaphore(max(1, size))
        return _slots


# Font configurations not in use by a render. Reusing one keeps Pango's loaded fonts and
# shaping caches from one render to the next (about a third of a plan's render time); each is
# used by one render at a time, so no font map is shared between threads. There are never more
# than the render slots, plus the renders that overran their time limit.
_font_configs: queue.SimpleQueue[FontConfiguration] = queue.SimpleQueue()


_stylesheets_lock = threading.Lock()
_stylesheets: dict[str, tuple[tuple[int, int], CSS]] = {}


def static_stylesheet(path: str) -> CSS:
    """The static stylesheet ``path`` (``"css/print.css"``), parsed once and reused by every
    render until the file changes. Its ``@import`` and ``url()`` references go through a
    :class:`StaticFilesURLFetcher` like everything else. A parsed stylesheet is only read by
    the renders that use it, so threads share it."""
    found = StaticFilesURLFetcher._find(path)
    if found is None:
        raise PdfRenderError(f"no static stylesheet {path!r}")
    stat = found.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _stylesheets_lock:
        cached = _stylesheets.get(path)
        if cached is None or cached[0] != stamp:
            sheet = CSS(
                string=found.read_text(encoding="utf-8"),
                base_url=default_base_url() + path,
                url_fetcher=StaticFilesURLFetcher(),
            )
            cached = _stylesheets[path] = (stamp, sheet)
    return cached[1]


class _Outcome:
    pdf: bytes | None = None
    error: BaseException | None = None


def _w3c_now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _render(
    html: str,
    *,
    base_url: str,
    fetcher: StaticFilesURLFetcher,
    stylesheets: list[CSS],
    title: str | None,
    author: str | None,
    subject: str | None,
    keywords: list[str] | None,
    custom: dict[str, str],
) -> bytes:
    try:
        font_config = _font_configs.get_nowait()
    except queue.Empty:
        font_config = FontConfiguration()
    try:
        return _render_with(
            html,
            base_url=base_url,
            fetcher=fetcher,
            font_config=font_config,
            stylesheets=stylesheets,
            title=title,
            author=author,
            subject=subject,
            keywords=keywords,
            custom=custom,
        )
    finally:
        _font_configs.put(font_config)


def _render_with(
    html: str,
    *,
    base_url: str,
    fetcher: StaticFilesURLFetcher,
    font_config: FontConfiguration,
    stylesheets: list[CSS],
    title: str | None,
    author: str | None,
    subject: str | None,
    keywords: list[str] | None,
    custom: dict[str, str],
) -> bytes:
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        font_config=font_config, stylesheets=stylesheets
    )
    meta = document.metadata
    if title is not None:
        meta.title = title
    if author is not None:
        meta.authors = [author]
    if subject is not None:
        meta.description = subject
    if keywords is not None:
        meta.keywords = list(keywords)
    meta.generator = getattr(settings, "SITE_NAME", None) or "pipsystem"
    meta.created = meta.created or _w3c_now()
    # Only the caller's keys: <meta name=...> tags from the HTML are not copied into the PDF.
    meta.custom = dict(custom)
    meta.attachments = []
    # Tagged PDF/UA-1: a structure tree (headings, tables, lists), the language of the HTML
    # (lang), the title shown by readers, so screen readers can read the copy.
    return document.write_pdf(custom_metadata=True, pdf_variant="pdf/ua-1")


def render_pdf(
    html: str,
    *,
    base_url: str | None = None,
    timeout_seconds: float = 20,
    title: str | None = None,
    author: str | None = None,
    subject: str | None = None,
    keywords: list[str] | None = None,
    metadata: Mapping[str, object] | None = None,
    url_fetcher: StaticFilesURLFetcher | None = None,
    stylesheets: Sequence[str] = (),
    resources: Mapping[str, tuple[bytes, str]] | None = None,
) -> bytes:
    """Render ``html`` to PDF bytes.

    ``base_url`` resolves relative URLs; by default they resolve under STATIC_URL, so
    ``{% static %}`` output and paths like ``pips/pdf.css`` both work. ``title`` and ``author``
    override the HTML's ``<title>``; ``metadata`` holds custom keys (``pip_id``, ``version``,
    ``content_hash``, ...) written into the PDF information dictionary, values turned into
    strings, ``None`` values left out.

    Raises :class:`PdfRenderTimeout` (or its subclass :class:`PdfRendererBusy`) when the PDF is
    not ready within ``timeout_seconds``, :class:`PdfRenderError` when WeasyPrint fails and
    ``ValueError`` for bad metadata keys.

    ``stylesheets`` are static file paths (``"css/print.css"``), applied after the document's
    own styles and parsed once per process (see :func:`static_stylesheet`). ``resources`` maps
    names to ``(body, content type)`` pairs that the HTML refers to by :func:`resource_url`.
    """
    if timeout_seconds <= 0:
        raise ValueError("timeout_seconds must be positive")
    if url_fetcher is not None and not isinstance(url_fetcher, StaticFilesURLFetcher):
        raise TypeError("url_fetcher must be a StaticFilesURLFetcher")
    custom = _custom_info(metadata)
    fetcher = url_fetcher or StaticFilesURLFetcher(base_url=base_url)
    for name, (body, content_type) in (resources or {}).items():
        fetcher.add_resource(name, body, content_type)
    sheets = [static_stylesheet(path) for path in stylesheets]
    effective_base = urljoin(default_base_url(), base_url) if base_url else default_base_url()

    deadline = time.monotonic() + timeout_seconds
    slots = _render_slots()
    if not slots.acquire(timeout=timeout_seconds):
        raise PdfRendererBusy(
            f"PDF renderer busy: no free render slot within {timeout_seconds:g} s"
        )

    outcome = _Outcome()
    finished = threading.Event()

    def work() -> None:
        try:
            outcome.pdf = _render(
                html,
                base_url=effective_base,
                fetcher=fetcher,
                stylesheets=sheets,
                title=title,
                author=author,
                subject=subject,
                keywords=keywords,
                custom=custom,
            )
        except BaseException as exc:  # handed over to the waiting thread
            outcome.error = exc
        finally:
            slots.release()
            finished.set()

    worker = threading.Thread(target=work, name="pdf-render", daemon=True)
    worker.start()
    if not finished.wait(max(0.0, deadline - time.monotonic())):
        fetcher.cancel()
        logger.warning("PDF render exceeded %g s and was abandoned", timeout_seconds)
        raise PdfRenderTimeout(f"PDF rendering took longer than {timeout_seconds:g} s")

    if outcome.error is not None or outcome.pdf is None:
        raise PdfRenderError(f"PDF rendering failed: {outcome.error}") from outcome.error
    return outcome.pdf
