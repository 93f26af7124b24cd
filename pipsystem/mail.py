"""The e-mail backend for development (`make run`, no EMAIL_HOST): each message is written in
full to a folder, one .eml file per message, and the console gets one line saying who it went
to, its subject and where the file is. The console stays readable; nothing is lost."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger("pipsystem.mail")


class FolderBackend(BaseEmailBackend):
    def __init__(self, *args, folder: str | Path | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.folder = Path(folder or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
            path = self.folder / f"{stamp}-{sent}.eml"
            path.write_bytes(message.message().as_bytes(linesep="\n"))
            logger.info(
                "e-mail to %s: %s (%s)",
                ", ".join(message.recipients()),
                message.subject,
                path,
            )
            sent += 1
        return sent
