"""What every view module shares: request metadata for the audit trail, and turning a
service's refusal into a message."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from pips.inputs import RequestMeta


def request_meta(request: HttpRequest) -> RequestMeta:
    # REMOTE_ADDR is the client as the WSGI server saw it; behind a proxy, the proxy should
    # set it (gunicorn --forwarded-allow-ips), not a header anyone can forge.
    return RequestMeta(
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
    )


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def flash_error(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, error_text(error))
