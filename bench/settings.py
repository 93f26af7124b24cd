"""Settings for the benchmarks: the app's own, plus a bare login-required view (bench/urls.py)
that every page is measured against in the same run, behind the same middleware."""

from pipsystem.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
