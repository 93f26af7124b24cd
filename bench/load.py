"""Load benchmark: 20 concurrent users against gunicorn on 127.0.0.1, each role's home and the
plan page against the bare login-required view, on the scale data (`manage.py seed_scale`).

Run from the repository root, on a database built by seed_scale:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale_bench .venv/bin/python bench/load.py

It starts gunicorn (bench.settings, `--workers 2` by default, loopback only), logs the users in
by creating their sessions, then for each target runs `--users` threads that request it one
after another for `--seconds` (and at most `--max-requests` in all), each request on a new
connection (gunicorn's sync workers close it after each response). It prints requests per
second, p50/p95 latency and errors per target, and the ratio to the bare view's throughput.
Bounded in time and count; gunicorn is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import machine  # noqa: E402
from pages import DEFAULT_URL, percentile  # noqa: E402


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_URL)
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    env.setdefault("DEBUG", "false")
    env.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    env.setdefault("LOG_LEVEL", "ERROR")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sessions(usernames: list[str]) -> dict[str, str]:
    """A logged-in session per user, made as Django's login() makes it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    keys = {}
    for username in usernames:
        user = User.objects.get(username=username)
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "pips.languages.ProfileModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys[username] = store.session_key
    return keys


def run_target(port: int, path: str, cookie: str, users: int, seconds: float, limit: int) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    count = 0

    def worker() -> None:
        nonlocal errors, count
        while time.perf_counter() < deadline:
            with lock:
                if count >= limit:
                    return
                count += 1
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(
                    "GET",
                    path,
                    headers={"Cookie": f"sessionid={cookie}", "X-Forwarded-Proto": "https"},
                )
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                conn.close()
            except OSError:
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p95": percentile(latencies, 0.95) if latencies else 0.0,
        "ok": len(latencies),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--max-requests", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = environment()
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
    for key in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "LOG_LEVEL"):
        os.environ.setdefault(key, env[key])
    import django

    django.setup()
    from pages import pages

    wanted = {
        "supervisor home",
        "HR home / approval queue",
        "agent home",
        "supervisor: plan page",
    }
    targets = [p for p in pages() if p[0] in wanted]
    keys = sessions(sorted({p[1] for p in targets}))
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable)),
            "-m",
            "gunicorn",
            "bench.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        print(f"Python {sys.version.split()[0]}; {machine.describe()}")
        print(
            f"gunicorn, {args.workers} workers; {args.users} concurrent users, "
            f"{args.seconds:g} s per target (at most {args.max_requests} requests)"
        )
        results = []
        for label, username, path in [("bare login-required view", targets[0][1], "/bench/bare/")]:
            run_target(port, path, keys[username], args.users, 2, 200)  # warm-up
            results.append(
                (
                    label,
                    run_target(
                        port, path, keys[username], args.users, args.seconds, args.max_requests
                    ),
                )
            )
        for label, username, path in targets:
            run_target(port, path, keys[username], args.users, 2, 100)  # warm-up
            results.append(
                (
                    label,
                    run_target(
                        port, path, keys[username], args.users, args.seconds, args.max_requests
                    ),
                )
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    bare_rps = results[0][1]["rps"]
    print()
    print("| target | req/s | ÷ bare req/s | p50 ms | p95 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    met = True
    for label, r in results:
        share = r["rps"] / bare_rps if bare_rps else 0
        met &= share >= 1 / 3 and r["errors"] == 0
        print(
            f"| {label} | {r['rps']:.1f} | {share:.2f} | {r['p50']:.0f} | {r['p95']:.0f} "
            f"| {r['errors']} |"
        )
    print()
    print(f"goal (each ≥ 1/3 of the bare view's req/s, 0 errors): {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
