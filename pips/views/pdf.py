"""PDF copies of plans: the download of a version's signed copy, and the page that checks an
uploaded copy against the record."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from pips import selectors, services
from pips.forms.verify import VerifyCopyForm
from pips.printing.render import version_for_user
from pips.printing.seal import open_copy
from pips.printing.verify import MAX_UPLOAD_BYTES, check_copy
from pips.views.common import request_meta
from pipsystem import pdfsign, ratelimit
from pipsystem.pdfrender import PdfRenderError, PdfRenderTimeout
from pipsystem.security import client_ip

logger = logging.getLogger(__name__)

# Multipart framing around the file; a request larger than this is refused before it is read.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


@require_GET
@login_required
def plan_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed copy of the version in force."""
    return _download(request, pk, None)


@require_GET
@login_required
def version_pdf(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """The signed copy of one version, old or draft (for those who may see drafts)."""
    return _download(request, pk, number)


def _download(request: HttpRequest, pk: int, number: int | None) -> HttpResponse:
    pip = selectors.pip_for_user(request.user, pk)
    version = version_for_user(request.user, pip, number)
    try:
        copy, content = open_copy(pip=pip, version=version)
    except PdfRenderTimeout:
        logger.warning("PDF of %s v%s not ready in time", pip.reference, version.number)
        return _unavailable(request, pip, busy=True)
    except (PdfRenderError, pdfsign.SigningError, pdfsign.SigningNotConfigured):
        logger.exception("PDF of %s v%s could not be produced", pip.reference, version.number)
        return _unavailable(request, pip, busy=False)
    services.pip_viewed(
        actor=request.user,
        pip=pip,
        what="downloaded",
        meta=request_meta(request),
        version=version,
    )
    # Opens in the browser's PDF viewer ("Print PDF"); its name is kept for saving.
    response = FileResponse(
        content,
        as_attachment=False,
        filename=copy.filename,
        content_type="application/pdf",
    )
    response["Cache-Control"] = "no-store"
    return response


def _unavailable(request: HttpRequest, pip, *, busy: bool) -> HttpResponse:
    response = render(
        request, "pips/print/unavailable.html", {"pip": pip, "busy": busy}, status=503
    )
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


class _CopyInMemory(MemoryFileUploadHandler):
    """The uploaded copy in memory whatever FILE_UPLOAD_MAX_MEMORY_SIZE says, up to the largest
    copy accepted; a larger upload is not kept at all (the view refuses it on its size)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.activated = content_length <= MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD_BYTES


@csrf_exempt  # checked below, once the upload handlers are set
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Upload a PDF copy: is it genuine, which plan and version, does it match the record.

    Open to anyone: the people who check a printed copy (a lawyer, a tribunal, the employee's
    representative) have no account. Tells a plan's number only to those who may see it,
    counts checks per client address (PIP_VERIFY_PER_HOUR), and keeps nothing of the upload:
    it is read in memory, never written to disk, and not logged or recorded."""
    request.upload_handlers = [_CopyInMemory(request)]
    return _verify(request)


@csrf_protect
def _verify(request: HttpRequest) -> HttpResponse:
    check = None
    status = 200
    if request.method != "POST":
        form = VerifyCopyForm()
    else:
        limit = ratelimit.hit(
            "verify",
            client_ip(request),
            per_window=settings.PIP_VERIFY_PER_HOUR,
            window_seconds=3600,
        )
        if not limit.allowed:
            form = VerifyCopyForm.too_many(minutes=-(-limit.retry_after // 60))
            status = 429
        elif _content_length(request) > MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD_BYTES:
            # Refused before the body is read: nothing this large is a copy of a plan.
            form = VerifyCopyForm.too_large()
        else:
            form = VerifyCopyForm(request.POST, request.FILES)
            if form.is_valid():
                check = check_copy(request.user, form.cleaned_data["file"])
                form = VerifyCopyForm()
    response = render(
        request, "pips/verify/verify.html", {"form": form, "check": check}, status=status
    )
    response["Cache-Control"] = "no-store"
    if status == 429:
        response["Retry-After"] = str(limit.retry_after)
    return response


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
