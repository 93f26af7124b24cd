"""The organisation's digital signature on PDF copies of plans (PAdES), and its verification.

Settings (all optional):

* ``PIP_SIGNING_CERT`` / ``PIP_SIGNING_KEY``: PEM certificate and private key, by default
  ``<VAR_DIR>/signing/cert.pem`` and ``<VAR_DIR>/signing/key.pem``.
* ``PIP_SIGNING_KEY_PASSPHRASE``: passphrase of the private key, if it is encrypted.
* ``PIP_SIGNING_EXTRA_TRUST_ROOTS``: paths of further PEM certificates whose signatures count as
  the organisation's, e.g. the previous certificate after a rotation, so older copies still
  verify as trusted.

``ensure_signing_cert()`` creates a self-signed pair for development (``make run``);
production installs a certificate of its own with ``manage.py create_signing_cert`` or by
pointing the settings at existing files. Verification trusts only those configured
certificates, never the operating system's list, and fetches nothing from the network.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from pipsystem.pdfrender import METADATA_KEYS, metadata_from_info

try:  # POSIX only; elsewhere concurrent creation is simply not guarded.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_FIELD_NAME = "Organisation"
DEFAULT_CERT_DAYS = 3650
RSA_KEY_BITS = 3072

# Status values of PdfVerification.status, from worst to best.
STATUS_NOT_PDF = "not_pdf"
STATUS_UNSIGNED = "unsigned"
STATUS_ALTERED = "altered"
STATUS_UNTRUSTED = "untrusted"
STATUS_MODIFIED = "modified_after_signing"
STATUS_VALID = "valid"

COVERAGE_ENTIRE_FILE = "entire file"


class SigningError(Exception):
    """The PDF could not be signed."""


class SigningNotConfigured(ImproperlyConfigured):
    """The signing certificate or key is missing, unreadable or mismatched."""


# ---------------------------------------------------------------------------------------------
# Settings


def _var_dir() -> Path:
    return Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var"))


def signing_cert_path() -> Path:
    configured = getattr(settings, "PIP_SIGNING_CERT", None)
    return Path(configured) if configured else _var_dir() / "signing" / "cert.pem"


def signing_key_path() -> Path:
    configured = getattr(settings, "PIP_SIGNING_KEY", None)
    return Path(configured) if configured else _var_dir() / "signing" / "key.pem"


def signing_key_passphrase() -> bytes | None:
    passphrase = getattr(settings, "PIP_SIGNING_KEY_PASSPHRASE", None)
    if not passphrase:
        return None
    return passphrase.encode() if isinstance(passphrase, str) else bytes(passphrase)


def _extra_trust_root_paths() -> list[Path]:
    return [Path(p) for p in getattr(settings, "PIP_SIGNING_EXTRA_TRUST_ROOTS", ()) or ()]


# ---------------------------------------------------------------------------------------------
# Certificate creation


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _creation_lock(directory: Path) -> Iterator[None]:
    """Serialise certificate creation between processes started together (web, worker...)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(directory / ".create.lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def create_self_signed_cert(
    cert_path: Path | str,
    key_path: Path | str,
    *,
    common_name: str,
    organisation: str,
    days: int = DEFAULT_CERT_DAYS,
    passphrase: bytes | None = None,
    overwrite: bool = False,
) -> None:
    """Write a new RSA key and a self-signed document-signing certificate as PEM files.

    The key file is written with mode 0600 and encrypted when ``passphrase`` is given. Raises
    ``FileExistsError`` if either file exists and ``overwrite`` is false.
    """
    cert_path, key_path = Path(cert_path), Path(key_path)
    if days < 1:
        raise ValueError("days must be at least 1")
    if not overwrite:
        for path in (cert_path, key_path):
            if path.exists():
                raise FileExistsError(f"{path} already exists")

    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    name = cx509.Name(
        [
            cx509.NameAttribute(NameOID.COMMON_NAME, common_name),
            cx509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )
    now = datetime.now(tz=UTC)
    public_key = key.public_key()
    cert = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(cx509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            cx509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            # Microsoft "document signing" and the generic e-mail protection purpose, which
            # PDF readers accept for signatures.
            cx509.ExtendedKeyUsage(
                [
                    cx509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),
                    ExtendedKeyUsageOID.EMAIL_PROTECTION,
                ]
            ),
            critical=False,
        )
        .add_extension(cx509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    # Key first: a certificate without its key is never left behind on its own.
    _write_atomic(key_path, key_pem, 0o600)
    _write_atomic(cert_path, cert_pem, 0o644)
    logger.info(
        "Created self-signed signing certificate %s (%s, %d days)", cert_path, common_name, days
    )


def default_common_name() -> str:
    return f"{getattr(settings, 'SITE_NAME', 'pipsystem')} document signing"


def default_organisation() -> str:
    return str(getattr(settings, "SITE_NAME", "pipsystem"))


def check_signing_pair(
    cert_path: Path | None = None,
    key_path: Path | None = None,
    passphrase: bytes | None = None,
) -> cx509.Certificate:
    """Load the configured pair and check that the key belongs to the certificate.

    Returns the certificate; raises :class:`SigningNotConfigured` with a plain message otherwise.
    """
    cert_path = cert_path or signing_cert_path()
    key_path = key_path or signing_key_path()
    if passphrase is None:
        passphrase = signing_key_passphrase()
    try:
        cert = cx509.load_pem_x509_certificate(cert_path.read_bytes())
    except FileNotFoundError:
        raise SigningNotConfigured(
            f"No signing certificate at {cert_path}; run 'manage.py create_signing_cert'"
        ) from None
    except ValueError as exc:
        raise SigningNotConfigured(f"{cert_path} is not a PEM certificate: {exc}") from None
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=passphrase)
    except FileNotFoundError:
        raise SigningNotConfigured(f"No signing key at {key_path}") from None
    except (ValueError, TypeError) as exc:
        raise SigningNotConfigured(
            f"Cannot read the signing key {key_path} (wrong passphrase?): {exc}"
        ) from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(
        serialization.Encoding.DER, spki
    ) != cert.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise SigningNotConfigured(f"The key {key_path} does not belong to {cert_path}")
    return cert


def ensure_signing_cert() -> bool:
    """Create a self-signed certificate and key at the configured paths if neither exists.

    Returns True when a new pair was created. An existing pair is checked (the key must match
    the certificate); half a pair raises :class:`SigningNotConfigured` rather than being
    replaced, since replacing a key silently would make earlier copies unverifiable.
    """
    cert_path, key_path = signing_cert_path(), signing_key_path()
    with _creation_lock(key_path.parent):
        cert_exists, key_exists = cert_path.exists(), key_path.exists()
        if cert_exists and key_exists:
            cert = check_signing_pair(cert_path, key_path)
            remaining = cert.not_valid_after_utc - datetime.now(tz=UTC)
            if remaining < timedelta(days=30):
                logger.warning(
                    "The signing certificate %s expires on %s",
                    cert_path,
                    cert.not_valid_after_utc.date().isoformat(),
                )
            return False
        if cert_exists or key_exists:
            missing = key_path if cert_exists else cert_path
            raise SigningNotConfigured(
                f"{missing} is missing but its counterpart exists; restore it or run "
                "'manage.py create_signing_cert --force'"
            )
        create_self_signed_cert(
            cert_path,
            key_path,
            common_name=default_common_name(),
            organisation=default_organisation(),
            days=DEFAULT_CERT_DAYS,
            passphrase=signing_key_passphrase(),
        )
        return True


# ---------------------------------------------------------------------------------------------
# Signing

_signer_lock = threading.Lock()
_signer_cache: dict[tuple[Any, ...], tuple[Any, int]] = {}

# Room for the signature container beyond the certificates it carries: signed attributes, an
# RSA-4096 or ECDSA signature and DER overhead fit easily. Reserving a fixed size spares
# pyHanko a trial signature per PDF to estimate it.
_SIGNATURE_OVERHEAD_BYTES = 4096


@functools.cache
def _cached_key_signer_class() -> type:
    """A ``SimpleSigner`` that parses its private key once instead of on every signature.

    pyHanko's ``SimpleSigner`` re-loads the key into ``cryptography`` for each signature, and
    loading an RSA key runs a consistency check that costs ~170 ms for 3072 bits. Defined on
    first use because importing pyHanko takes about half a second.
    """
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign import signers
    from pyhanko.sign.general import get_pyca_cryptography_hash

    class CachedKeySigner(signers.SimpleSigner):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pyca_key = serialization.load_der_private_key(
                self.signing_key.dump(), password=None
            )

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            if mechanism.signature_algo == "rsassa_pkcs1v15" and isinstance(
                self._pyca_key, rsa.RSAPrivateKey
            ):
                return self._pyca_key.sign(
                    data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)
                )
            return super().sign_raw(data, digest_algorithm)

    return CachedKeySigner


def _file_stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path), stat.st_mtime_ns, stat.st_size)


def _load_signer() -> tuple[Any, int]:
    """The signer for the configured pair and the bytes to reserve for its signature.

    Loaded with pyHanko's ``SimpleSigner.load`` and cached until either file changes.
    """
    from pyhanko.sign import signers

    cert_path, key_path = signing_cert_path(), signing_key_path()
    passphrase = signing_key_passphrase()
    try:
        cache_key = (
            _file_stamp(cert_path),
            _file_stamp(key_path),
            hashlib.sha256(passphrase or b"").hexdigest(),
        )
    except FileNotFoundError:
        check_signing_pair(cert_path, key_path, passphrase)  # raises with a plain message
        raise
    with _signer_lock:
        cached = _signer_cache.get(cache_key)
        if cached is None:
            check_signing_pair(cert_path, key_path, passphrase)
            loaded = signers.SimpleSigner.load(
                key_file=str(key_path), cert_file=str(cert_path), key_passphrase=passphrase
            )
            if loaded is None:
                raise SigningNotConfigured(f"pyHanko could not load {key_path} / {cert_path}")
            signer = _cached_key_signer_class()(
                signing_cert=loaded.signing_cert,
                signing_key=loaded.signing_key,
                cert_registry=loaded.cert_registry,
            )
            certs_size = len(loaded.signing_cert.dump()) + sum(
                len(cert.dump()) for cert in loaded.cert_registry
            )
            reserved = certs_size + _SIGNATURE_OVERHEAD_BYTES
            # pyHanko writes the reservation as hex digits, so it must be an even number.
            cached = (signer, reserved + reserved % 2)
            _signer_cache.clear()
            _signer_cache[cache_key] = cached
        return cached


def _run_coroutine_safely(func: Callable[[], T]) -> T:
    """Run a function that calls ``asyncio.run`` even when this thread has a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return func()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func).result()


def sign_pdf(
    pdf_bytes: bytes,
    *,
    reason: str,
    field_name: str = DEFAULT_FIELD_NAME,
    certify: bool = True,
) -> bytes:
    """Sign ``pdf_bytes`` with the organisation's certificate and return the signed PDF.

    A PAdES baseline signature (``ETSI.CAdES.detached``, SHA-256) is appended as an incremental
    update in a new invisible signature field ``field_name``. With ``certify`` (the default) it
    is a certification signature that allows no further changes, so PDF readers report any
    later edit as a violation rather than as an ordinary later revision.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer, bytes_reserved = _load_signer()
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=certify,
        **({"docmdp_permissions": fields.MDPPerm.NO_CHANGES} if certify else {}),
    )

    def sign() -> bytes:
        writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes))
        output = signers.sign_pdf(writer, meta, signer=signer, bytes_reserved=bytes_reserved)
        return output.getvalue()

    try:
        return _run_coroutine_safely(sign)
    except SigningNotConfigured:
        raise
    except Exception as exc:
        raise SigningError(f"Could not sign the PDF: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class PdfVerification:
    """What :func:`verify_pdf` found out about a file.

    ``status`` is one of ``not_pdf``, ``unsigned``, ``altered``, ``untrusted``,
    ``modified_after_signing`` and ``valid``; ``summary`` says the same in plain words.
    ``intact`` means the signed bytes are exactly as signed and the signature checks out;
    ``trusted`` that it was made with the organisation's certificate; ``covers_whole_file``
    that nothing was appended after signing. The plan metadata (``pip_id``, ``version``,
    ``content_hash`` and the rest in ``metadata``) is read from the signed revision when
    there is a signature, so text appended after signing cannot change it.
    """

    is_pdf: bool
    signed: bool
    intact: bool
    trusted: bool
    status: str
    summary: str
    sha256: str
    signer_name: str | None = None
    signer_organisation: str | None = None
    signed_at: datetime | None = None
    reason: str | None = None
    field_name: str | None = None
    coverage: str | None = None
    covers_whole_file: bool = False
    signature_count: int = 0
    title: str | None = None
    pip_id: str | None = None
    version: str | None = None
    content_hash: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True only for an intact, trusted signature covering the whole file."""
        return self.status == STATUS_VALID


def _looks_like_pdf(data: bytes) -> bool:
    # The header may be preceded by junk, within the first 1024 bytes.
    return b"%PDF-" in data[:1024]


def _trust_roots() -> list[Any]:
    from pyhanko.keys import load_cert_from_pemder

    roots = []
    for path in [signing_cert_path(), *_extra_trust_root_paths()]:
        try:
            roots.append(load_cert_from_pemder(str(path)))
        except (OSError, ValueError) as exc:
            logger.warning("Cannot load trusted signing certificate %s: %s", path, exc)
    return roots


def _info_of(handler: Any) -> dict[str, str]:
    """The document information dictionary as ``handler`` (a reader or one revision) sees it.

    The reference is resolved through ``handler`` itself: a historical revision's trailer holds
    references that would otherwise resolve against the latest revision.
    """
    from pyhanko.pdf_utils import generic

    try:
        raw = handler.trailer_view.raw_get("/Info")
        info = handler.get_object(raw.reference) if isinstance(raw, generic.IndirectObject) else raw
        return {str(key): str(info[key]) for key in info}
    except Exception:  # noqa: BLE001 - a missing or damaged /Info is reported as empty
        return {}


_COVERAGE_WORDS = {
    "ENTIRE_FILE": COVERAGE_ENTIRE_FILE,
    "ENTIRE_REVISION": "signed revision only (later changes appended)",
    "CONTIGUOUS_BLOCK_FROM_START": "part of the file",
    "UNCLEAR": "unclear",
}


def _fmt_time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "an unknown time"


def _summary(status: str, signer: str | None, signed_at: datetime | None) -> str:
    who = signer or "an unknown signer"
    when = _fmt_time(signed_at)
    return {
        STATUS_NOT_PDF: "This file is not a PDF, so it cannot be checked.",
        STATUS_UNSIGNED: (
            "This is a PDF, but it carries no digital signature, so it cannot be confirmed "
            "as an authentic copy."
        ),
        STATUS_ALTERED: (
            "This PDF has been altered since it was signed: its contents no longer match the "
            "signature. It is not an authentic copy."
        ),
        STATUS_UNTRUSTED: (
            f"The signature is intact, but it was made by {who}, not with this organisation's "
            "certificate. It is not an authentic copy."
        ),
        STATUS_MODIFIED: (
            f"The part signed by {who} on {when} is intact, but content was added to the file "
            "after it was signed. The added content is not covered by the signature."
        ),
        STATUS_VALID: (
            f"Authentic: signed by {who} on {when} with this organisation's certificate, and "
            "not changed since."
        ),
    }[status]


def verify_pdf(pdf_bytes: bytes) -> PdfVerification:
    """Check a PDF's signature against the organisation's certificate. Never raises for bad input.

    A byte changed anywhere in the signed range gives ``intact=False`` (status ``altered``),
    including when the change breaks the file so badly that the signature cannot be read.
    """
    digest = hashlib.sha256(pdf_bytes).hexdigest()
    if not _looks_like_pdf(pdf_bytes):
        return PdfVerification(
            is_pdf=False,
            signed=False,
            intact=False,
            trusted=False,
            status=STATUS_NOT_PDF,
            summary=_summary(STATUS_NOT_PDF, None, None),
            sha256=digest,
        )
    try:
        return _run_coroutine_safely(lambda: _verify(pdf_bytes, digest))
    except Exception as exc:  # noqa: BLE001 - any failure to read a signed file means altered
        logger.info("PDF verification failed: %s", exc, exc_info=True)
        if b"/ByteRange" in pdf_bytes:
            status = STATUS_ALTERED
            return PdfVerification(
                is_pdf=True,
                signed=True,
                intact=False,
                trusted=False,
                status=status,
                summary=_summary(status, None, None),
                sha256=digest,
                problem=f"{type(exc).__name__}: {exc}",
            )
        return PdfVerification(
            is_pdf=False,
            signed=False,
            intact=False,
            trusted=False,
            status=STATUS_NOT_PDF,
            summary="This file looks like a PDF but cannot be read, so it cannot be checked.",
            sha256=digest,
            problem=f"{type(exc).__name__}: {exc}",
        )


def _verify(pdf_bytes: bytes, digest: str) -> PdfVerification:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import KeyUsageConstraints, validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(BytesIO(pdf_bytes), strict=True)
    signatures = list(reader.embedded_regular_signatures)
    if not signatures:
        info = _info_of(reader)
        custom = metadata_from_info(info)
        return PdfVerification(
            is_pdf=True,
            signed=False,
            intact=False,
            trusted=False,
            status=STATUS_UNSIGNED,
            summary=_summary(STATUS_UNSIGNED, None, None),
            sha256=digest,
            title=info.get("/Title"),
            metadata=custom,
            **_known(custom),
        )

    # The organisation's signature is the first one; anything after it is a later change.
    embedded = signatures[0]
    context = ValidationContext(
        trust_roots=_trust_roots(), allow_fetching=False, revocation_mode="soft-fail"
    )
    # Either key usage will do: CA-issued signing certificates often carry only one of them.
    key_usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"})
    result = validate_pdf_signature(
        embedded, signer_validation_context=context, key_usage_settings=key_usage
    )

    cert_subject = result.signing_cert.subject.native
    signer_name = cert_subject.get("common_name") or result.signing_cert.subject.human_friendly
    organisation = cert_subject.get("organization_name")
    intact = bool(result.intact and result.valid)
    trusted = bool(result.trusted)
    whole_file = result.coverage == SignatureCoverageLevel.ENTIRE_FILE and len(signatures) == 1
    if not intact:
        status = STATUS_ALTERED
    elif not trusted:
        status = STATUS_UNTRUSTED
    elif not whole_file or result.docmdp_ok is False:
        status = STATUS_MODIFIED
    else:
        status = STATUS_VALID

    signed_revision = reader.get_historical_resolver(embedded.signed_revision)
    info = _info_of(signed_revision)
    custom = metadata_from_info(info)
    reason = embedded.sig_object.get("/Reason")
    coverage = result.coverage.name if result.coverage is not None else None
    return PdfVerification(
        is_pdf=True,
        signed=True,
        intact=intact,
        trusted=trusted,
        status=status,
        summary=_summary(status, signer_name, result.signer_reported_dt),
        sha256=digest,
        signer_name=signer_name,
        signer_organisation=organisation,
        signed_at=result.signer_reported_dt,
        reason=str(reason) if reason is not None else None,
        field_name=embedded.field_name,
        coverage=_COVERAGE_WORDS.get(coverage, coverage) if coverage else None,
        covers_whole_file=whole_file,
        signature_count=len(signatures),
        title=info.get("/Title"),
        metadata=custom,
        **_known(custom),
    )


def _known(custom: dict[str, str]) -> dict[str, str | None]:
    return {key: custom.get(key) for key in METADATA_KEYS}
