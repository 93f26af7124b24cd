"""Every page the agent sees, rendered for a Spanish-speaking agent, is in Spanish: its text
(and its titles, labels and alt texts) holds none of the project's English strings. The check
walks the rendered text against the msgids of the Spanish catalog; text the supervisor wrote is
marked with its own language (lang="en") and is left out, as it is shown as written.

A second net catches English the catalog does not know (a string left unmarked): common English
words that Spanish never uses."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from pips.models import CheckIn, Profile, Review

pytestmark = pytest.mark.django_db


CATALOG = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"
#: English words no Spanish sentence uses; one of them in Spanish text is English left over.
ENGLISH_WORDS = {"the", "and", "your", "with", "this", "you", "is", "are", "of", "has", "not"}
PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\{\}|\{\{.*?\}\}")


class VisibleText(HTMLParser):
    """The text a reader of `lang` sees (text nodes, and the title, alt, aria-label and
    placeholder attributes), leaving out scripts, styles and any element in another language."""

    SKIP = {"script", "style"}
    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "col", "wbr", "area", "base"}
    ATTRS = ("title", "alt", "aria-label", "placeholder")

    def __init__(self, lang: str):
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.stack: list[tuple[str, bool]] = []  # (tag, excluded)
        self.pieces: list[str] = []

    def _excluded(self) -> bool:
        return any(excluded for _tag, excluded in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = attrs.get("lang")
        excluded = tag in self.SKIP or (lang is not None and not lang.startswith(self.lang))
        if not excluded and not self._excluded():
            self.pieces += [attrs[a] for a in self.ATTRS if attrs.get(a)]
        if tag not in self.VOID:
            self.stack.append((tag, excluded))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if data.strip() and not self._excluded():
            self.pieces.append(data)

    def text(self) -> str:
        return " ".join(" ".join(self.pieces).split())


def visible_text(html: str, lang: str = "es") -> str:
    parser = VisibleText(lang)
    parser.feed(html)
    return parser.text()


def english_needles() -> list[str]:
    """What of each msgid must not be seen: the msgid itself, or for one with placeholders its
    longest literal part. Messages Spanish writes the same ("KPI", "No") are left out."""
    needles = set()
    for entry in polib.pofile(str(CATALOG)):
        if entry.obsolete or not entry.translated():
            continue
        if entry.msgid_plural:
            translations = set(entry.msgstr_plural.values())
            sources = [entry.msgid, entry.msgid_plural]
        else:
            translations = {entry.msgstr}
            sources = [entry.msgid]
        for source in sources:
            if source in translations:
                continue
            text = source.replace("&amp;", "&")
            parts = [p.strip(" .,:;()·") for p in PLACEHOLDER.split(text)]
            part = max(parts, key=len)
            if len(part) < 4 or any(part in t for t in translations):
                continue
            needles.add(part)
    return sorted(needles, key=len, reverse=True)


def english_left(html: str) -> list[str]:
    text = visible_text(html)
    found = [
        needle
        for needle in english_needles()
        if re.search(r"(?<![\w])" + re.escape(needle) + r"(?![\w])", text)
    ]
    words = set(re.findall(r"[A-Za-z]+", text.lower()))
    return found + sorted(f"word: {w}" for w in words & ENGLISH_WORDS)


def spanish(user) -> None:
    Profile.objects.update_or_create(user=user, defaults={"language": "es"})


def test_the_check_finds_english_and_leaves_the_supervisors_text_alone():
    html = (
        '<html lang="es"><body><h1>Lea y firme su plan</h1>'
        '<p lang="en">The supervisor wrote this, and it stays as written.</p>'
        "<p>Read and sign your plan</p><img alt='Draw your signature'></body></html>"
    )
    assert {"Read and sign your plan", "Draw your signature"} <= set(english_left(html))
    assert english_left('<html lang="es"><p lang="en">The plan and your comments</p></html>') == []


def test_the_sign_page_of_a_spanish_speaking_agent_is_in_spanish(client, alex, harper, make_plan):
    pip = make_plan(alex, "issued", hr=harper)
    spanish(alex.user)
    client.force_login(alex.user)
    response = client.get(reverse("pips:sign", args=[pip.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and '<html lang="es">' in html
    assert "Lea y firme su plan" in html
    assert english_left(html) == []
    # A refused POST shows the form again, with its errors: in Spanish too.
    response = client.post(reverse("pips:sign", args=[pip.pk]), {"version": "1"})
    assert response.status_code == 200
    assert english_left(response.content.decode()) == []


def test_every_page_of_a_running_plan_is_in_spanish(client, rich_plan, alex):
    spanish(alex.user)
    client.force_login(alex.user)
    pip = rich_plan
    checkin = CheckIn.objects.filter(pip=pip).first()
    review = Review.objects.filter(pip=pip).first()
    pages = {
        "home": reverse("pips:home"),
        "plan": reverse("pips:detail", args=[pip.pk]),
        "version": reverse("pips:version", args=[pip.pk, pip.current_version.number]),
        "reviews": reverse("pips:reviews", args=[pip.pk]),
        "check-in": reverse("pips:checkin", args=[pip.pk, checkin.pk]),
        "review": reverse("pips:review", args=[pip.pk, review.pk]),
        "notifications": reverse("pips:notifications"),
        "profile": reverse("pips:profile"),
        "verify": reverse("pips:verify"),
    }
    left = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert '<html lang="es">' in html, name
        if english_left(html):
            left[name] = english_left(html)

    assert left == {}


def test_the_pages_before_login_follow_a_spanish_browser(client):
    for url in (reverse("login"), reverse("password_reset")):
        html = client.get(url, headers={"accept-language": "es"}).content.decode()
        assert '<html lang="es">' in html
        assert english_left(html) == [], url
