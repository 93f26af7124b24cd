"""A translation added to a language's catalog for one test, before the catalogs are
translated: what a message reads in that language then proves it goes through gettext when it
is written (in the language active at that moment), not that it is spelled a certain way."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from django.utils.translation import trans_real


@contextlib.contextmanager
def translated(language: str, entries: Mapping[str, str]) -> Iterator[None]:
    """`entries` (msgid -> msgstr) read in `language` while the block runs, as if its catalog
    held them; every other message reads as the catalog has it."""
    catalog = trans_real.translation(language)
    original = catalog.gettext

    def gettext(message: str) -> str:
        return entries.get(message) or original(message)

    catalog.gettext = gettext
    try:
        yield
    finally:
        del catalog.gettext  # back to the class's method
