"""Pages of the ways in: accepting an invitation, the single sign-on refusal page, logging
out (of the identity provider too), and two-factor set-up and check."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from pipsystem.identity import invitations, twofactor
from pipsystem.identity.oidc import REFUSAL_KEY, provider_logout_url


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label=gettext_lazy("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", gettext("The two passwords differ."))
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    try:
        found = invitations.invitation_check(pk, token)
    except invitations.InvitationError as exc:
        if exc.reason == "invalid":
            raise Http404(gettext("No such invitation.")) from None
        return render(request, "identity/invitation_gone.html", {"reason": exc.reason}, status=410)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and settings.LOCAL_PASSWORDS and form.is_valid():
        try:
            accepted = invitations.invitation_accept(
                invitation_id=pk, token=token, password=form.cleaned_data["password1"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except invitations.InvitationError as exc:
            return render(
                request, "identity/invitation_gone.html", {"reason": exc.reason}, status=410
            )
        else:
            auth_login(request, accepted.user, backend="pips.languages.ProfileModelBackend")
            messages.success(request, gettext("Welcome. Your password is set."))
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "identity/invitation.html",
        {
            "form": form,
            "invitee": found.user,
            "sso": invitations.sso_enabled(),
            "local_passwords": settings.LOCAL_PASSWORDS,
            "sso_name": settings.OIDC_PROVIDER_NAME,
        },
    )


def _sso_only(view):
    def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not invitations.sso_enabled():
            raise Http404(gettext("Single sign-on is not set up."))
        return view(request, *args, **kwargs)

    return inner


sso_start = require_http_methods(["GET"])(_sso_only(OIDCAuthenticationRequestView.as_view()))
sso_callback = require_http_methods(["GET"])(_sso_only(OIDCAuthenticationCallbackView.as_view()))


@never_cache
@require_http_methods(["GET"])
def sso_refused(request: HttpRequest) -> HttpResponse:
    reason = request.session.pop(REFUSAL_KEY, "") or "the sign-in could not be completed"
    return render(request, "identity/sso_refused.html", {"reason": reason}, status=403)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Log out here, and at the identity provider when the session came from it."""
    target = provider_logout_url(request) if request.user.is_authenticated else None
    auth_logout(request)
    return redirect(target or settings.LOGOUT_REDIRECT_URL)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def twofactor_setup(request: HttpRequest) -> HttpResponse:
    if twofactor.has_device(request.user) and not request.user.is_verified():
        return redirect("identity:twofactor_verify")
    device = twofactor.pending_totp(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.confirm_totp(request, device, form.cleaned_data["code"])
        if codes is not None:
            return render(
                request,
                "identity/recovery_codes.html",
                {"codes": codes, "next": twofactor.safe_next(request)},
            )
        form.add_error(
            "code", gettext("That code is not right; check the time on your phone and try again.")
        )
    import segno

    qr = segno.make(device.config_url, micro=False)
    return render(
        request,
        "identity/twofactor_setup.html",
        {
            "form": form,
            "qr": qr.svg_data_uri(scale=4),
            "secret": _base32(device),
            "next": request.GET.get("next", ""),
        },
    )


def _base32(device) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def twofactor_verify(request: HttpRequest) -> HttpResponse:
    if not twofactor.has_device(request.user):
        return redirect("identity:twofactor_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.verify(request, form.cleaned_data["code"]):
            return redirect(twofactor.safe_next(request))
        form.add_error(
            "code",
            gettext(
                "That code is not right (or was used already, or too many tries: wait a minute)."
            ),
        )
    return render(
        request,
        "identity/twofactor_verify.html",
        {"form": form, "next": request.GET.get("next", "")},
    )


@never_cache
@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working); only from a verified session."""
    if not request.user.is_verified():
        return redirect("identity:twofactor_verify")
    codes = twofactor.new_recovery_codes(request.user)
    return render(request, "identity/recovery_codes.html", {"codes": codes, "next": ""})
