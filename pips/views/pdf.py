"""PDF copies of plans: the download of a version's signed copy, and the page that checks an
uploaded copy against the record."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from pips import selectors, services
from pips.forms.verify import VerifyCopyForm
from pips.printing.render import version_for_user
from pips.printing.seal import open_copy
from pips.printing.verify import MAX_UPLOAD_BYTES, check_copy
from pips.views.common import request_meta
from pipsystem import pdfsign
from pipsystem.pdfrender import PdfRenderError, PdfRenderTimeout

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
    response = FileResponse(
        content,
        as_attachment=True,
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


@require_http_methods(["GET", "POST"])
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """Upload a PDF copy: is it genuine, which plan and version, does it match the record."""
    check = None
    if request.method != "POST":
        form = VerifyCopyForm()
    elif _content_length(request) > MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD_BYTES:
        # Refused before the body is read: nothing this large is a copy of a plan.
        form = VerifyCopyForm.too_large()
    else:
        form = VerifyCopyForm(request.POST, request.FILES)
        if form.is_valid():
            check = check_copy(request.user, form.cleaned_data["file"])
            form = VerifyCopyForm()
    response = render(request, "pips/verify/verify.html", {"form": form, "check": check})
    response["Cache-Control"] = "no-store"
    return response


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
