"""Two-factor sign-in (django-otp): a TOTP authenticator app, with one-time recovery codes.

With `TWO_FACTOR_REQUIRED` on, an account holding one of `TWO_FACTOR_ROLES` (HR and
administrators by default) reaches no page but the set-up and check pages until this session is
verified: the first time it sets up an authenticator and receives its recovery codes; later it
enters a code from the app or one recovery code (each works once).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from pipsystem.identity import directory

RECOVERY_CODES = 10
# Reached while a required second factor is still missing (each is a path prefix).
_EXEMPT_NAMES = ("identity:twofactor_setup", "identity:twofactor_verify", "logout", "login")


def required_for(user) -> bool:
    if not settings.TWO_FACTOR_REQUIRED or not user.is_authenticated:
        return False
    return bool(directory.roles_of(user) & set(settings.TWO_FACTOR_ROLES))


def has_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def confirmed_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_totp(user) -> TOTPDevice:
    """The authenticator being set up (not yet confirmed by a code), made on first visit."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def confirm_totp(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the authenticator with a code from it; returns the new recovery codes."""
    if not device.verify_token(code.replace(" ", "")):
        return None
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    return new_recovery_codes(device.user)


@transaction.atomic
def new_recovery_codes(user) -> list[str]:
    """Ten new one-time codes; the earlier ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    # 56 random bits each; django-otp keeps at most 16 characters.
    codes = [
        f"{secrets.token_hex(4)[:7]}-{secrets.token_hex(4)[:7]}" for _ in range(RECOVERY_CODES)
    ]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def verify(request, code: str) -> bool:
    """A code from the app, or a recovery code (used up); throttled by django-otp."""
    device = match_token(request.user, code.strip().replace(" ", ""))
    if device is None:
        return False
    otp_login(request, device)
    return True


def safe_next(request, default: str = "pips:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default)


class TwoFactorRequiredMiddleware:
    """Sends an account that needs a second factor to set it up or enter it (after
    django_otp's OTPMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.TWO_FACTOR_REQUIRED
            and user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not self._exempt(request.path)
            and required_for(user)
        ):
            name = "identity:twofactor_verify" if has_device(user) else "identity:twofactor_setup"
            return redirect(f"{reverse(name)}?next={request.get_full_path()}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        if path.startswith(
            settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"
        ):
            return True
        return any(path == reverse(name) for name in _EXEMPT_NAMES)
