"""Roster files between upload, mapping, preview and load: kept in the uploads storage
(settings.STORAGES, object storage on several machines) under a random name, remembered in the
uploader's session (so nobody else can reach them)."""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import UploadedFile

SESSION_KEY = "roster_uploads"
KEPT = 3  # per session; older ones are forgotten and their files removed
FOLDER = "roster-uploads"
EXTENSIONS = (".csv", ".txt", ".xlsx")


@dataclass
class RosterUpload:
    token: str
    name: str  # in the storage
    filename: str  # as uploaded
    source_id: int
    mapping: dict[str, Any] = field(default_factory=dict)

    def read(self) -> bytes:
        with storages["uploads"].open(self.name, "rb") as stored:
            return stored.read()


def keep(session, file: UploadedFile, source_id: int, mapping: dict) -> RosterUpload:
    token = secrets.token_urlsafe(16)
    ext = os.path.splitext(file.name or "")[1].lower()
    name = storages["uploads"].save(
        f"{FOLDER}/{token}{ext if ext in EXTENSIONS else '.csv'}", ContentFile(file.read())
    )
    upload = RosterUpload(
        token=token,
        name=name,
        filename=os.path.basename(file.name or "roster.csv")[:255],
        source_id=source_id,
        mapping=dict(mapping or {}),
    )
    uploads = dict(session.get(SESSION_KEY, {}))
    uploads[token] = asdict(upload)
    for old in list(uploads)[:-KEPT]:
        forget_file(uploads.pop(old)["name"])
    session[SESSION_KEY] = uploads
    return upload


def find(session, token: str) -> RosterUpload | None:
    data = session.get(SESSION_KEY, {}).get(token)
    return RosterUpload(**data) if data else None


def save(session, upload: RosterUpload) -> None:
    uploads = dict(session.get(SESSION_KEY, {}))
    uploads[upload.token] = asdict(upload)
    session[SESSION_KEY] = uploads


def done(session, upload: RosterUpload) -> None:
    uploads = dict(session.get(SESSION_KEY, {}))
    uploads.pop(upload.token, None)
    session[SESSION_KEY] = uploads
    forget_file(upload.name)


def forget_file(name: str) -> None:
    if name and storages["uploads"].exists(name):
        storages["uploads"].delete(name)
