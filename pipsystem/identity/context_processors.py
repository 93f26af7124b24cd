from __future__ import annotations

from django.conf import settings


def sign_in(request) -> dict:
    """What the login page offers: single sign-on, local passwords, or both."""
    return {
        "sso_enabled": bool(settings.OIDC_RP_CLIENT_ID),
        "sso_name": settings.OIDC_PROVIDER_NAME,
        "local_passwords": settings.LOCAL_PASSWORDS,
    }
