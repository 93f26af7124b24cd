"""An S3-compatible server for the tests (moto's, on 127.0.0.1 and a free port), and the
settings that put the app's files there: the fixtures of the tests that prove no file passes
through a local folder. Import the fixtures into a test module to use them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings

BUCKET = "pipsystem-test"
KEYS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing", "S3_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3_server():
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    yield endpoint, client
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings, tmp_path):
    """The default and uploads storages in the bucket under a prefix of this test's own, and
    MEDIA_ROOT an empty folder (which should stay empty)."""
    endpoint, client = s3_server
    prefix = f"t{os.getpid()}-{tmp_path.name}"
    s3 = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "access_key": "testing",
            "secret_key": "testing",
            "location": prefix,
            "default_acl": None,
            "file_overwrite": False,
            "max_memory_size": 1024 * 1024,
        },
    }
    settings.STORAGES = {**django_settings.STORAGES, "default": s3, "uploads": s3}
    web_media = tmp_path / "web-media"
    web_media.mkdir()
    settings.MEDIA_ROOT = web_media
    return endpoint, client, prefix, web_media


def s3_environment(endpoint: str, prefix: str, media_root: Path) -> dict[str, str]:
    """The environment of another process (another machine) on the same bucket and prefix,
    with a local folder of its own."""
    return {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": endpoint,
        "S3_PREFIX": prefix,
        **KEYS,
        "MEDIA_ROOT": str(media_root),
    }


def stored_objects(client, prefix: str) -> list[str]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
    return [item["Key"] for item in listed.get("Contents", [])]


def local_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]
