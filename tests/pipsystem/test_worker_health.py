"""The worker's health check the README gives orchestrators: `celery -A pipsystem inspect ping
--destination celery@<host>` succeeds while that worker answers through the broker and fails
once it is gone. A real worker on the Redis database of REDIS_URL (not 6–9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis

from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[2]


def _ping(env: dict, node: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "celery", "-A", "pipsystem", "inspect", "ping"]
        + ["--destination", node, "--timeout", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_inspect_ping_tells_a_live_worker_from_a_gone_one(tmp_path):
    url = os.environ.get("REDIS_URL", "")
    reachable = False
    if url:
        try:
            reachable = bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
        except redis.RedisError:
            reachable = False
    need_service("Redis (REDIS_URL)", reachable)
    node = f"health-{uuid.uuid4().hex[:8]}@localhost"
    env = {**os.environ, "REDIS_URL": url, "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "pipsystem", "worker", "--hostname", node]
        + ["--concurrency", "1", "--pool", "solo", "--without-mingle", "--without-gossip"],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        answered = None
        while time.monotonic() < deadline:
            answered = _ping(env, node)
            if answered.returncode == 0:
                break
            time.sleep(1)
        assert answered is not None and answered.returncode == 0, (
            answered.stdout if answered else "",
            (tmp_path / "worker.log").read_text(),
        )
        assert "pong" in answered.stdout
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    gone = _ping(env, node)
    assert gone.returncode != 0
