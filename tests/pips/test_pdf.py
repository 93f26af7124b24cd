"""The print copy of a plan version: what it shows, its signature, its stored copy, and the
check of an uploaded copy against the record."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from PIL import Image
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from pips import services
from pips.content import content_from_version, content_hash
from pips.models import AuditEvent, Pip, Reason, SignerRole
from pips.printing import render, seal, verify
from pips.selectors import version_with_sections
from pips.services import CheckInInput, RequestMeta, SignatureInput
from pipsystem import pdfsign
from pipsystem.pdfrender import StaticFilesURLFetcher, render_pdf
from tests.pips.pdf_support import page_images, pdf_text, pdftotext, walk_to_midpoint

# The shared fixtures.

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

HEADINGS = [
    "1. Reason for Performance Improvement Plan",
    "2. Performance Expectations",
    "3. Improvement Action Plan",
    "4. Monitoring and Evaluation",
    "5. Expected Outcomes & Consequences",
    "6. Acknowledgment",
]
HOSTILE = (
    '<img src="file:///etc/passwd"> <img src="https://tracker.example.com/pixel.png"> '
    '<link rel="stylesheet" href="http://evil.example.com/x.css"> <script>alert(1)</script>'
)


def _copy(pip: Pip, version=None, **kwargs) -> bytes:
    version = version_with_sections((version or pip.current_version).pk)
    return seal.signed_pdf(pip=pip, version=version, **kwargs)


def _flat(text: str) -> str:
    """Text with line breaks and runs of spaces collapsed, to find phrases that wrap."""
    return " ".join(text.split())


def _flip(data: bytes, at: int) -> bytes:
    tampered = bytearray(data)
    tampered[at] ^= 0x01
    return bytes(tampered)


# --- what the copy shows -----------------------------------------------------------------------


def test_copy_has_every_section_heading_and_row_in_order(rich_plan, signing, tmp_path):
    data = _copy(rich_plan)
    text = _flat(pdf_text(data))
    positions = [text.find(heading) for heading in HEADINGS]
    assert all(p >= 0 for p in positions), positions
    assert positions == sorted(positions)
    version = rich_plan.current_version
    for expectation in version.expectations.all():
        assert expectation.area in text
        assert expectation.improvement_needed in text
    for action in version.actions.all():
        assert action.action in text
        assert action.responsible in text
    for reason in version.reasons.all():
        assert reason.text in text
    for label in [
        "Employee Name",
        "Employee ID",
        "E1001",
        "Department/Team",
        "Job Title",
        "Contact Center Agent",
        "Supervisor/Manager",
        "Date of PIP Issuance",
        "Review Period",
    ]:
        assert label in text
    # The check-in log and the review, then the audit certificate last.
    assert "Appendix A. Check-in log" in text
    assert "Week 2: went through five QA evaluations together." in text
    assert "The shadowing helped a lot." in text
    assert "Appendix B. Reviews" in text
    assert "QA and adherence improving; AHT still above target." in text
    assert "Extra AHT coaching" in text
    last_page = PdfReader(io.BytesIO(data)).pages[-1].extract_text()
    assert "Audit certificate" in last_page
    # poppler reads the same document.
    assert "6. Acknowledgment" in pdftotext(data, tmp_path)


def test_every_page_has_the_running_header_and_footer(rich_plan, signing):
    pages = PdfReader(io.BytesIO(_copy(rich_plan))).pages
    digest = content_hash(version_with_sections(rich_plan.current_version_id))
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        text = _flat(page.extract_text())
        assert "Confidential — Performance Improvement Plan" in text
        assert f"Alex Rivera · {rich_plan.reference} · version 1" in text
        assert f"Page {number} of {len(pages)}" in text
        assert digest in text.replace(" ", "")


def test_signature_blocks_show_names_dates_images_and_validity(rich_plan, signing):
    data = _copy(rich_plan)
    text = _flat(pdf_text(data))
    ack = text[text.find("6. Acknowledgment") : text.find("Appendix A. Check-in log")]
    for role in ["EMPLOYEE", "MANAGER", "HR REPRESENTATIVE"]:
        assert role in ack.upper()
    for name in ["Alex Rivera", "Sam Carter", "Harper Lee"]:
        assert name in ack
    assert ack.count("Valid: content unchanged since signing") == 3
    assert "Disagrees with the plan" in ack
    assert "I disagree with the AHT target" in ack
    assert "Date: " in ack
    # The employee's drawn signature is embedded as an image.
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages) >= 1


def test_signature_shown_invalid_when_the_content_no_longer_matches(rich_plan, signing):
    version = rich_plan.current_version
    # Changed behind the services' back: the signatures no longer match the content.
    Reason.objects.filter(version=version).update(text="A reason nobody signed")
    text = _flat(pdf_text(_copy(rich_plan)))
    assert text.count("Not valid: the content changed after signing") == 3
    assert "Valid: content unchanged" not in text


def test_refusal_is_shown_with_its_witness(make_plan, alex, harper, sam, signing):
    pip = make_plan(alex, "issued", hr=harper)
    services.refusal_record(
        actor=sam, pip=pip, witness=harper, note="Alex left the meeting without signing."
    )
    text = _flat(pdf_text(_copy(pip)))
    assert "Refused to sign" in text
    assert "Witness: Harper Lee" in text
    assert "Recorded against this content" in text
    assert "Alex left the meeting without signing." in text
    assert "Not signed yet" in text  # HR has not countersigned


def test_draft_copy_says_it_is_a_draft_without_signatures(make_plan, alex, signing):
    pip = make_plan(alex, "draft")
    text = _flat(pdf_text(_copy(pip)))
    assert "Draft, not issued" in text
    assert "Not issued yet" in text
    assert text.count("Not signed yet") == 3
    assert "No check-ins have been recorded yet." in text
    assert "No reviews have been opened yet." in text


def test_kpi_charts_are_the_plan_pages_svg_with_the_weekly_series(rich_plan, signing):
    version = version_with_sections(rich_plan.current_version_id)
    html = render.print_html(pip=rich_plan, version=version, current_hash=content_hash(version))
    linked = [e for e in version.expectations.all() if e.kpi_id]
    charts = render.kpi_charts(version, until=timezone.localdate())
    resources = render.chart_resources(charts)
    assert len(resources) == len(linked) == 4
    # Each chart is an image of the page, drawn from the SVG handed to the renderer.
    for chart in charts:
        assert f'<img src="{chart.src}"' in html
    svgs = [body.decode() for body, kind in resources.values() if kind == "image/svg+xml"]
    assert len(svgs) == 4 and all(svg.startswith("<svg") for svg in svgs)
    assert all('class="series"' in svg for svg in svgs)
    assert any("Target ≥ 85 %" in svg for svg in svgs)
    # The points are drawn, without their hover text, which paper cannot show.
    assert sum(svg.count('class="point"') for svg in svgs) >= 4 * 4
    assert not any("<title>Week of" in svg for svg in svgs)

    fetcher = StaticFilesURLFetcher()
    text = _flat(pdf_text(_copy(rich_plan, url_fetcher=fetcher)))
    assert "KPI progress: weekly values against the target" in text
    # The chart labels are in the PDF, so the charts were drawn.
    assert "Target ≥ 85 %" in text and "Plan period" in text
    served = [url for url in fetcher.served if not url.startswith("data:")]  # signatures
    assert sorted(served) == sorted(chart.src for chart in charts)
    assert fetcher.refused == []


def test_kpi_chart_says_no_data_yet_without_samples(make_plan, alex, signing):
    pip = make_plan(alex, "draft")
    version = version_with_sections(pip.current_version_id)
    html = render.print_html(pip=pip, version=version, current_hash=content_hash(version))
    assert html.count("No data yet") == 4
    assert "<img" not in html  # an empty frame per KPI would take pages for nothing
    assert ">QA Score</strong> (target ≥ 85 %): No data yet" in html


@pytest.mark.parametrize(("setting", "size"), [("A4", (595, 842)), ("letter", (612, 792))])
def test_page_size_follows_the_setting(make_plan, alex, signing, settings, setting, size):
    settings.PIP_PDF_PAGE_SIZE = setting
    page = PdfReader(io.BytesIO(_copy(make_plan(alex, "draft")))).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == size


def test_user_text_is_escaped_and_nothing_is_fetched(
    make_plan, alex, sam, harper, template, signing
):
    pip = make_plan(alex, "draft")
    content = content_from_version(version_with_sections(pip.current_version_id))
    content.description = f"Description {HOSTILE}"
    content.reasons[0].text = f"Reason {HOSTILE}"[:300]
    content.expectations[0].improvement_needed = "<script>alert(2)</script>"
    content.actions[0].action = '<img src="https://tracker.example.com/a.png">'
    content.outcome_success = f"Success {HOSTILE}"
    pip = services.pip_update_draft(actor=sam, pip=pip, content=content)
    fetcher = StaticFilesURLFetcher()
    data = _copy(pip, url_fetcher=fetcher)

    assert fetcher.refused == []
    # Nothing but the plan's own charts (this draft has no KPI data, so none).
    assert fetcher.served == [], fetcher.served
    # Compared without white space: long words wrap inside table cells.
    text = "".join(pdf_text(data).split())
    for needle in [
        "<script>alert(1)</script>",
        "<script>alert(2)</script>",
        '<imgsrc="file:///etc/passwd">',
        '<imgsrc="https://tracker.example.com/a.png">',
        '<linkrel="stylesheet"href="http://evil.example.com/x.css">',
    ]:
        assert needle in text
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages) == 0


def test_signature_image_other_than_a_png_data_url_is_left_out(rich_plan, signing):
    signature = rich_plan.current_version.signatures.get(role=SignerRole.MANAGER)
    block = render.SignatureBlock(role="manager", label="Manager", signature=signature)
    signature.image = "file:///etc/passwd"
    assert block.image == ""
    signature.image = "data:image/png;base64,AAAA"
    assert block.image == "data:image/png;base64,AAAA"


def test_audit_certificate_lists_every_event_with_actor_time_and_ip(
    make_plan, alex, sam, harper, signing
):
    pip = make_plan(alex, "issued", hr=harper)
    services.signature_add(
        actor=alex.user,
        pip=pip,
        version=pip.current_version,
        role=SignerRole.AGENT,
        data=SignatureInput(typed_name="Alex Rivera", consent=True),
        meta=RequestMeta(ip_address="203.0.113.7"),
    )
    services.pip_viewed(actor=harper, pip=pip, meta=RequestMeta(ip_address="198.51.100.23"))
    last = PdfReader(io.BytesIO(_copy(pip))).pages[-1].extract_text()
    text = _flat(last)
    assert "Audit certificate" in text
    for label in ["Draft created", "Submitted to HR", "Approved by HR", "Issued to the employee"]:
        assert label in text
    assert "Signed as Employee" in text and "Signed as Manager" in text
    assert "Viewed" in text
    assert "203.0.113.7" in text and "198.51.100.23" in text
    assert "Sam Carter" in text and "Harper Lee" in text and "Alex Rivera" in text
    listed = [label for label in ["Issued to the employee", "Viewed"] if label in text]
    assert len(listed) == 2
    assert AuditEvent.objects.filter(pip=pip, at__gt=timezone.now()).count() == 0


def test_audit_certificate_sums_up_views_when_there_are_many(
    make_plan, alex, sam, harper, signing, monkeypatch
):
    monkeypatch.setattr(render, "MAX_ACCESS_EVENTS", 3)
    pip = make_plan(alex, "draft")
    few = render.audit_certificate(pip, until=timezone.now())
    assert [row.label for row in few.rows] == ["Draft created"] and few.access == []
    for _ in range(3):
        services.pip_viewed(actor=harper, pip=pip, meta=RequestMeta(ip_address="198.51.100.9"))
    assert [row.label for row in render.audit_certificate(pip, until=timezone.now()).rows] == [
        "Draft created",
        "Viewed",
        "Viewed",
        "Viewed",
    ]
    services.pip_viewed(actor=sam, pip=pip, what="downloaded")
    services.pip_viewed(actor=sam, pip=pip)
    many = render.audit_certificate(pip, until=timezone.now())
    assert [row.label for row in many.rows] == ["Draft created"]
    assert [(a.person, a.views, a.downloads, a.last_ip) for a in many.access] == [
        ("Harper Lee", 3, 0, "198.51.100.9"),
        ("Sam Carter", 1, 1, None),
    ]
    text = _flat(PdfReader(io.BytesIO(_copy(pip))).pages[-1].extract_text())
    assert "Views and downloads" in text and "Harper Lee 3 0" in text


def test_renders_start_from_fonts_warmed_once_per_process(monkeypatch):
    """Each render runs in a process of its own, forked from this one: the fonts are loaded
    once here (a small warm-up render) and every render's process starts from them."""
    from pipsystem import pdfrender

    created = []
    real_config = pdfrender.FontConfiguration

    def new_config():
        created.append(real_config())
        return created[-1]

    monkeypatch.setattr(pdfrender, "FontConfiguration", new_config)
    monkeypatch.setattr(pdfrender, "_warm_fonts", None)
    render_pdf("<p>one</p>")
    render_pdf("<p>two</p>")
    assert len(created) == 1
    assert pdfrender._warm_fonts is created[0]


# --- the organisation's digital signature ------------------------------------------------------


def test_pyhanko_validates_the_signature_against_the_configured_certificate(rich_plan, signing):
    data = _copy(rich_plan)
    reader = PdfFileReader(io.BytesIO(data))
    [embedded] = reader.embedded_signatures
    context = ValidationContext(
        trust_roots=[load_cert_from_pemder(str(signing / "cert.pem"))], allow_fetching=False
    )
    status = validate_pdf_signature(embedded, signer_validation_context=context)
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.md_algorithm == "sha256"
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert pdfsign.verify_pdf(data).ok


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils not installed")
def test_poppler_reports_the_signature_valid(rich_plan, signing, tmp_path):
    path = tmp_path / "copy.pdf"
    path.write_bytes(_copy(rich_plan))
    output = subprocess.run(
        ["pdfsig", str(path)], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    assert "Signature is Valid" in output
    assert "Total document signed" in output


def test_metadata_names_the_plan_version_and_content_hash(rich_plan, signing):
    data = _copy(rich_plan)
    result = pdfsign.verify_pdf(data)
    assert result.pip_id == str(rich_plan.pk)
    assert result.version == "1"
    assert result.content_hash == rich_plan.current_version.content_sha256
    assert result.metadata["plan_status"] == "midpoint"
    assert PdfReader(io.BytesIO(data)).metadata.title.startswith(rich_plan.reference)


# --- the stored copy ---------------------------------------------------------------------------


def test_a_copy_is_rendered_once_and_served_from_storage(rich_plan, signing, monkeypatch):
    first = seal.stored_copy(pip=rich_plan, version=rich_plan.current_version)
    assert first.rendered
    assert first.name.startswith(f"pdf/{rich_plan.pk}/v1-staff-midpoint-")
    assert first.filename == f"{rich_plan.reference}-v1.pdf"
    with default_storage.open(first.name, "rb") as handle:
        assert pdfsign.verify_pdf(handle.read()).ok

    def no_render(**kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(seal, "signed_pdf", no_render)
    services.pip_viewed(actor=rich_plan.supervisor, pip=rich_plan)
    services.pip_viewed(actor=rich_plan.supervisor, pip=rich_plan, what="downloaded")
    again = seal.stored_copy(pip=rich_plan, version=rich_plan.current_version)
    assert again == seal.PdfCopy(name=first.name, filename=first.filename, rendered=False)


def test_a_copy_removed_by_a_newer_one_meanwhile_is_opened_again(
    make_plan, alex, signing, monkeypatch
):
    pip = make_plan(alex, "draft")
    seal.stored_copy(pip=pip, version=pip.current_version)
    real_open, calls = default_storage.open, []

    def open_once_missing(name, mode="rb"):
        calls.append(name)
        if len(calls) == 1:
            raise FileNotFoundError(name)
        return real_open(name, mode)

    monkeypatch.setattr(default_storage, "open", open_once_missing)
    copy, content = seal.open_copy(pip=pip, version=pip.current_version)
    with content:
        assert content.read().startswith(b"%PDF-")
    assert len(calls) == 2 and calls[1] == copy.name


def test_a_new_step_on_the_plan_gives_a_new_copy(make_plan, alex, harper, signing):
    pip = make_plan(alex, "issued", hr=harper)
    before = seal.stored_copy(pip=pip, version=pip.current_version)
    services.signature_add(
        actor=alex.user,
        pip=pip,
        version=pip.current_version,
        role=SignerRole.AGENT,
        data=SignatureInput(typed_name="Alex Rivera", consent=True),
    )
    after = seal.stored_copy(pip=pip, version=pip.current_version)
    assert after.rendered and after.name != before.name
    assert not default_storage.exists(before.name)
    with default_storage.open(after.name, "rb") as handle:
        assert "Alex Rivera" in _flat(pdf_text(handle.read())).split("6. Acknowledgment")[1]


def test_a_copy_is_redrawn_next_day_while_the_period_lasts(make_plan, alex, harper, signing):
    pip = make_plan(alex, "active", hr=harper)
    version = pip.current_version
    today = seal.copy_state(pip, version, "x")
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        assert seal.copy_state(pip, version, "x") != today
    with time_machine.travel(timezone.now() + dt.timedelta(days=40)):
        after = seal.copy_state(pip, version, "x")
    with time_machine.travel(timezone.now() + dt.timedelta(days=41)):
        assert seal.copy_state(pip, version, "x") == after


def test_editing_a_draft_gives_a_new_copy(make_plan, alex, sam, signing):
    pip = make_plan(alex, "draft")
    before = seal.stored_copy(pip=pip, version=pip.current_version)
    content = content_from_version(version_with_sections(pip.current_version_id))
    content.description = "Rewritten after the HR conversation."
    services.pip_update_draft(actor=sam, pip=pip, content=content)
    after = seal.stored_copy(pip=pip, version=pip.current_version)
    assert after.name != before.name


def test_copy_state_and_render_run_a_constant_number_of_queries(
    make_plan, alex, harper, sam, signing
):
    start = timezone.localdate() - dt.timedelta(days=35)
    pip = make_plan(alex, "active", hr=harper, start=start, days=60)

    def queries() -> tuple[int, int]:
        version = pip.current_version
        with CaptureQueriesContext(connection) as check:
            seal.copy_state(pip, version, "x")
        loaded = version_with_sections(version.pk)
        with CaptureQueriesContext(connection) as rendering:
            render.print_context(pip=pip, version=loaded, current_hash="x")
        return len(check), len(rendering)

    walk_to_midpoint(pip, supervisor=sam, checkins=1)
    small = queries()
    for week in range(2, 5):
        services.checkin_record(
            actor=sam,
            pip=pip,
            data=CheckInInput(held_on=start + dt.timedelta(days=7 * week), notes=f"Week {week}"),
            snapshot=[],
        )
    for _ in range(20):
        services.pip_viewed(actor=harper, pip=pip)
    assert queries() == small
    assert small[0] == 1


# --- checking an uploaded copy -----------------------------------------------------------------


def test_a_genuine_copy_matches_its_plan_and_version(rich_plan, signing):
    check = verify.check_copy(rich_plan.supervisor, _copy(rich_plan))
    assert check.ok
    assert check.headline == f"Authentic: it matches plan {rich_plan.reference} version 1"
    assert check.pip == rich_plan and check.version_number == 1
    assert check.url == f"/pips/{rich_plan.pk}/v1/"


def test_the_printing_time_reads_as_the_readers_language_writes_it(rich_plan, signing):
    printed = timezone.now().replace(hour=15, minute=0, second=0, microsecond=0)
    with time_machine.travel(printed, tick=False):
        data = _copy(rich_plan)
    local = timezone.localtime(printed, zoneinfo.ZoneInfo("America/Toronto"))
    zone = local.tzname()
    with timezone.override("America/Toronto"):
        english = " ".join(verify.check_copy(rich_plan.supervisor, data).details)
        with translation.override("fr"):
            french = " ".join(verify.check_copy(rich_plan.supervisor, data).details)
    assert f"{local:%d %b %Y %H:%M} {zone}" in english  # as before: "30 Nov 2026 10:00 EST"
    assert f"{local:%d/%m/%Y %H}\xa0h\xa0{local:%M} {zone}" in french


def test_a_user_who_may_not_see_the_plan_is_told_only_that_it_is_genuine(
    rich_plan, olivia, signing
):
    check = verify.check_copy(olivia, _copy(rich_plan))
    assert check.ok
    assert check.headline == "Authentic: it matches a record you do not have access to"
    assert check.pip is None and check.url is None
    assert rich_plan.reference not in " ".join([check.headline, *check.details])


def test_one_flipped_byte_makes_the_copy_altered(rich_plan, signing):
    data = _copy(rich_plan)
    check = verify.check_copy(rich_plan.supervisor, _flip(data, len(data) // 3))
    assert not check.ok
    assert check.verdict == verify.NOT_GENUINE
    assert check.headline == "Altered: not an authentic copy"
    assert check.pip is None


def test_a_copy_of_an_earlier_version_is_recognised_as_that_version(
    make_plan, alex, sam, harper, signing
):
    pip = make_plan(alex, "active", hr=harper)
    first = pip.current_version
    services.amendment_start(actor=sam, pip=pip, change_summary="Adjusted the AHT target.")
    services.amendment_submit(actor=sam, pip=pip)
    services.amendment_decide(actor=harper, pip=pip, approve=True)
    pip = Pip.objects.get(pk=pip.pk)
    assert pip.current_version.number == 2

    old = verify.check_copy(sam, _copy(pip, first))
    assert old.ok and old.version_number == 1
    assert old.headline.endswith(f"{pip.reference} version 1")
    new = verify.check_copy(sam, _copy(pip))
    assert new.ok and new.version_number == 2
    assert f"{pip.reference} · version 2" in _flat(pdf_text(_copy(pip)))


def test_a_draft_copy_no_longer_matches_once_the_draft_changes(make_plan, alex, sam, signing):
    pip = make_plan(alex, "draft")
    data = _copy(pip)
    assert verify.check_copy(sam, data).ok
    content = content_from_version(version_with_sections(pip.current_version_id))
    content.description = "Changed after printing."
    services.pip_update_draft(actor=sam, pip=pip, content=content)
    check = verify.check_copy(sam, data)
    assert check.verdict == verify.CHANGED
    assert "no longer matches" in check.headline
    assert "Its content hash does not match the record." in check.details


def test_copies_that_are_not_ours_are_not_genuine(signing, tmp_path, settings, db):
    plain = render_pdf("<p>Hello</p>", metadata={"pip_id": 1, "version": 1})
    assert verify.check_copy(None, plain).headline == "Not signed: not an authentic copy"
    assert verify.check_copy(None, b"hello").headline == "Not a PDF"
    # Signed with another certificate.
    other = tmp_path / "other"
    pdfsign.create_self_signed_cert(
        other / "cert.pem", other / "key.pem", common_name="Forger", organisation="Forger", days=5
    )
    settings.PIP_SIGNING_CERT = str(other / "cert.pem")
    settings.PIP_SIGNING_KEY = str(other / "key.pem")
    forged = pdfsign.sign_pdf(plain, reason="forged")
    settings.PIP_SIGNING_CERT = str(signing / "cert.pem")
    settings.PIP_SIGNING_KEY = str(signing / "key.pem")
    check = verify.check_copy(None, forged)
    assert check.headline == "Signed by someone else: not an authentic copy"


def test_a_signed_copy_of_no_record_is_unknown(signing, db, harper):
    data = pdfsign.sign_pdf(
        render_pdf("<p>x</p>", metadata={"pip_id": 987654, "version": 1, "content_hash": "ab"}),
        reason="test",
    )
    check = verify.check_copy(harper, data)
    assert check.verdict == verify.UNKNOWN
    assert check.headline == "Signed by us, but it matches no record"


# --- the pages, to look at ---------------------------------------------------------------------


def _blank(path: Path) -> bool:
    with Image.open(path) as image:
        return image.convert("L").point(lambda v: 255 if v > 250 else 0).getbbox() is None


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
@pytest.mark.parametrize("paper", ["A4", "letter"])
def test_pages_as_images(rich_plan, signing, settings, request, paper):
    """Writes each page as a PNG under test-artifacts/screenshots/, to be looked at."""
    settings.PIP_PDF_PAGE_SIZE = paper
    data = _copy(rich_plan)
    name = request.node.name.replace("[", "-").replace("]", "")
    images = page_images(data, ARTIFACTS / name)
    assert len(images) == len(PdfReader(io.BytesIO(data)).pages) >= 4
    assert not any(_blank(path) for path in images)


def test_the_copy_is_a_tagged_pdf_ua_document_in_english(rich_plan, signing):
    """Screen readers read the copy: a structure tree of headings, tables and figures (with the
    charts' and signatures' text alternatives), the document language, and PDF/UA-1 declared."""
    data = _copy(rich_plan)
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    tree = root["/StructTreeRoot"].get_object()
    roles: set[str] = set()
    alts: list[str] = []

    def walk(node, depth=0):
        node = node.get_object()
        if isinstance(node, dict) or hasattr(node, "get"):
            if "/S" in node:
                roles.add(str(node["/S"]))
            if "/Alt" in node:
                alts.append(str(node["/Alt"]))
            kids = node.get("/K")
            if kids is None or depth > 60:
                return
            for kid in kids if isinstance(kids, list) else [kids]:
                if hasattr(kid, "get_object") or isinstance(kid, dict):
                    walk(kid, depth + 1)

    walk(tree)
    assert {"/H1", "/Table", "/TR", "/TH", "/TD", "/Figure"} <= roles, roles
    assert any("weekly values against the target" in alt for alt in alts), alts
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()
    # Still signed by the organisation after tagging.
    assert pdfsign.verify_pdf(data).ok
