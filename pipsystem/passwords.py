"""Password reset e-mails, sent from a task: the request only checks the address and queues the
sending, so it answers alike, and as fast, whether or not an account has that address, and a
slow mail server holds a worker, never a web request."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm


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
