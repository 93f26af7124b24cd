"""The PDF download of a plan version and the page that checks an uploaded copy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pips import services
from pips.content import content_from_version
from pips.models import AuditEvent
from pips.printing import seal
from pips.selectors import version_with_sections
from pips.services import CheckInInput
from pipsystem.pdfrender import PdfRendererBusy, PdfRenderError, PdfRenderTimeout
from pipsystem.pdfsign import verify_pdf
from tests.pips import pdf_support

# The shared fixtures.
signing_pair = pdf_support.signing_pair
signing = pdf_support.signing


def _login(client, user):
    client.force_login(user)
    return client


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _stored() -> list[str]:
    """The copies in storage, under pdf/<plan>/."""
    try:
        plans = default_storage.listdir("pdf")[0]
    except FileNotFoundError:
        return []
    return [name for plan in plans for name in default_storage.listdir(f"pdf/{plan}")[1]]


@pytest.fixture
def active_plan(make_plan, alex, harper):
    start = timezone.localdate() - dt.timedelta(days=20)
    return make_plan(alex, "active", hr=harper, start=start)


# --- download ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["sam", "alex_user", "harper"])
def test_download_of_the_version_in_force(client, active_plan, signing, request, who):
    user = request.getfixturevalue(who)
    response = _login(client, user).get(reverse("pips:pdf", args=[active_plan.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    # Opens in the browser ("Print PDF"), under its own name when saved.
    assert response["Content-Disposition"] == (f'inline; filename="{active_plan.reference}-v1.pdf"')
    data = _body(response)
    assert data.startswith(b"%PDF-")
    result = verify_pdf(data)
    assert result.ok and result.pip_id == str(active_plan.pk) and result.version == "1"


def test_each_download_is_an_audit_event(client, active_plan, sam, signing):
    _login(client, sam)
    url = reverse("pips:pdf", args=[active_plan.pk])
    for _ in range(2):
        _body(client.get(url, REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="Firefox"))
    events = AuditEvent.objects.filter(pip=active_plan, action="downloaded")
    assert events.count() == 2
    event = events.first()
    assert event.actor == sam
    assert event.ip_address == "192.0.2.44"
    assert event.user_agent == "Firefox"
    assert event.label == "PDF downloaded"


def test_the_second_download_is_served_from_storage(client, active_plan, sam, signing, monkeypatch):
    _login(client, sam)
    url = reverse("pips:pdf", args=[active_plan.pk])
    first = _body(client.get(url))
    assert len(_stored()) == 1

    def no_render(**kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(seal, "signed_pdf", no_render)
    assert _body(client.get(url)) == first


def test_a_new_check_in_gives_a_new_copy(client, active_plan, sam, signing):
    _login(client, sam)
    url = reverse("pips:pdf", args=[active_plan.pk])
    first = _body(client.get(url))
    services.checkin_record(
        actor=sam,
        pip=active_plan,
        data=CheckInInput(
            held_on=active_plan.current_version.period_start + dt.timedelta(days=7),
            notes="Listened to five calls together.",
        ),
        snapshot=[],
    )
    second = _body(client.get(url))
    assert second != first
    assert "Listened to five calls together." in pdf_support.pdf_text(second)
    assert len(_stored()) == 1  # the earlier copy of the version is removed


def test_download_of_an_earlier_version(client, active_plan, sam, harper, signing):
    services.amendment_start(actor=sam, pip=active_plan, change_summary="New AHT target.")
    services.amendment_submit(actor=sam, pip=active_plan)
    services.amendment_decide(actor=harper, pip=active_plan, approve=True)
    _login(client, sam)
    response = client.get(reverse("pips:version_pdf", args=[active_plan.pk, 1]))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'filename="{active_plan.reference}-v1.pdf"')
    data = _body(response)
    result = verify_pdf(data)
    assert result.ok and result.version == "1"
    assert "superseded by a later amendment" in " ".join(pdf_support.pdf_text(data).split())
    # The download is on record against the version printed, not the one now in force.
    download = AuditEvent.objects.get(pip=active_plan, action="downloaded")
    assert download.version.number == 1
    active_plan.refresh_from_db()
    assert active_plan.current_version.number == 2


def test_wrong_method_is_refused(client, active_plan, sam, signing):
    _login(client, sam)
    assert client.post(reverse("pips:pdf", args=[active_plan.pk])).status_code == 405
    response = client.post(reverse("pips:version_pdf", args=[active_plan.pk, 1]))
    assert response.status_code == 405
    assert not AuditEvent.objects.filter(action="downloaded").exists()


def test_outsider_gets_404(client, active_plan, olivia, blake, signing):
    for user in (olivia, blake.user):
        client.force_login(user)
        assert client.get(reverse("pips:pdf", args=[active_plan.pk])).status_code == 404
        response = client.get(reverse("pips:version_pdf", args=[active_plan.pk, 1]))
        assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="downloaded").exists()
    assert _stored() == []


def test_anonymous_is_sent_to_log_in(client, active_plan):
    response = client.get(reverse("pips:pdf", args=[active_plan.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_employee_cannot_print_a_draft(client, make_plan, alex, sam, harper, signing):
    """Drafts are the supervisor's and HR's: 404 for the employee, also for an amendment."""
    draft = make_plan(alex, "draft")
    _login(client, alex.user)
    assert client.get(reverse("pips:pdf", args=[draft.pk])).status_code == 404
    services.pip_cancel(actor=harper, pip=draft, reason="Started again.")

    plan = make_plan(alex, "active", hr=harper)
    services.amendment_start(actor=sam, pip=plan, change_summary="Longer coaching.")
    assert client.get(reverse("pips:version_pdf", args=[plan.pk, 2])).status_code == 404
    assert client.get(reverse("pips:version_pdf", args=[plan.pk, 1])).status_code == 200
    client.force_login(sam)
    assert client.get(reverse("pips:version_pdf", args=[plan.pk, 2])).status_code == 200


def test_unknown_version_is_404(client, active_plan, sam, signing):
    _login(client, sam)
    assert client.get(reverse("pips:version_pdf", args=[active_plan.pk, 9])).status_code == 404


@pytest.mark.parametrize("error", [PdfRenderTimeout, PdfRendererBusy])
def test_a_slow_render_gives_a_friendly_503(client, active_plan, sam, signing, monkeypatch, error):
    def slow(*args, **kwargs):
        raise error("PDF rendering took longer than 20 s")

    monkeypatch.setattr(seal, "render_pdf", slow)
    response = _login(client, sam).get(reverse("pips:pdf", args=[active_plan.pk]))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert b"server is busy" in response.content
    assert not AuditEvent.objects.filter(action="downloaded").exists()
    assert _stored() == []


def test_a_failed_render_or_missing_certificate_gives_a_503(
    client, active_plan, sam, settings, tmp_path, monkeypatch
):
    settings.PIP_SIGNING_CERT = str(tmp_path / "missing" / "cert.pem")
    settings.PIP_SIGNING_KEY = str(tmp_path / "missing" / "key.pem")
    _login(client, sam)
    response = client.get(reverse("pips:pdf", args=[active_plan.pk]))
    assert response.status_code == 503
    assert b"could not be produced" in response.content

    def broken(*args, **kwargs):
        raise PdfRenderError("WeasyPrint failed")

    monkeypatch.setattr(seal, "render_pdf", broken)
    assert client.get(reverse("pips:pdf", args=[active_plan.pk])).status_code == 503
    assert _stored() == []


def test_download_runs_a_constant_number_of_queries(client, active_plan, sam, signing):
    _login(client, sam)
    url = reverse("pips:pdf", args=[active_plan.pk])

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as rendered:
            _body(client.get(url))
        with CaptureQueriesContext(connection) as stored:
            _body(client.get(url))
        return len(rendered), len(stored)

    start = active_plan.current_version.period_start

    def checkin(week: int) -> None:
        services.checkin_record(
            actor=sam,
            pip=active_plan,
            data=CheckInInput(held_on=start + dt.timedelta(days=7 * week), notes=f"W{week}"),
            snapshot=[],
        )

    checkin(1)
    small = count()
    checkin(2)
    for _ in range(15):
        services.pip_viewed(actor=sam, pip=active_plan)
    assert count() == small
    assert small[1] < small[0]


# --- the verification page ---------------------------------------------------------------------


def _upload(data: bytes, name: str = "copy.pdf", content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def copy_bytes(active_plan, signing) -> bytes:
    copy = seal.stored_copy(pip=active_plan, version=active_plan.current_version)
    with default_storage.open(copy.name, "rb") as handle:
        return handle.read()


def test_verify_page_shows_the_form(client, harper):
    response = _login(client, harper).get(reverse("pips:verify"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    content = response.content.decode()
    assert 'enctype="multipart/form-data"' in content
    assert "csrfmiddlewaretoken" in content
    assert "Check the copy" in content


def test_verify_a_genuine_copy(client, active_plan, sam, copy_bytes):
    response = _login(client, sam).post(reverse("pips:verify"), {"file": _upload(copy_bytes)})
    assert response.status_code == 200
    content = response.content.decode()
    assert f"Authentic: it matches plan {active_plan.reference} version 1" in content
    assert "with this organisation&#x27;s certificate" in content
    assert "Its content hash matches the record" in content
    assert reverse("pips:version", args=[active_plan.pk, 1]) in content


def test_verify_as_someone_who_may_not_see_the_plan(client, active_plan, olivia, copy_bytes):
    response = _login(client, olivia).post(reverse("pips:verify"), {"file": _upload(copy_bytes)})
    content = response.content.decode()
    assert "Authentic: it matches a record you do not have access to" in content
    assert active_plan.reference not in content
    assert f"/pips/{active_plan.pk}/" not in content


def test_verify_a_copy_with_one_flipped_byte(client, sam, copy_bytes):
    tampered = bytearray(copy_bytes)
    tampered[len(tampered) // 2] ^= 0x01
    response = _login(client, sam).post(reverse("pips:verify"), {"file": _upload(bytes(tampered))})
    content = response.content.decode()
    assert "Altered: not an authentic copy" in content
    assert "has been altered since it was signed" in content


@pytest.mark.parametrize(
    ("data", "name", "content_type", "message"),
    [
        (b"hello", "notes.txt", "text/plain", "This is not a PDF file."),
        (b"<html>", "copy.pdf", "application/pdf", "its content does not start like one"),
        (b"", "copy.pdf", "application/pdf", "The file is empty."),
    ],
)
def test_verify_refuses_what_is_not_a_pdf(client, sam, data, name, content_type, message):
    response = _login(client, sam).post(
        reverse("pips:verify"), {"file": _upload(data, name, content_type)}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert "Authentic" not in content


def test_verify_without_a_file(client, sam):
    response = _login(client, sam).post(reverse("pips:verify"), {})
    assert "Choose the PDF file to check." in response.content.decode()


def test_verify_refuses_a_file_over_the_limit(client, sam, monkeypatch):
    monkeypatch.setattr("pips.forms.verify.MAX_UPLOAD_BYTES", 1000)
    response = _login(client, sam).post(
        reverse("pips:verify"), {"file": _upload(b"%PDF-1.7\n" + b"0" * 2000)}
    )
    assert "The file is too large. A plan&#x27;s PDF copy is at most 10 MB." in (
        response.content.decode()
    )


def test_verify_refuses_a_request_declared_too_large_without_reading_it(client, sam):
    _login(client, sam)
    response = client.generic(
        "POST",
        reverse("pips:verify"),
        b"x" * 10,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 200
    assert "The file is too large." in response.content.decode()


def test_verify_wrong_method(client, sam):
    assert client.put(reverse("pips:verify")).status_code == 405
    assert _login(client, sam).put(reverse("pips:verify")).status_code == 405


def test_anyone_without_an_account_can_check_a_copy(client, active_plan, copy_bytes):
    """A lawyer, a tribunal or the employee's representative checks a printed copy: they learn
    whether it is authentic, not which plan it is."""
    response = client.get(reverse("pips:verify"))
    assert response.status_code == 200 and "Check the copy" in response.content.decode()
    response = client.post(reverse("pips:verify"), {"file": _upload(copy_bytes)})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Authentic: it matches a record you do not have access to" in content
    assert active_plan.reference not in content and f"/pips/{active_plan.pk}/" not in content
    tampered = bytearray(copy_bytes)
    tampered[len(tampered) // 2] ^= 0x01
    response = client.post(reverse("pips:verify"), {"file": _upload(bytes(tampered))})
    assert "Altered: not an authentic copy" in response.content.decode()


def test_the_anonymous_check_needs_the_csrf_token(active_plan, copy_bytes):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("pips:verify"), {"file": _upload(copy_bytes)})
    assert response.status_code == 403


def test_checks_are_rate_limited_per_address(client, settings, active_plan, copy_bytes):
    settings.PIP_VERIFY_PER_HOUR = 3
    for _ in range(3):
        response = client.post(reverse("pips:verify"), {"file": _upload(copy_bytes)})
        assert response.status_code == 200 and "Authentic" in response.content.decode()
    response = client.post(reverse("pips:verify"), {"file": _upload(copy_bytes)})
    assert response.status_code == 429
    content = response.content.decode()
    assert "Too many copies were checked from your address in the last hour" in content
    assert "Authentic" not in content
    assert 0 < int(response["Retry-After"]) <= 3600
    # Another address is not held back; showing the form is not counted.
    assert client.get(reverse("pips:verify")).status_code == 200
    other = client.post(
        reverse("pips:verify"), {"file": _upload(copy_bytes)}, REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code == 200


def test_nothing_is_kept_of_the_upload(
    client, active_plan, copy_bytes, settings, tmp_path, monkeypatch
):
    """Even a copy above the size Django would spool to a temporary file is read in memory:
    no file is written, no record or audit event made."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # the copy is larger: it would go to disk
    spool = tmp_path / "spool"
    spool.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    assert len(copy_bytes) > 1024
    spooled = []
    original = TemporaryUploadedFile.__init__

    def spy(self, *args, **kwargs):
        spooled.append(args)
        original(self, *args, **kwargs)

    monkeypatch.setattr(TemporaryUploadedFile, "__init__", spy)
    events = AuditEvent.objects.count()
    stored = set(default_storage.listdir("")[1]) if default_storage.exists("") else set()
    response = client.post(reverse("pips:verify"), {"file": _upload(copy_bytes)})
    assert "Authentic" in response.content.decode()
    assert spooled == [] and list(spool.iterdir()) == []
    assert AuditEvent.objects.count() == events
    after = set(default_storage.listdir("")[1]) if default_storage.exists("") else set()
    assert after == stored


def test_verify_runs_a_constant_number_of_queries(
    client, make_plan, alex, blake, sam, olivia, harper, signing
):
    plans = [make_plan(alex, "active", hr=harper), make_plan(blake, "draft")]
    _login(client, harper)

    def count(plan) -> int:
        copy = seal.stored_copy(pip=plan, version=plan.current_version)
        with default_storage.open(copy.name, "rb") as handle:
            upload = _upload(handle.read())
        with CaptureQueriesContext(connection) as queries:
            response = client.post(reverse("pips:verify"), {"file": upload})
        assert "Authentic" in response.content.decode()
        return len(queries)

    small = count(plans[0]), count(plans[1])
    for _ in range(10):
        services.pip_viewed(actor=harper, pip=plans[0])
    services.checkin_record(
        actor=plans[0].supervisor,
        pip=plans[0],
        data=CheckInInput(held_on=timezone.localdate(), notes="More data"),
        snapshot=[],
    )
    assert (count(plans[0]), count(plans[1])) == small


def test_verify_an_old_draft_copy_that_changed(client, make_plan, alex, sam, signing):
    draft = make_plan(alex, "draft")
    copy = seal.stored_copy(pip=draft, version=draft.current_version)
    with default_storage.open(copy.name, "rb") as handle:
        data = handle.read()
    content = content_from_version(version_with_sections(draft.current_version_id))
    content.description = "Changed after printing."
    services.pip_update_draft(actor=sam, pip=draft, content=content)
    response = _login(client, sam).post(reverse("pips:verify"), {"file": _upload(data)})
    text = response.content.decode()
    assert f"Signed by us, but it no longer matches plan {draft.reference} version 1" in text
