"""Real Celery workers, started as processes, against the real Redis (or the embedded file-system
broker of `make run`): a reminder goes the whole way round; a worker killed in the middle of a
task has it delivered again and done once; with Redis stopped, pages and saves still work and
the reminders go out once it is back.

The worker sees the test database through DATABASE_URL, so these tests commit
(django_db(transaction=True)). Redis databases 6 to 9 of the machine's server are ours; the
outage test runs a redis-server of its own on another port.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery.exceptions import AlwaysEagerIgnored
from django.conf import settings
from django.utils import timezone

from pips.models import Notification, Pip, Reminder, ScheduleItem, Status
from pipsystem.celery import app as celery_app
from tests.conftest import need_service

BASE_DIR = Path(settings.BASE_DIR)
REDIS_HOST = "127.0.0.1"
ROUND_TRIP_URL = f"redis://{REDIS_HOST}:6379/7"
KILL_URL = f"redis://{REDIS_HOST}:6379/8"
CHILD_KILL_URL = f"redis://{REDIS_HOST}:6379/9"
COUNTER_URL = f"redis://{REDIS_HOST}:6379/6"

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def machine_redis():
    need_service("Redis", redis_reachable(COUNTER_URL))
    for url in (ROUND_TRIP_URL, KILL_URL, CHILD_KILL_URL, COUNTER_URL):
        redis.Redis.from_url(url).flushdb()


def database_url() -> str:
    db = settings.DATABASES["default"]
    auth = quote(db.get("USER") or "postgres")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{auth}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


class Worker:
    """A `celery -A pipsystem worker` process with its own log file and process group."""

    def __init__(self, tmp_path: Path, name: str, *, broker: str | None, args=(), **env):
        self.log_path = tmp_path / f"{name}.log"
        environment = {
            k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")
        }
        environment.update(
            DATABASE_URL=database_url(),
            PIPSYSTEM_VAR_DIR=str(tmp_path / "var"),
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
            # The e-mails in full on the worker's console, where the tests read them (unless
            # the test names another backend).
            EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        )
        environment.update(env)
        if broker:
            environment["REDIS_URL"] = broker
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pipsystem",
            "worker",
            "--include",
            "tests.pips.worker_tasks",
            "--hostname",
            f"{name}-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
            *args,
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 25, count: int = 1) -> None:
        wait_until(
            lambda: self.log().count(text) >= count, timeout, f"worker log to show {text!r}", self
        )

    def kill(self) -> None:
        """SIGKILL to the whole process group: the worker and its pool children at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGQUIT)  # Celery's cold shutdown
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def workers():
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def wait_until(condition, timeout: float, what: str, worker: Worker | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    tail = worker.log()[-3000:] if worker else ""
    pytest.fail(f"Timed out waiting for {what}.\n{tail}")


def publish(url: str, name: str, args=()) -> None:
    """Send a task by name to the broker at `url`, as beat would."""
    with celery_app.connection_for_write(url) as conn:
        queue = celery_app.amqp.queues[celery_app.conf.task_default_queue]
        queue.bind(conn.default_channel).declare()
        with warnings.catch_warnings():
            # The tests run eagerly; this message is meant for the real broker.
            warnings.simplefilter("ignore", AlwaysEagerIgnored)
            celery_app.send_task(name, args=list(args), connection=conn)


@pytest.fixture
def due_now(alex, sam, harper, make_plan):
    """Alex's active plan with one check-in three hours from now: its reminder is due."""
    pip = make_plan(alex, "active", hr=harper)
    now = timezone.now()
    pip.schedule.update(due_at=now + dt.timedelta(days=30))
    first = pip.schedule.filter(kind=ScheduleItem.Kind.CHECKIN).order_by("due_on").first()
    soon = now + dt.timedelta(hours=3)
    ScheduleItem.objects.filter(pk=first.pk).update(due_at=soon, due_on=soon.date())
    return pip


def reminders_sent(pip: Pip) -> list[tuple[str, str]]:
    return sorted(
        Reminder.objects.filter(pip=pip)
        .exclude(sent_at=None)
        .values_list("kind", "recipient__username")
    )


EXPECTED = [("checkin_reminder", "alex"), ("checkin_reminder", "sam")]


@pytest.mark.redis
@transactional
def test_a_reminder_goes_round_through_redis_and_a_worker(
    postgres, machine_redis, due_now, workers, tmp_path
):
    worker = Worker(tmp_path, "roundtrip", broker=ROUND_TRIP_URL, args=["--pool", "solo"])
    workers.append(worker)
    worker.wait_for(" ready.")
    publish(ROUND_TRIP_URL, "pips.tasks.sweep_due")
    wait_until(lambda: reminders_sent(due_now) == EXPECTED, 20, "the reminders", worker)
    log = worker.log()
    # The console e-mail backend prints what went out: one e-mail each, with the invitation.
    assert log.count(f": check-in with Alex Rivera ({due_now.reference})") == 1
    assert log.count(": your check-in with Sam Carter") == 1
    assert "METHOD:REQUEST" in log
    assert Notification.objects.filter(pip=due_now, text__contains="check-in with").count() == 2
    # Beat firing again finds nothing new to send.
    publish(ROUND_TRIP_URL, "pips.tasks.sweep_due")
    worker.wait_for("{'recorded': 0, 'reclaimed': 0,", timeout=20)
    assert Reminder.objects.filter(pip=due_now).count() == 2
    assert worker.log().count(": your check-in with Sam Carter") == 1


@pytest.mark.redis
@transactional
def test_a_worker_killed_mid_task_has_the_task_delivered_again_and_done_once(
    postgres, machine_redis, due_now, workers, tmp_path
):
    counters = redis.Redis.from_url(COUNTER_URL)
    key = f"kill-{uuid.uuid4().hex}"
    # Solo pools: a message is run as soon as it is received, and nothing is put back while it
    # runs, so each delivery is one attempt.
    solo = ["--pool", "solo"]
    first = Worker(tmp_path, "first", broker=KILL_URL, args=solo, CELERY_VISIBILITY_TIMEOUT="3")
    workers.append(first)
    first.wait_for(" ready.")
    publish(KILL_URL, "tests.slow_sweep", [COUNTER_URL, key, 60])
    wait_until(lambda: counters.get(f"{key}:attempts") == b"1", 15, "the task to start", first)
    first.kill()
    assert reminders_sent(due_now) == []
    # The message was never acknowledged: once its visibility timeout has passed, the next
    # worker to start takes it back from Redis.
    time.sleep(3.5)
    second = Worker(tmp_path, "second", broker=KILL_URL, args=solo, CELERY_VISIBILITY_TIMEOUT="3")
    workers.append(second)
    wait_until(lambda: counters.get(f"{key}:done") == b"1", 25, "the redelivered task", second)
    assert counters.get(f"{key}:attempts") == b"2"
    wait_until(lambda: reminders_sent(due_now) == EXPECTED, 20, "the reminders", second)
    assert second.log().count(": your check-in with Sam Carter") == 1
    time.sleep(1)
    assert counters.get(f"{key}:attempts") == b"2"  # and not a third time


@pytest.mark.redis
@transactional
def test_a_pool_process_killed_mid_task_is_put_back_at_once(
    postgres, machine_redis, due_now, workers, tmp_path
):
    """reject_on_worker_lost: the light task goes back to the queue when its pool process
    dies, without waiting for the visibility timeout."""
    counters = redis.Redis.from_url(COUNTER_URL)
    key = f"child-{uuid.uuid4().hex}"
    worker = Worker(
        tmp_path, "prefork", broker=CHILD_KILL_URL, args=["--pool", "prefork", "-c", "1"]
    )
    workers.append(worker)
    worker.wait_for(" ready.")
    publish(CHILD_KILL_URL, "tests.slow_sweep", [COUNTER_URL, key, 60])
    wait_until(lambda: counters.get(f"{key}:attempts") == b"1", 15, "the task to start", worker)
    child = int(counters.get(f"{key}:pid:1"))
    assert child != worker.process.pid
    os.kill(child, signal.SIGKILL)
    wait_until(lambda: counters.get(f"{key}:done") == b"1", 20, "the task done again", worker)
    assert counters.get(f"{key}:attempts") == b"2"
    wait_until(lambda: reminders_sent(due_now) == EXPECTED, 20, "the reminders", worker)
    assert "WorkerLostError" in worker.log()
    assert worker.log().count(": your check-in with Sam Carter") == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((REDIS_HOST, 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own, on its own port, that the test can stop and start."""

    def __init__(self, tmp_path: Path, port: int):
        self.port = port
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{REDIS_HOST}:{self.port}/6"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                REDIS_HOST,
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: redis_reachable(self.url), 10, "redis-server to start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def app_broker(url: str):
    """Point this process's Celery app at a broker for real (not eagerly), then back."""
    conf = celery_app.conf
    saved = {
        name: conf.get(name)
        for name in ("broker_url", "task_always_eager", "broker_transport_options")
    }

    def reset_pools():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url = url
    conf.task_always_eager = False
    conf.broker_transport_options = {"socket_connect_timeout": 2}
    reset_pools()
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            celery_app.pool.force_close_all()
        for name, value in saved.items():
            conf[name] = value
        reset_pools()


@pytest.mark.redis
@transactional
def test_with_redis_stopped_pages_and_saves_work_and_reminders_go_out_when_it_is_back(
    postgres,
    machine_redis,
    alex,
    blake,
    sam,
    olivia,
    harper,
    make_plan,
    due_now,
    client,
    workers,
    tmp_path,
    caplog,
):
    need_service("redis-server", shutil.which("redis-server") is not None)
    server = RedisServer(tmp_path, free_port())
    server.start()
    try:
        worker = Worker(tmp_path, "outage", broker=server.url, args=["--pool", "solo"])
        workers.append(worker)
        worker.wait_for(" ready.")
        approved = make_plan(blake, "approved", hr=harper)
        with app_broker(server.url):
            server.stop()
            client.force_login(olivia)
            assert client.get(f"/pips/{approved.pk}/").status_code == 200
            assert client.get("/notifications/").status_code == 200
            started = time.monotonic()
            with caplog.at_level(logging.ERROR, logger="pipsystem.celery"):
                response = client.post(
                    f"/pips/{approved.pk}/issue/",
                    {
                        "meeting_held_on": timezone.localdate().isoformat(),
                        "typed_name": "Olivia Brooks",
                        "consent": "on",
                    },
                )
            took = time.monotonic() - started
            assert took < 5
            assert response.status_code == 302, response.content.decode()[:2000]
            assert Pip.objects.get(pk=approved.pk).status == Status.ISSUED
            assert "Could not queue pips.tasks.notify_event" in caplog.text
            # Beat cannot reach Redis either: nothing is sent while it is down.
            assert reminders_sent(due_now) == []

            server.start()  # an empty Redis: whatever was queued before is gone
            worker.wait_for("Connected to redis", timeout=25, count=2)
            publish(server.url, "pips.tasks.sweep_due")
            wait_until(lambda: reminders_sent(due_now) == EXPECTED, 20, "the reminders", worker)
        assert worker.log().count(": your check-in with Sam Carter") == 1
    finally:
        server.stop()


@transactional
def test_make_run_worker_with_embedded_beat_and_file_broker_runs_the_sweep(
    postgres, due_now, workers, tmp_path
):
    """`make run`: one worker with beat embedded, on kombu's file-system transport (no Redis);
    the beat's sweep runs on its own and sends the reminders."""
    worker = Worker(
        tmp_path,
        "makerun",
        broker=None,
        args=["--beat", "--concurrency", "1", "--schedule", str(tmp_path / "beat-schedule")],
        PIP_SWEEP_INTERVAL_SECONDS="2",
    )
    workers.append(worker)
    wait_until(lambda: reminders_sent(due_now) == EXPECTED, 30, "the beat's sweep", worker)
    log = worker.log()
    assert "filesystem://" in log
    assert "Scheduler: Sending due task reminder-sweep (pips.tasks.sweep_due)" in log
    assert log.count(": your check-in with Sam Carter") == 1
