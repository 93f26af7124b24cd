"""The e-mail backend for development (`make run`, no EMAIL_HOST): each message is written in
full to a folder, one .eml file per message, and the console gets one line saying who it went
to, its subject and where the file is. A batch sent through one open connection (invitations,
reminders) is one line for the whole batch. The console stays readable; nothing is lost."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger("pipsystem.mail")


class FolderBackend(BaseEmailBackend):
    def __init__(self, *args, folder: str | Path | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.folder = Path(folder or settings.EMAIL_FILE_PATH)
        # While a connection is open: what was written, told in one line when it closes.
        self.batch: list[tuple[str, str, Path]] | None = None

    def open(self) -> bool:
        if self.batch is not None:
            return False
        self.batch = []
        return True

    def close(self) -> None:
        batch, self.batch = self.batch, None
        if not batch:
            return
        if len(batch) == 1:
            self._tell(*batch[0])
            return
        subjects = Counter(subject for _to, subject, _path in batch)
        logger.info(
            "%d e-mails to %d people in %s: %s",
            len(batch),
            len({to for to, _subject, _path in batch}),
            self.folder,
            "; ".join(
                f"{subject} (×{count})" if count > 1 else subject
                for subject, count in subjects.most_common(3)
            )
            + ("; …" if len(subjects) > 3 else ""),
        )

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
            path = self.folder / f"{stamp}-{sent}.eml"
            path.write_bytes(message.message().as_bytes(linesep="\n"))
            to = ", ".join(message.recipients())
            if self.batch is None:
                self._tell(to, message.subject, path)
            else:
                self.batch.append((to, message.subject, path))
            sent += 1
        return sent

    @staticmethod
    def _tell(to: str, subject: str, path: Path) -> None:
        logger.info("e-mail to %s: %s (%s)", to, subject, path)
