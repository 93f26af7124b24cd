"""E-mails, in-app notices and calendar invitations to staff go out in each recipient's language
(pips.languages.language_of), whoever else receives the same news.

Days and months come from Django's own catalogs, so the tests that read them ("Lunes",
"Lundi") hold now; those that read the project's sentences (no English msgid left, a French
summary) hold once the catalogs are translated."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from pips import reminders, services
from pips.models import Agent, Notification, Profile
from tests.conftest import make_user
from tests.pips.reminders_support import sweep_at, unfold, utc
from tests.pips.test_translated_pages import english_left

pytestmark = pytest.mark.django_db


def speaks(user, language: str) -> None:
    Profile.objects.update_or_create(user=user, defaults={"language": language})


def html_of(message) -> str:
    return message.alternatives[0][0]


def calendar_lines(message) -> list[str]:
    (attachment,) = [a for a in message.attachments if a[2].startswith("text/calendar")]
    return unfold(attachment[1])


@pytest.fixture
def hank(db):
    return make_user("hank", "Hank", "Ito", "hr")


@pytest.fixture
def due_plan(alex, sam, harper, make_plan):
    """Alex's active plan: at 15 March 11:00 UTC the check-in of Monday 9 March is two working
    days overdue (HR is told) and the one of Monday 16 March is tomorrow (Sam and Alex are)."""
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        return make_plan(alex, "active", hr=harper, start=dt.date(2026, 3, 2), days=30)


def test_each_hr_reviewer_gets_the_submission_in_their_own_language(
    alex, sam, harper, hank, make_plan, django_capture_on_commit_callbacks
):
    speaks(harper, "es")
    pip = make_plan(alex, "draft")
    with django_capture_on_commit_callbacks(execute=True):
        services.pip_submit(actor=sam, pip=pip)
    by_address = {m.to[0]: m for m in mail.outbox}
    english = by_address["hank@example.com"]
    assert english.subject == f"{pip.reference} for Alex Rivera waits for your review"
    spanish = by_address["harper@example.com"]
    assert english_left(spanish.subject) == []
    assert english_left(spanish.body) == []
    assert english_left(html_of(spanish)) == []
    (note,) = Notification.objects.filter(user=harper)
    assert english_left(note.text) == []


def test_the_overdue_escalation_reaches_spanish_hr_with_spanish_days(due_plan, harper):
    speaks(harper, "es")
    sweep_at(utc(2026, 3, 15, 11))
    (message,) = [m for m in mail.outbox if m.to == ["harper@example.com"]]
    # Django's own catalog names the day: Monday 9 March, in Spanish.
    assert "Lunes 09 Mar 2026" in message.body
    assert "Monday" not in message.body
    english_sam = next(m for m in mail.outbox if m.to == ["sam@example.com"])
    assert "Monday 16 Mar 2026" in english_sam.body


def test_the_overdue_escalation_of_spanish_hr_is_in_spanish(due_plan, harper):
    speaks(harper, "es")
    sweep_at(utc(2026, 3, 15, 11))
    (message,) = [m for m in mail.outbox if m.to == ["harper@example.com"]]
    assert english_left(message.subject) == []
    assert english_left(message.body) == []
    (note,) = Notification.objects.filter(user=harper)
    assert english_left(note.text) == []


def test_a_french_agents_reminder_and_invitation_are_written_for_them(due_plan, alex):
    speaks(alex.user, "fr")
    sweep_at(utc(2026, 3, 15, 11))
    (message,) = [m for m in mail.outbox if m.to == [alex.email or alex.user.email]]
    assert "Lundi 16 Mar 2026" in message.body
    assert "Monday" not in message.body
    lines = calendar_lines(message)
    summary = next(line for line in lines if line.startswith("SUMMARY"))
    assert summary.startswith("SUMMARY;LANGUAGE=fr:")
    # The supervisor's invitation to the same meeting stays in English.
    sam_lines = calendar_lines(next(m for m in mail.outbox if m.to == ["sam@example.com"]))
    assert "SUMMARY;LANGUAGE=en:Check-in: Alex Rivera with Sam Carter" in sam_lines


def test_a_french_agents_invitation_has_a_french_summary(due_plan, alex):
    speaks(alex.user, "fr")
    sweep_at(utc(2026, 3, 15, 11))
    (message,) = [m for m in mail.outbox if m.to == [alex.email or alex.user.email]]
    summary = next(line for line in calendar_lines(message) if line.startswith("SUMMARY"))
    assert summary != "SUMMARY;LANGUAGE=fr:Check-in: Alex Rivera with Sam Carter"
    assert "Check-in" not in summary and " with " not in summary


def test_a_spanish_hr_users_digest_is_in_spanish(billing, sam, harper, make_plan):
    speaks(harper, "es")
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        for i, state in enumerate(["active", "active", "issued", "pending_hr"]):
            agent = Agent.objects.create(
                employee_id=f"D{i:03d}",
                full_name=f"Agent Number {i}",
                team=billing,
                supervisor=sam,
                user=make_user(f"agent{i}", "Agent", f"Number {i}"),
            )
            make_plan(agent, state, hr=harper)
    mail.outbox.clear()
    with time_machine.travel(utc(2026, 3, 15, 11), tick=False):
        report = reminders.sweep()
        reminders.send_claimed(report.to_send, report.claimed_at)
    (digest,) = [m for m in mail.outbox if m.to == ["harper@example.com"]]
    assert english_left(digest.subject) == []
    assert english_left(digest.body) == []
    assert english_left(html_of(digest)) == []
