"""The translation catalogs: every message translated in every language, none fuzzy; the
compiled catalogs are the ones the .po files give; and collecting the strings marked in the
code (`makemessages`) finds none that a catalog does not translate."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

LANGUAGES = ("es", "fr", "pt_BR")
LOCALE = Path(settings.BASE_DIR) / "locale"
SOURCES = ("pips", "metrics", "pipsystem", "templates", "static/js")


def catalogs(root: Path = LOCALE) -> list[Path]:
    return sorted(root.glob("*/LC_MESSAGES/*.po"))


def untranslated(path: Path) -> list[str]:
    po = polib.pofile(str(path))
    return [e.msgid for e in po.untranslated_entries()] + [
        f"(fuzzy) {e.msgid}" for e in po.fuzzy_entries()
    ]


def test_there_is_a_catalog_for_each_language():
    assert {p.parts[-3] for p in catalogs()} == set(LANGUAGES)


@pytest.mark.parametrize("path", catalogs(), ids=lambda p: "/".join(p.parts[-3:]))
def test_every_message_is_translated_and_none_is_fuzzy(path):
    assert untranslated(path) == []
    assert polib.pofile(str(path)).percent_translated() == 100


@pytest.mark.parametrize("path", catalogs(), ids=lambda p: "/".join(p.parts[-3:]))
def test_the_compiled_catalog_is_the_one_the_po_file_gives(path):
    mo = path.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run make compilemessages"
    po = polib.pofile(str(path))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in polib.mofile(str(mo))}
    expected = {
        (e.msgctxt, e.msgid): (e.msgstr, {int(k): v for k, v in e.msgstr_plural.items()})
        for e in po.translated_entries()
    }
    assert {
        k: (v[0], {int(i): s for i, s in v[1].items()}) for k, v in compiled.items() if k[1]
    } == expected


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_makemessages_finds_nothing_untranslated(tmp_path, settings):
    """What `make messages` would add to the catalogs is already translated: run it on a copy
    of the sources and catalogs, and read the catalogs it leaves."""
    base = Path(settings.BASE_DIR)
    for name in SOURCES:
        shutil.copytree(base / name, tmp_path / name, ignore=shutil.ignore_patterns("vendor"))
    shutil.copytree(LOCALE, tmp_path / "locale")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    cwd = Path.cwd()
    try:
        import os

        os.chdir(tmp_path)
        for domain in ("django", "djangojs"):
            call_command(
                "makemessages",
                locale=list(LANGUAGES),
                domain=domain,
                add_location="file",
                verbosity=0,
            )
    finally:
        os.chdir(cwd)
    problems = {
        "/".join(p.parts[-3:]): untranslated(p)
        for p in catalogs(tmp_path / "locale")
        if untranslated(p)
    }
    assert problems == {}
    for path in catalogs(tmp_path / "locale"):
        stats = subprocess.run(
            ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        assert "untranslated" not in stats and "fuzzy" not in stats, (path, stats)
