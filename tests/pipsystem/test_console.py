"""A quiet console: a refused (403) or missing (404) page is one log line without a traceback;
a server error keeps its traceback; e-mails in development are one line each, written in full to
a folder."""

from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils.module_loading import import_string

pytestmark = pytest.mark.django_db


class Console:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def read(self) -> str:
        value = self.stream.getvalue()
        self.stream.seek(0)
        self.stream.truncate()
        return value


@pytest.fixture
def console():
    """What the console handler of the project's LOGGING prints: its formatter and filters, on
    the loggers as django.setup configured them, into a string."""
    config = settings.LOGGING["handlers"]["console"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"]))
    for name in config["filters"]:
        handler.addFilter(import_string(settings.LOGGING["filters"][name]["()"])())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield Console(stream)
    finally:
        root.removeHandler(handler)


def test_django_prints_nothing_itself():
    """Django's default console handler would print each django.* record a second time."""
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django.request").handlers == []


def test_403_and_404_are_one_line_each_without_traceback(console, alex):
    client = Client()
    client.force_login(alex.user)
    console.read()
    assert client.get("/pips/stats/").status_code == 403
    assert client.get("/pips/999999/").status_code == 404
    err = console.read()
    assert "Traceback" not in err and "File " not in err
    # One line each from django.request (`make run` leaves those to runserver's request line);
    # the refusal is also in the security log, on one line.
    requests = [line for line in err.splitlines() if " django.request " in line]
    assert len(requests) == 2, err
    assert "Forbidden" in requests[0] and "/pips/stats/" in requests[0]
    assert "Not Found" in requests[1] and "/pips/999999/" in requests[1]
    assert len(err.splitlines()) == 3, err


def test_a_server_error_keeps_its_traceback(console, alex, monkeypatch):
    from pips.views import home

    def broken(*args, **kwargs):
        raise RuntimeError("the real fault")

    monkeypatch.setattr(home, "render", broken)
    client = Client(raise_request_exception=False)
    client.force_login(alex.user)
    assert client.get("/").status_code == 500
    err = console.read()
    assert "Traceback" in err and "RuntimeError: the real fault" in err
    assert err.count("Traceback") == 1  # once, not also through Django's own handler


def test_development_e_mails_are_summarised_and_kept_whole(console, settings, tmp_path):
    settings.EMAIL_BACKEND = "pipsystem.mail.FolderBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    body = "Dear Alex,\n" + "A long body line.\n" * 60
    sent = mail.send_mail("Your plan is ready", body, "pips@example.com", ["alex@example.com"])
    assert sent == 1
    err = console.read()
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "e-mail to alex@example.com: Your plan is ready" in lines[0]
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1 and str(files[0]) in lines[0]
    saved = files[0].read_text()
    assert "Subject: Your plan is ready" in saved and saved.count("A long body line.") == 60


def test_a_batch_of_development_e_mails_is_one_line(console, settings, tmp_path):
    """Invitations and reminders go out through one open connection: one line for them all,
    every message still written whole."""
    settings.EMAIL_BACKEND = "pipsystem.mail.FolderBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    with mail.get_connection() as connection:
        for n in range(5):
            mail.EmailMessage(
                "You are invited",
                "Hello",
                "pips@example.com",
                [f"e{n}@example.com"],
                connection=connection,
            ).send()
        mail.EmailMessage(
            "Reminder", "Hello", "pips@example.com", ["e0@example.com"], connection=connection
        ).send()
        assert console.read() == ""  # told when the batch ends
    lines = [line for line in console.read().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "6 e-mails to 5 people in" in lines[0]
    assert "You are invited (×5); Reminder" in lines[0]
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 6
    # Without an open connection, one line each, as before.
    mail.send_mail("Alone", "Hello", "pips@example.com", ["a@example.com"])
    assert "e-mail to a@example.com: Alone" in console.read()
