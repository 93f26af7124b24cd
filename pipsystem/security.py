"""Security plumbing shared by every page: response headers, the client address used for login
throttling, and the security log.

Security events (logins, logouts, failed logins, lockouts, refused requests) go to the
``pipsystem.security`` logger with the username and the client address, never a password or a
token. Receivers only log: they change nothing in the database.
"""

from __future__ import annotations

import logging

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.cache import patch_cache_control

logger = logging.getLogger("pipsystem.security")

# Browser features no page of the app uses.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "accelerometer=(), gyroscope=(), magnetometer=()"
)


def client_ip(request: HttpRequest | None) -> str:
    """The client address: REMOTE_ADDR, as the WSGI server saw it (behind a proxy, the proxy
    sets it, e.g. gunicorn --forwarded-allow-ips), never a header anyone can forge."""
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR") or ""


def _username_of(user) -> str:
    return user.get_username() if user is not None else ""


def _public_prefixes() -> tuple[str, ...]:
    """Paths whose responses are the same for everyone and may be cached: static files."""
    prefixes = []
    for url in (settings.STATIC_URL, settings.MEDIA_URL):
        if url and not url.startswith(("http://", "https://", "//")):
            prefixes.append("/" + url.lstrip("/"))
    return tuple(prefixes)


class SecurityHeadersMiddleware:
    """Headers Django's own middleware does not set.

    Every dynamic response is ``Cache-Control: no-store``: plans, PDFs, exports, lists of people
    and the API are HR records, and none of them may stay in a browser's or a proxy's cache
    after logout. Static files (served before this middleware by WhiteNoise) keep their caching.
    A ``PermissionDenied`` raised by a view is logged as a security event.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.public_prefixes = _public_prefixes()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(self.public_prefixes):
            patch_cache_control(response, no_store=True)
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = PERMISSIONS_POLICY
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            user = getattr(request, "user", None)
            logger.warning(
                "permission denied user=%r ip=%s method=%s path=%r",
                _username_of(user) if user is not None and user.is_authenticated else "",
                client_ip(request),
                request.method,
                request.path,
            )
        return None


class RefuseNulMiddleware:
    """A NUL character in the query string (``?q=%00``) is refused with 400 before any view, the
    admin's searches and filters included, sees it: no field can hold one (PostgreSQL refuses
    it in text, which would otherwise end as a 500), and no link of the app makes one."""

    MESSAGE = (
        "<!doctype html><title>Bad request</title><h1>Bad request</h1>"
        "<p>The address contains a NUL character, which no search, filter or page number can "
        "hold. Remove it and try again.</p>"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.GET
        if any("\x00" in key or any("\x00" in v for v in values) for key, values in query.lists()):
            return HttpResponseBadRequest(self.MESSAGE)
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="pipsystem.security.logged_in")
def log_login(sender, request=None, user=None, **kwargs) -> None:
    logger.info("login user=%r ip=%s", _username_of(user), client_ip(request))


@receiver(user_logged_out, dispatch_uid="pipsystem.security.logged_out")
def log_logout(sender, request=None, user=None, **kwargs) -> None:
    logger.info("logout user=%r ip=%s", _username_of(user), client_ip(request))


@receiver(user_login_failed, dispatch_uid="pipsystem.security.login_failed")
def log_login_failed(sender, credentials=None, request=None, **kwargs) -> None:
    # Only the username is read from the credentials: Django masks the password in them, and
    # the mask is not logged either.
    username = (credentials or {}).get("username", "")
    logger.warning("login failed user=%r ip=%s", str(username)[:150], client_ip(request))


@receiver(user_locked_out, dispatch_uid="pipsystem.security.locked_out")
def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    logger.warning(
        "login locked out user=%r ip=%s failures=%s",
        str(username or "")[:150],
        ip_address or client_ip(request),
        settings.AXES_FAILURE_LIMIT,
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """What a locked-out login attempt gets: the login page's look, the reason and the wait."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = max(1, round(cooloff.total_seconds() / 60)) if cooloff else 0
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": minutes,
        "username": str(username)[:150],
    }
    return render(request, "registration/lockout.html", context, status=429)


# The login-throttling records keep the username in a column of 255 characters.
AXES_USERNAME_MAX_LENGTH = 255


def throttled_username(request: HttpRequest | None, credentials: dict | None = None) -> str | None:
    """The username login throttling counts failures for (django-axes' own rule), cut to what its
    records hold: a longer one, typed on any login form (the admin's too), would otherwise fail
    to be recorded and turn a wrong login into a server error."""
    if credentials:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        username = data.get(settings.AXES_USERNAME_FORM_FIELD)
    return None if username is None else str(username)[:AXES_USERNAME_MAX_LENGTH]
