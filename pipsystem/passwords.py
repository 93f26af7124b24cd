"""Password reset e-mails, sent from a task: the request only checks the address and queues the
sending, so it answers alike, and as fast, whether or not an account has that address, and a
slow mail server holds a worker, never a web request."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.utils import translation

from pipsystem.identity.directory import language_of


class _ResetForm(PasswordResetForm):
    """Each account's e-mail in the language its owner reads (IDENTITY_LANGUAGE_OF), not the
    language of whoever asked for the reset."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        with translation.override(language_of(context["user"])):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


def send_password_reset(email: str) -> None:
    """Send the reset link to the active accounts with this address (none: nothing is sent)."""
    form = _ResetForm({"email": email})
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
