"""Files through object storage: with STORAGE_BACKEND=s3, a PDF copy rendered by one process is
stored in an S3-compatible server (moto's, started here on 127.0.0.1) and served to a second
process on "another machine" (its own MEDIA_ROOT) without rendering it again; neither local
folder holds a file. The health check writes to the same storage."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.s3 import BUCKET, local_files, s3_environment, s3_server, s3_storage, stored_objects

__all__ = ["s3_server", "s3_storage"]  # fixtures used below

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_pdf_copy_goes_to_object_storage_and_is_served_to_another_process(
    client, s3_storage, make_plan, alex, sam, harper, signing, tmp_path
):
    endpoint, s3, prefix, web_media = s3_storage
    plan = make_plan(alex, "active", hr=harper, start=timezone.localdate() - dt.timedelta(days=20))
    client.force_login(sam)
    url = reverse("pips:pdf", args=[plan.pk])
    response = client.get(url)
    assert response.status_code == 200
    first = b"".join(response.streaming_content)
    assert first.startswith(b"%PDF-")
    stored = [key for key in stored_objects(s3, prefix) if key.endswith(".pdf")]
    assert len(stored) == 1 and stored[0].startswith(f"{prefix}/pdf/{plan.pk}/")
    body = s3.get_object(Bucket=BUCKET, Key=stored[0])["Body"].read()
    assert body == first

    # A second process, as on another machine: its own, empty MEDIA_ROOT, the same database and
    # bucket, no signing key (it could not render a copy if it tried).
    other_media = tmp_path / "other-media"
    other_media.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        **s3_environment(endpoint, prefix, other_media),
        "PIP_SIGNING_CERT": str(tmp_path / "absent-cert.pem"),
        "PIP_SIGNING_KEY": str(tmp_path / "absent-key.pem"),
        "ALLOWED_HOSTS": "testserver",
        "DEBUG": "true",
        "LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "pipsystem.settings",
    }
    script = (
        "import hashlib\n"
        "from django.contrib.auth.models import User\n"
        "from django.test import Client\n"
        "c = Client()\n"
        f"c.force_login(User.objects.get(username='{sam.username}'))\n"
        f"r = c.get('{url}')\n"
        "print(r.status_code, hashlib.sha256(b''.join(r.streaming_content)).hexdigest())\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    status, digest = result.stdout.split()[-2:]
    assert status == "200"
    # The same bytes: served from the bucket, not rendered again (a new rendering is signed at
    # another moment and differs).
    assert digest == hashlib.sha256(first).hexdigest()
    assert local_files(web_media) == [] and local_files(other_media) == []


@pytest.mark.django_db
def test_readiness_checks_object_storage(client, s3_storage):
    endpoint, s3, prefix, web_media = s3_storage
    response = client.get("/health/ready/")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["storage"]["status"] == "ok"
    assert stored_objects(s3, prefix) == []  # the probe was removed again


@pytest.mark.django_db
def test_readiness_fails_when_the_bucket_is_missing(client, s3_storage, settings):
    options = settings.STORAGES["default"]["OPTIONS"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {**options, "bucket_name": "nope"}},
    }
    assert default_storage.bucket_name == "nope"
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["status"] == "failing"


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_settings_select_s3_from_the_environment(tmp_path):
    """STORAGE_BACKEND=s3 with S3_BUCKET selects django-storages' S3 backend; a bad value or a
    missing bucket stops the app at start with a clear error."""
    code = (
        "from django.conf import settings;"
        "print(settings.STORAGES['default']['BACKEND'], "
        "settings.STORAGES['default']['OPTIONS']['bucket_name'])"
    )
    base = {**os.environ, "DJANGO_SETTINGS_MODULE": "pipsystem.settings"}

    def run(**env):
        return subprocess.run(
            [sys.executable, "-c", "import django; django.setup();" + code],
            cwd=ROOT,
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    ok = run(STORAGE_BACKEND="s3", S3_BUCKET="files")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split() == ["storages.backends.s3.S3Storage", "files"]
    assert "needs S3_BUCKET" in run(STORAGE_BACKEND="s3", S3_BUCKET="").stderr
    assert "must be local or s3" in run(STORAGE_BACKEND="ftp").stderr
