"""The in-app notification list: each user sees and marks only their own, the navbar counts the
unread ones, and the page runs a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pips.models import AuditEvent, Notification

pytestmark = pytest.mark.django_db


def notify(user, n: int = 1, **extra) -> list[Notification]:
    return Notification.objects.bulk_create(
        Notification(user=user, text=f"Reminder {i} for {user.username}", **extra) for i in range(n)
    )


def test_the_list_shows_only_the_users_own_notifications(client, sam, olivia):
    notify(sam, 2, url="/pips/1/")
    notify(olivia, 1)
    client.force_login(sam)
    response = client.get("/notifications/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Reminder 0 for sam" in body and "Reminder 1 for sam" in body
    assert "olivia" not in body
    assert 'aria-label="2 unread"' in body  # the navbar badge


def test_an_empty_list_says_so(client, alex):
    client.force_login(alex.user)
    body = client.get("/notifications/").content.decode()
    assert "You have no notifications" in body
    assert "unread" not in body


def test_marking_one_read(client, sam):
    first, second = notify(sam, 2)
    client.force_login(sam)
    response = client.post(f"/notifications/{first.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    read_at = first.read_at
    client.post(f"/notifications/{first.pk}/read/")  # again: nothing changes
    first.refresh_from_db()
    assert first.read_at == read_at
    assert 'aria-label="1 unread"' in client.get("/notifications/").content.decode()


def test_open_marks_read_and_follows_the_link(client, sam):
    (note,) = notify(sam, 1, url="/pips/7/")
    client.force_login(sam)
    response = client.post(f"/notifications/{note.pk}/read/", {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/pips/7/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_open_never_leaves_the_site(client, sam):
    (note,) = notify(sam, 1, url="https://evil.example.com/")
    client.force_login(sam)
    response = client.post(f"/notifications/{note.pk}/read/", {"open": "1"})
    assert response["Location"] == "/notifications/"


def test_someone_elses_notification_is_not_found(client, sam, olivia):
    (note,) = notify(sam, 1)
    client.force_login(olivia)
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 404
    assert client.post("/notifications/999999/read/").status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_marking_needs_a_post_and_a_login(client, sam):
    (note,) = notify(sam, 1)
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 302
    client.force_login(sam)
    assert client.get(f"/notifications/{note.pk}/read/").status_code == 405
    assert client.get("/notifications/read/").status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_read_touches_only_the_users_own(client, sam, olivia):
    notify(sam, 3)
    (hers,) = notify(olivia, 1)
    client.force_login(sam)
    response = client.post("/notifications/read/", follow=True)
    assert "3 notifications marked as read." in response.content.decode()
    assert not Notification.objects.filter(user=sam, read_at=None).exists()
    hers.refresh_from_db()
    assert hers.read_at is None
    response = client.post("/notifications/read/", follow=True)
    assert "There was nothing unread." in response.content.decode()


def test_a_bad_page_number_shows_a_page(client, sam):
    notify(sam, 30)
    client.force_login(sam)
    assert "Page 2 of 2" in client.get("/notifications/?page=99").content.decode()
    assert "Page 1 of 2" in client.get("/notifications/?page=abc").content.decode()


def test_reading_notifications_is_not_a_plan_event(client, sam):
    (note,) = notify(sam, 1)
    client.force_login(sam)
    client.get("/notifications/")
    client.post(f"/notifications/{note.pk}/read/")
    assert not AuditEvent.objects.exists()


def page_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/notifications/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_page_runs_a_constant_number_of_queries(client, sam, olivia):
    notify(sam, 3)
    small = page_queries(client, sam)
    notify(sam, 60)
    notify(olivia, 40)
    assert page_queries(client, sam) == small
    assert small <= 10
