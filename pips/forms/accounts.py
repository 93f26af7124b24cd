"""The login form: Django's, refusing a username longer than any account's before it reaches
the authentication backends (and the login-throttling records, whose columns it would not
fit), with the same message as a wrong password."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db import transaction

from pips import tasks


class LoginForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if len(username) > self.fields["username"].max_length:
            raise self.get_invalid_login_error()
        return super().clean()


class PasswordResetRequestForm(PasswordResetForm):
    """Django's password reset form, but the e-mail goes from a task: the request only checks
    the address and queues it, so it answers alike, and as fast, whether or not an account has
    that address, and a slow mail server holds a worker, never a web request."""

    def save(self, **kwargs) -> None:
        email = self.cleaned_data["email"]
        transaction.on_commit(lambda: tasks.enqueue(tasks.send_password_reset, email))


def send_password_reset(email: str) -> None:
    """Send the reset link to the active accounts with this address (none: nothing is sent)."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return
    form.save(
        domain_override=urlsplit(settings.SITE_URL).netloc,
        use_https=settings.SITE_URL.startswith("https://"),
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.txt",
        html_email_template_name="registration/password_reset_email.html",
        extra_email_context={"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME},
    )
