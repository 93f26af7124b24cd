"""E-mails and in-app notifications, built from templates:
`templates/emails/<name>-subject.txt`, `<name>-body.txt` and `<name>-body.html`.

User text is escaped in the HTML part by the template engine; the text part is plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from pips import languages
from pips.models import Notification, Pip


def absolute(url: str) -> str:
    return f"{settings.SITE_URL}{url}"


def send(
    name: str,
    recipients: Sequence[str],
    context: dict,
    *,
    attachments: Iterable[tuple[str, bytes | str, str]] = (),
    connection=None,
    language: str | None = None,
) -> int:
    """Render and send one templated e-mail. Returns the number of messages sent (0 or 1).
    A batch of e-mails passes one open `connection` so SMTP is not reconnected for each.
    `language` is the recipients' (pips.languages.language_of): the fixed text, dates and
    numbers are written in it; without it, the language active now."""
    recipients = [r for r in recipients if r]
    if not recipients:
        return 0
    context = {"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME, **context}
    with translation.override(language or translation.get_language()):
        subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
        text = render_to_string(f"emails/{name}-body.txt", context)
        html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, recipients, connection=connection
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message.send()


def notify(
    users: Iterable, *, pip: Pip | None, text: str | Callable[[], str], url: str = ""
) -> None:
    """What each user sees in the app's notification list. ``text`` is a string, or a function
    that writes it: called once per user in that user's language, as the list stores text."""
    rows = []
    for user in users:
        if not user:
            continue
        if callable(text):
            with translation.override(languages.language_of(user)):
                written = str(text())
        else:
            written = str(text)
        rows.append(Notification(user=user, pip=pip, text=written[:300], url=url))
    Notification.objects.bulk_create(rows)
