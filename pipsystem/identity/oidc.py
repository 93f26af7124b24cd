"""Single sign-on with OpenID Connect (mozilla-django-oidc), for Okta, Microsoft Entra ID,
Google or any other OpenID provider.

A person who signs in is matched to their account by the employee ID claim
(`OIDC_EMPLOYEE_ID_CLAIM`, looked up through the roster) or else by e-mail (one account with
that address); no account is created unless `OIDC_CREATE_USERS` is on. Roles come from the
provider's groups claim by `IDENTITY_ROLE_GROUPS` (when `OIDC_SYNC_GROUP_ROLES` is on, each
sign-in grants and withdraws them). Someone left with no role at all, or whose account is
deactivated, is refused, and the refusal page says why.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from pips.languages import LanguageUserMixin
from pipsystem.identity import directory, invitations

logger = logging.getLogger("pipsystem.security")

REFUSAL_KEY = "sso_refusal"


class RoleMappedOIDCBackend(LanguageUserMixin, OIDCAuthenticationBackend):
    def _refuse(self, reason: str, claims: dict) -> None:
        logger.warning("single sign-on refused (%s) for subject %s", reason, claims.get("sub", "?"))
        if getattr(self, "request", None) is not None:
            self.request.session[REFUSAL_KEY] = reason
        raise SuspiciousOperation(f"single sign-on refused: {reason}")

    def get_userinfo(self, access_token, id_token, payload):
        """The userinfo answer, completed by the verified ID token's claims: Microsoft Entra ID
        puts groups and optional claims (employee ID) in the ID token only. Both must be about
        the same subject (OpenID Connect Core 5.3.2)."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            self._refuse("the provider's answers are about different people", payload)
        return {**payload, **userinfo}

    def verify_claims(self, claims) -> bool:
        if not claims.get("sub"):
            return False
        return bool(self._employee_id(claims) or claims.get("email"))

    def _employee_id(self, claims) -> str:
        value = (
            claims.get(settings.OIDC_EMPLOYEE_ID_CLAIM) if settings.OIDC_EMPLOYEE_ID_CLAIM else ""
        )
        return str(value).strip() if value not in (None, "") else ""

    def _groups(self, claims) -> list[str]:
        value = claims.get(settings.OIDC_GROUPS_CLAIM) or []
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value]

    def filter_users_by_claims(self, claims):
        User = get_user_model()
        employee_id = self._employee_id(claims)
        if employee_id:
            user = directory.user_for_employee(employee_id)
            if user is not None:
                return User.objects.filter(pk=user.pk)
        email = (claims.get("email") or "").strip()
        if email and settings.OIDC_MATCH_EMAIL:
            if settings.OIDC_REQUIRE_VERIFIED_EMAIL and claims.get("email_verified") is False:
                self._refuse("the provider has not verified this e-mail address", claims)
            return User.objects.filter(email__iexact=email)
        return User.objects.none()

    def get_or_create_user(self, access_token, id_token, payload):
        try:
            return super().get_or_create_user(access_token, id_token, payload)
        except SuspiciousOperation:
            raise
        except Exception:  # a provider answering nonsense is a refused login, not a 500
            logger.exception("single sign-on: unreadable answer from the provider")
            if getattr(self, "request", None) is not None:
                self.request.session[REFUSAL_KEY] = "the identity provider's answer was unreadable"
            return None

    def create_user(self, claims):
        if not settings.OIDC_CREATE_USERS:
            self._refuse("no account here matches your employee ID or e-mail", claims)
        wanted = directory.roles_from_groups(self._groups(claims))
        if not wanted:
            self._refuse("your account has no role in pipsystem", claims)
        User = get_user_model()
        email = claims.get("email", "")
        username = self._employee_id(claims) or email or claims["sub"]
        if User.objects.filter(username=username).exists():
            self._refuse("an account with this username exists but does not match", claims)
        user = User.objects.create_user(username[:150], email=email)
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        if not user.is_active:
            self._refuse("your account is deactivated", claims)
        changed = []
        for field, claim in (("first_name", "given_name"), ("last_name", "family_name")):
            value = (claims.get(claim) or "").strip()[:150]
            if value and not getattr(user, field):
                setattr(user, field, value)
                changed.append(field)
        if changed:
            user.save(update_fields=changed)
        if settings.OIDC_SYNC_GROUP_ROLES:
            directory.set_group_roles(user, directory.roles_from_groups(self._groups(claims)))
        if not directory.roles_of(user):
            self._refuse("your account has no role in pipsystem", claims)
        invitations.accept_by_sso(user)
        return user


def provider_logout_url(request) -> str:
    """Where logging out sends the browser: the provider's end-session endpoint (RP-initiated
    logout), back to our login page, so the provider's session ends too."""
    back = request.build_absolute_uri(reverse("login"))
    endpoint = settings.OIDC_OP_LOGOUT_ENDPOINT
    id_token = request.session.get("oidc_id_token")
    if not endpoint or not id_token:
        return reverse("login")
    query = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": back,
        "client_id": settings.OIDC_RP_CLIENT_ID,
    }
    return f"{endpoint}?{urlencode(query)}"


def axes_exempt(request, credentials) -> bool:
    """Login throttling (django-axes) counts password guesses; the single sign-on callback
    carries no password, only a one-time code the provider issued after its own checks, and
    has no username to count by: its refusals would otherwise add up per address, and a floor
    of agents behind one address would be locked out of single sign-on together."""
    return request is not None and request.path == reverse("identity:oidc_authentication_callback")
