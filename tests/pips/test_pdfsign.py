from __future__ import annotations

import asyncio
import io
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from django.core.management import CommandError, call_command
from pyhanko.pdf_utils.generic import NameObject, TextStringObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader

from pipsystem import pdfsign
from pipsystem.pdfrender import render_pdf
from pipsystem.pdfsign import SigningNotConfigured, sign_pdf, verify_pdf

META = {"pip_id": 42, "version": 3, "content_hash": "c0ffee" * 10 + "abcd"}


@pytest.fixture(scope="module")
def issued_pair(tmp_path_factory) -> tuple[bytes, bytes]:
    """One key pair for the module: RSA key generation is the slow part."""
    directory = tmp_path_factory.mktemp("pair")
    pdfsign.create_self_signed_cert(
        directory / "cert.pem",
        directory / "key.pem",
        common_name="Acme Contact Center document signing",
        organisation="Acme Contact Center",
        days=30,
    )
    return (directory / "cert.pem").read_bytes(), (directory / "key.pem").read_bytes()


@pytest.fixture
def signing_dir(tmp_path: Path, settings) -> Path:
    directory = tmp_path / "signing"
    settings.PIP_SIGNING_CERT = str(directory / "cert.pem")
    settings.PIP_SIGNING_KEY = str(directory / "key.pem")
    settings.PIP_SIGNING_KEY_PASSPHRASE = None
    settings.PIP_SIGNING_EXTRA_TRUST_ROOTS = []
    return directory


@pytest.fixture
def configured(signing_dir: Path, issued_pair) -> Path:
    signing_dir.mkdir(parents=True, exist_ok=True)
    (signing_dir / "cert.pem").write_bytes(issued_pair[0])
    (signing_dir / "key.pem").write_bytes(issued_pair[1])
    return signing_dir


@pytest.fixture(scope="module")
def plan_pdf() -> bytes:
    return render_pdf(
        "<h1>Performance Improvement Plan</h1><p>Agent: Ana Silva</p>",
        title="PIP #42",
        author="Acme Contact Center",
        metadata=META,
    )


@pytest.fixture
def signed_pdf(configured, plan_pdf) -> bytes:
    return sign_pdf(plan_pdf, reason="Issued copy of PIP #42")


def test_settings_default_to_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    del settings.PIP_SIGNING_CERT
    del settings.PIP_SIGNING_KEY
    assert pdfsign.signing_cert_path() == tmp_path / "signing" / "cert.pem"
    assert pdfsign.signing_key_path() == tmp_path / "signing" / "key.pem"


def test_sign_then_verify_is_intact_and_trusted(signed_pdf, plan_pdf):
    assert signed_pdf.startswith(plan_pdf)  # incremental update: the original bytes are kept
    result = verify_pdf(signed_pdf)
    assert result.is_pdf and result.signed
    assert result.intact
    assert result.trusted
    assert result.covers_whole_file
    assert result.coverage == "entire file"
    assert result.status == "valid" and result.ok
    assert result.signer_name == "Acme Contact Center document signing"
    assert result.signer_organisation == "Acme Contact Center"
    assert result.signed_at is not None and result.signed_at.tzinfo is not None
    assert result.reason == "Issued copy of PIP #42"
    assert result.field_name == "Organisation"
    assert result.pip_id == "42"
    assert result.version == "3"
    assert result.content_hash == META["content_hash"]
    assert result.title == "PIP #42"
    assert "Authentic" in result.summary and "not changed" in result.summary


def test_approval_signature_without_certification(configured, plan_pdf):
    signed = sign_pdf(plan_pdf, reason="Approval only", field_name="HR", certify=False)
    result = verify_pdf(signed)
    assert result.ok
    assert result.field_name == "HR"


def test_signed_pdf_keeps_text_and_metadata(signed_pdf):
    reader = PdfReader(io.BytesIO(signed_pdf))
    assert "Ana Silva" in reader.pages[0].extract_text()
    assert reader.metadata["/PipId"] == "42"
    assert reader.metadata.title == "PIP #42"


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils not installed")
def test_poppler_reports_signature_valid(signed_pdf, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_pdf)
    output = subprocess.run(
        ["pdfsig", str(path)], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    assert "Signature is Valid" in output
    assert "Total document signed" in output
    assert "ETSI.CAdES.detached" in output
    assert "SHA-256" in output


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils not installed")
def test_poppler_reports_flipped_byte(signed_pdf, plan_pdf, tmp_path):
    tampered = bytearray(signed_pdf)
    tampered[len(plan_pdf) // 2] ^= 0x01
    path = tmp_path / "tampered.pdf"
    path.write_bytes(bytes(tampered))
    output = subprocess.run(
        ["pdfsig", str(path)], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    assert "Signature is Valid" not in output
    assert "Digest Mismatch" in output


@pytest.mark.parametrize("where", [0.3, 0.5, 0.9])
def test_flipped_byte_in_signed_range_is_altered(signed_pdf, plan_pdf, where):
    tampered = bytearray(signed_pdf)
    tampered[int(len(plan_pdf) * where)] ^= 0x01
    result = verify_pdf(bytes(tampered))
    assert result.is_pdf and result.signed
    assert result.intact is False
    assert result.status == "altered" and not result.ok
    assert "altered" in result.summary


def test_flipped_byte_after_signature_is_altered(signed_pdf):
    # The signature dictionary and cross-reference section after /Contents are signed too.
    tampered = bytearray(signed_pdf)
    position = signed_pdf.rindex(b"/ByteRange") + len(b"/ByteRange [")
    tampered[position] ^= 0x01
    result = verify_pdf(bytes(tampered))
    assert result.status == "altered" and result.intact is False


def test_changed_metadata_is_altered(signed_pdf):
    tampered = signed_pdf.replace(b"(42)", b"(43)", 1)
    assert tampered != signed_pdf
    result = verify_pdf(tampered)
    assert result.status == "altered"


def test_update_appended_after_signing_is_reported(signed_pdf):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf))
    info = writer.trailer["/Info"]
    info[NameObject("/PipId")] = TextStringObject("999")
    writer.update_container(info)
    output = io.BytesIO()
    writer.write(output)

    result = verify_pdf(output.getvalue())
    assert result.intact and result.trusted
    assert not result.covers_whole_file
    assert result.status == "modified_after_signing" and not result.ok
    assert result.pip_id == "42"  # read from the signed revision, not the appended one
    assert "added to the file after it was signed" in result.summary


def test_other_certificate_is_not_trusted(signed_pdf, settings, tmp_path):
    other = tmp_path / "other"
    pdfsign.create_self_signed_cert(
        other / "cert.pem", other / "key.pem", common_name="Someone else", organisation="X", days=5
    )
    settings.PIP_SIGNING_CERT = str(other / "cert.pem")
    settings.PIP_SIGNING_KEY = str(other / "key.pem")
    result = verify_pdf(signed_pdf)
    assert result.intact and not result.trusted
    assert result.status == "untrusted"
    assert "not with this organisation's certificate" in result.summary

    # After a rotation, the old certificate can be kept as an extra trust root.
    settings.PIP_SIGNING_EXTRA_TRUST_ROOTS = [str(tmp_path / "signing" / "cert.pem")]
    assert verify_pdf(signed_pdf).ok


def test_unsigned_pdf(configured, plan_pdf):
    result = verify_pdf(plan_pdf)
    assert result.is_pdf and not result.signed
    assert result.status == "unsigned"
    assert result.pip_id == "42"


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"PK\x03\x04 a zip file", b"%PDF-1.7\nnot really a pdf", bytes(range(256))],
)
def test_non_pdf_is_reported_without_raising(configured, data):
    result = verify_pdf(data)
    assert result.is_pdf is False
    assert result.signed is False
    assert result.status == "not_pdf"
    assert result.summary


def test_verify_inside_running_event_loop(signed_pdf):
    async def check() -> bool:
        return verify_pdf(signed_pdf).ok

    assert asyncio.run(check())


def test_sign_without_certificate_gives_clear_error(signing_dir, plan_pdf):
    with pytest.raises(SigningNotConfigured, match="create_signing_cert"):
        sign_pdf(plan_pdf, reason="x")


def test_mismatched_key_is_refused(configured, tmp_path, plan_pdf):
    other = tmp_path / "other"
    pdfsign.create_self_signed_cert(
        other / "cert.pem", other / "key.pem", common_name="x", organisation="x", days=1
    )
    shutil.copy(other / "key.pem", configured / "key.pem")
    with pytest.raises(SigningNotConfigured, match="does not belong"):
        sign_pdf(plan_pdf, reason="x")


def test_ensure_signing_cert_creates_once(signing_dir, plan_pdf):
    assert pdfsign.ensure_signing_cert() is True
    cert_pem = (signing_dir / "cert.pem").read_bytes()
    assert stat.S_IMODE((signing_dir / "key.pem").stat().st_mode) == 0o600
    assert pdfsign.ensure_signing_cert() is False
    assert (signing_dir / "cert.pem").read_bytes() == cert_pem
    assert verify_pdf(sign_pdf(plan_pdf, reason="x")).ok


def test_ensure_signing_cert_refuses_half_a_pair(configured):
    (configured / "key.pem").unlink()
    with pytest.raises(SigningNotConfigured, match="missing"):
        pdfsign.ensure_signing_cert()
    assert not (configured / "key.pem").exists()


def test_encrypted_key_with_passphrase(signing_dir, settings, plan_pdf):
    settings.PIP_SIGNING_KEY_PASSPHRASE = "correct horse battery staple"
    assert pdfsign.ensure_signing_cert()
    assert b"ENCRYPTED PRIVATE KEY" in (signing_dir / "key.pem").read_bytes()
    assert verify_pdf(sign_pdf(plan_pdf, reason="x")).ok

    settings.PIP_SIGNING_KEY_PASSPHRASE = "wrong"
    with pytest.raises(SigningNotConfigured, match="passphrase"):
        sign_pdf(plan_pdf, reason="x")


def _subject(path: Path) -> x509.Name:
    return x509.load_pem_x509_certificate(path.read_bytes()).subject


def test_command_creates_files_and_refuses_to_overwrite(signing_dir):
    out = io.StringIO()
    call_command(
        "create_signing_cert",
        "--common-name",
        "Acme HR signing",
        "--organisation",
        "Acme",
        "--days",
        "400",
        stdout=out,
    )
    cert_path, key_path = signing_dir / "cert.pem", signing_dir / "key.pem"
    assert cert_path.exists() and key_path.exists()
    assert "Signing certificate written" in out.getvalue()
    subject = _subject(cert_path)
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Acme HR signing"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Acme"
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 400
    original = cert_path.read_bytes()

    with pytest.raises(CommandError, match="Refusing to overwrite"):
        call_command("create_signing_cert", stdout=io.StringIO())
    assert cert_path.read_bytes() == original

    call_command("create_signing_cert", "--force", stdout=io.StringIO())
    assert cert_path.read_bytes() != original
    pdfsign.check_signing_pair()  # the new key belongs to the new certificate


def test_command_if_missing_creates_once(signing_dir):
    out = io.StringIO()
    call_command("create_signing_cert", "--if-missing", stdout=out)
    assert "Created signing certificate" in out.getvalue()
    original = (signing_dir / "cert.pem").read_bytes()
    out = io.StringIO()
    call_command("create_signing_cert", "--if-missing", stdout=out)
    assert "Using existing signing certificate" in out.getvalue()
    assert (signing_dir / "cert.pem").read_bytes() == original


def test_command_rejects_bad_days(signing_dir):
    with pytest.raises(CommandError, match="days"):
        call_command("create_signing_cert", "--days", "0", stdout=io.StringIO())
    assert not (signing_dir / "cert.pem").exists()
