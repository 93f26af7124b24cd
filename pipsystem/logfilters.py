"""Logging filters that keep the console readable: a refused or missing page is expected, not a
fault, so it is logged on one line without the traceback Django attaches to it."""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """For django.request records of a 4xx response (403 from PermissionDenied, 404, 405, 400),
    drop the attached exception: the one-line message ("Forbidden (…): /path") says it all.
    Server errors (5xx) keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
