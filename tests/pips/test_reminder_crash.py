"""A worker killed in the middle of a batch of reminders: what went out is not sent again.

A real Celery worker on Redis sends a batch of reminder e-mails to a real SMTP server (one of
the test's own, on 127.0.0.1). The server takes five messages and holds the sixth unanswered,
and the test kills the worker there, as a crash or an out-of-memory kill would. A second worker
picks the batch up once its claim has lapsed; every reminder reaches its recipient once.

The Redis database is derived from REDIS_URL (the next number; 11 when that is one of the
fixed worker-test databases 6–9), and flushed first: it is this test's alone. Run it, like
the other worker tests, under `flock /tmp/celery-worker-tests.lock`.
"""

from __future__ import annotations

import datetime as dt
import os
import socketserver
import threading
import time
from email import message_from_bytes
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.utils import timezone

from pips.models import Agent, Pip, Reminder, ScheduleItem
from tests.conftest import make_user, need_service
from tests.pips.test_celery_worker import (
    Worker,
    publish,
    redis_reachable,
    transactional,
    wait_until,
)
from tests.pips.test_celery_worker import workers as _workers

workers = _workers  # the fixture: the workers a test started, stopped at its end

PLANS = 7  # a check-in reminder each to the agent and to Sam: 14 e-mails in one batch
HELD_AT = 6  # the server answers five messages and holds the sixth


def batch_redis_url() -> str:
    base = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/10")
    db = int((base.path or "/0").lstrip("/") or 0) + 1
    if 6 <= db <= 9 or db > 15:
        db = 11
    return urlunsplit((base.scheme, base.netloc, f"/{db}", "", ""))


class SmtpServer(socketserver.ThreadingTCPServer):
    """Just enough SMTP for Django's backend (no TLS, no login). Stores each message it accepts;
    while `hold` is set, the message that would make `hold` stored is read but not answered."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, hold: int | None):
        self.messages: list[bytes] = []
        self.hold = hold
        self.holding = threading.Event()
        self.released = threading.Event()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), SmtpHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def received(self) -> list[tuple[str, str]]:
        with self.lock:
            parsed = [message_from_bytes(raw) for raw in self.messages]
        return sorted((m["To"], m["Subject"]) for m in parsed)


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server: SmtpServer = self.server  # type: ignore[assignment]
        self.reply("220 localhost test SMTP")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply("250-localhost")
                self.reply("250 8BITMIME")
            elif verb == b"DATA":
                self.reply("354 go ahead")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk[1:] if chunk.startswith(b"..") else chunk
                with server.lock:
                    hold = server.hold is not None and len(server.messages) + 1 >= server.hold
                    if not hold:
                        server.messages.append(body)
                if hold:
                    server.holding.set()
                    server.released.wait(60)
                    return
                self.reply("250 queued")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")


@pytest.fixture
def smtp():
    server = SmtpServer(hold=HELD_AT)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.released.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def batch_redis():
    url = batch_redis_url()
    need_service("Redis", redis_reachable(url))
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def due_plans(billing, sam, harper, make_plan) -> list[Pip]:
    """Seven active plans, each with a check-in three hours from now and a supervisor of its own,
    so that no two reminders go to one person (who would get them as one digest e-mail)."""
    now = timezone.now()
    soon = now + dt.timedelta(hours=3)
    plans = []
    for n in range(PLANS):
        user = make_user(f"agent{n}", "Agent", f"Number{n}")
        boss = make_user(f"lead{n}", "Lead", f"Number{n}", "supervisor")
        agent = Agent.objects.create(
            employee_id=f"E30{n:02d}",
            full_name=f"Agent Number{n}",
            team=billing,
            supervisor=boss,
            user=user,
        )
        pip = make_plan(agent, "active", hr=harper)
        pip.schedule.update(due_at=now + dt.timedelta(days=30))
        first = pip.schedule.filter(kind=ScheduleItem.Kind.CHECKIN).order_by("due_on").first()
        ScheduleItem.objects.filter(pk=first.pk).update(due_at=soon, due_on=soon.date())
        plans.append(pip)
    return plans


def sent_count() -> int:
    return Reminder.objects.exclude(sent_at=None).count()


@pytest.mark.redis
@transactional
def test_a_worker_killed_mid_batch_sends_no_reminder_twice(
    postgres,
    batch_redis,
    smtp,
    due_plans,
    workers,
    tmp_path,
):
    environment = {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_USE_TLS": "false",
        # A lease of 2 × the hard time limit: 8 s, so the second worker may take the batch back
        # within the test.
        "CELERY_TASK_TIME_LIMIT": "4",
        "CELERY_TASK_SOFT_TIME_LIMIT": "3",
    }
    solo = ["--pool", "solo"]
    first = Worker(tmp_path, "batch-first", broker=batch_redis, args=solo, **environment)
    workers.append(first)
    first.wait_for(" ready.")
    publish(batch_redis, "pips.tasks.sweep_due")
    wait_until(smtp.holding.is_set, 30, "the sixth e-mail to be on its way", first)
    assert len(smtp.received()) == HELD_AT - 1
    first.kill()  # mid-batch: five e-mails out, the sixth unanswered, eight not begun
    assert Reminder.objects.count() == 2 * PLANS
    # Each e-mail that went out was recorded as sent right after it went out.
    assert sent_count() == HELD_AT - 1

    smtp.hold = None
    smtp.released.set()
    second = Worker(tmp_path, "batch-second", broker=batch_redis, args=solo, **environment)
    workers.append(second)
    second.wait_for(" ready.")
    time.sleep(8.5)  # the first worker's claim lapses
    publish(batch_redis, "pips.tasks.sweep_due")
    wait_until(lambda: sent_count() == 2 * PLANS, 30, "every reminder to be sent", second)
    time.sleep(1)
    received = smtp.received()
    assert len(received) == 2 * PLANS, received
    assert len(set(received)) == 2 * PLANS  # no recipient got the same reminder twice
    recipients = {to for to, _ in received}
    assert recipients == {f"lead{n}@example.com" for n in range(PLANS)} | {
        f"agent{n}@example.com" for n in range(PLANS)
    }
