"""Password reset answers the same, as fast, whether or not the address has an account: the
request only queues a task with the address; the task looks the account up and sends the
e-mail, so a slow mail server holds a worker, never a web request, and cannot be timed."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from pips import tasks

pytestmark = pytest.mark.django_db

RESET = "/accounts/password-reset/"
SLOW_SECONDS = 0.6


class SlowMailServer(EmailBackend):
    """The outbox, behind a mail server that takes its time."""

    calls = 0

    def send_messages(self, messages):
        SlowMailServer.calls += 1
        time.sleep(SLOW_SECONDS)
        return super().send_messages(messages)


@pytest.fixture
def sam_with_email(sam):
    sam.email = "sam@example.com"
    sam.save(update_fields=["email"])
    return sam


def ask(client, address: str, capture) -> tuple[float, list]:
    with capture(execute=False) as callbacks:
        started = time.perf_counter()
        response = client.post(RESET, {"email": address})
        took = time.perf_counter() - started
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    return took, callbacks


def test_known_and_unknown_addresses_get_the_same_quick_answer_and_the_mail_goes_from_a_task(
    client, sam_with_email, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.EMAIL_BACKEND = f"{__name__}.SlowMailServer"
    SlowMailServer.calls = 0
    client.get(RESET)  # the page once, so neither timing below pays for loading it
    queued: list[tuple] = []
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args: queued.append((task, args)))

    known_took, known_callbacks = ask(client, "sam@example.com", django_capture_on_commit_callbacks)
    unknown_took, unknown_callbacks = ask(
        client, "nobody@example.com", django_capture_on_commit_callbacks
    )
    # Nothing is sent during either request (the mail server is not even contacted), and both
    # queue the same kind of work; neither waits for the slow mail server.
    assert mail.outbox == [] and SlowMailServer.calls == 0
    assert abs(known_took - unknown_took) < SLOW_SECONDS
    for callback in known_callbacks + unknown_callbacks:
        callback()
    assert [(task.name, args) for task, args in queued] == [
        ("pips.tasks.send_password_reset", ("sam@example.com",)),
        ("pips.tasks.send_password_reset", ("nobody@example.com",)),
    ]

    # The worker: the unknown address gets nothing, the account's address its link.
    tasks.send_password_reset("nobody@example.com")
    assert mail.outbox == []
    tasks.send_password_reset("sam@example.com")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam@example.com"]
    link = re.search(r"https?://[^/\s]+(/accounts/reset/[^\s\"]+/)", message.body).group(1)
    assert client.get(link, follow=True).status_code == 200
    assert settings.SITE_URL + "/accounts/reset/" in message.body


def test_the_address_is_checked_in_the_request_and_a_bad_one_queues_nothing(
    client, db, django_capture_on_commit_callbacks, monkeypatch
):
    queued: list = []
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESET, {"email": "not an address"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert queued == []
