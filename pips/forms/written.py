"""Form fields that hold the text people write in a plan or template, marked with its language."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms


def mark_written_language(form: forms.Form, names: Iterable[str], language: str) -> None:
    """Mark the fields people write the plan's or template's own text in with the language
    that text is written in (`lang`), as the plan's pages show it: a page in Spanish can hold
    a template written in English. Only a field with text in it is marked: an empty one shows
    its placeholder, an example in the reader's language."""
    if not language:
        return
    for name in names:
        if name in form.fields and str(form[name].value() or "").strip():
            form.fields[name].widget.attrs["lang"] = language
