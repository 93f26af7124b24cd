"""The audit trail's hash chain: every event carries the hash of the one before it, written in
the one place events are written, in order even when many are written at once; and
`manage.py verify_audit_chain` finds an event changed, one removed from the middle and, given
the head recorded earlier, ones removed from the end."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from pips.audit import GENESIS, AuditAction, event_hash
from pips.inputs import RequestMeta
from pips.models import AuditEvent
from pips.services.common import write_audit

TRIGGER = "pips_auditevent_append_only"


def verify(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=err)
    except CommandError as error:
        return f"BROKEN {error}\n{err.getvalue()}"
    return out.getvalue()


def tamper(sql: str, params=()) -> None:
    """What someone with the owner's or a superuser's rights could do to the table."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks before ALTER TABLE
        cursor.execute(f"ALTER TABLE pips_auditevent DISABLE TRIGGER {TRIGGER}")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE pips_auditevent ENABLE TRIGGER {TRIGGER}")


@pytest.fixture
def history(alex, harper, make_plan):
    """An active plan: a dozen events of every kind, from several people."""
    return make_plan(alex, "active", hr=harper)


@pytest.mark.django_db
def test_each_event_carries_the_hash_of_the_one_before(history):
    events = list(AuditEvent.objects.order_by("pk"))
    assert len(events) >= 8
    assert events[0].prev_hash == GENESIS
    for before, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == before.event_hash
        assert event.event_hash == event_hash(event, event.prev_hash)
    assert len({e.event_hash for e in events}) == len(events)
    report = verify()
    assert f"The audit chain of {len(events)} events is intact." in report
    assert f"Last event: {events[-1].pk}:{events[-1].event_hash}" in report


@pytest.mark.django_db
def test_real_shaped_values_hash_the_same_after_the_round_trip(sam):
    write_audit(
        pip=None,
        actor=sam,
        action=AuditAction.TEMPLATE_EDITED,
        meta=RequestMeta(ip_address="::FFFF:10.0.0.7", user_agent="Mozilla/5.0 (ünïcödé) ✓"),
        comment="Line one\nline two — with «quotes» and \t tabs",
        changes={"b": [1, 2.5, 1e20, 3.0, None, True], "a": {"z": "é", "y": {"x": []}}},
    )
    event = AuditEvent.objects.get()
    assert event.event_hash == event_hash(event, event.prev_hash)
    assert "is intact" in verify()


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_changed_event_is_reported(postgres, history):
    target = AuditEvent.objects.filter(pip=history, action=AuditAction.SUBMITTED).get()
    tamper("UPDATE pips_auditevent SET comment = 'nothing to see' WHERE id = %s", [target.pk])
    report = verify()
    assert report.startswith("BROKEN The audit chain is broken: 1 problem(s)")
    assert f"Event {target.pk} (" in report and "was changed after it was written" in report


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_event_removed_from_the_middle_is_reported(postgres, history):
    events = list(AuditEvent.objects.order_by("pk"))
    gone = next(e for e in events[1:-1] if not hasattr(e, "delivery"))
    after = events[events.index(gone) + 1]
    tamper("DELETE FROM pips_auditevent WHERE id = %s", [gone.pk])
    report = verify()
    before = events[events.index(gone) - 1]
    assert f"Event {after.pk} (" in report
    assert f"does not follow event {before.pk}: an event between them is missing" in report


@pytest.mark.postgres
@pytest.mark.django_db
def test_events_removed_from_the_end_are_reported_against_the_recorded_head(postgres, history):
    head = verify().rsplit("Last event: ", 1)[1].strip()
    assert "is intact" in verify("--expect-head", head)
    last = AuditEvent.objects.order_by("-pk").first()
    tamper("DELETE FROM pips_delivery WHERE event_id = %s", [last.pk])
    tamper("DELETE FROM pips_auditevent WHERE id = %s", [last.pk])
    assert "is intact" in verify()  # the chain alone cannot see it
    report = verify("--expect-head", head)
    assert f"Event {last.pk}, recorded earlier as the last, is not in the trail" in report


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_writers_at_once_keep_one_chain(postgres, sam):
    writers, each = 8, 15
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            for i in range(each):
                with transaction.atomic():
                    write_audit(
                        pip=None,
                        actor=sam,
                        action=AuditAction.TEMPLATE_EDITED,
                        changes={"writer": n, "i": i},
                    )
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    events = list(AuditEvent.objects.order_by("pk"))
    assert len(events) == writers * each
    assert len({e.prev_hash for e in events}) == len(events)  # no fork in the chain
    assert "is intact" in verify()
