"""A KPI upload larger than the limit is refused by its Content-Length, before anything reads
the body: Django's CSRF check would otherwise parse the whole multipart body (writing the file
to disk) before the form could say it is too large."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

# Room for the form's other fields and the multipart boundaries around the file.
FORM_OVERHEAD = 64 * 1024


class UploadSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path == reverse("metrics:upload"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.METRICS_UPLOAD_MAX_BYTES
            if length > limit + FORM_OVERHEAD:
                response = render(
                    request,
                    "metrics/too_large.html",
                    {"limit_mb": limit // (1024 * 1024), "size_mb": length / (1024 * 1024)},
                    status=413,
                )
                response["Connection"] = "close"  # the body is not read
                return response
        return self.get_response(request)
