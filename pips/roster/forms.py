"""Forms of the roster pages: the upload, the column mapping, and invitations."""

from __future__ import annotations

import os
from typing import Any

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from pips.models import Team
from pips.roster.models import RosterSource
from pips.roster.parsing import (
    ACTIVE,
    FIELDS,
    ROLES,
    TERMINATED,
    MappingError,
    RosterMapping,
)
from pips.roster.uploads import EXTENSIONS


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(
        queryset=RosterSource.objects.all(),
        required=False,
        label=gettext_lazy("Source"),
        empty_label=gettext_lazy("— a new source —"),
        help_text=gettext_lazy(
            "The HR system this export comes from; its column mapping is remembered."
        ),
    )
    new_source = forms.CharField(
        max_length=100,
        required=False,
        label=gettext_lazy("New source name"),
        help_text=gettext_lazy("e.g. Workday"),
    )
    file = forms.FileField(
        label=gettext_lazy("File"), help_text=gettext_lazy("CSV or XLSX, with a header row.")
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > settings.ROSTER_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                gettext("The file is larger than %(limit)s MB.")
                % {"limit": settings.ROSTER_UPLOAD_MAX_BYTES // (1024 * 1024)}
            )
        if os.path.splitext(file.name or "")[1].lower() not in EXTENSIONS:
            raise forms.ValidationError(gettext("Upload a .csv or .xlsx file."))
        return file

    def clean(self):
        data = super().clean()
        name = (data.get("new_source") or "").strip()
        if not data.get("source") and not name:
            self.add_error("new_source", gettext("Choose a source or name a new one."))
        elif not data.get("source") and RosterSource.objects.filter(name__iexact=name).exists():
            self.add_error(
                "new_source", gettext("%(name)s exists already: choose it above.") % {"name": name}
            )
        return data


def _pairs(text: str, allowed: tuple[str, ...], label: str) -> dict[str, str]:
    result = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        raw, sep, value = line.rpartition("=")
        if not sep or not raw.strip() or value.strip() not in allowed:
            raise forms.ValidationError(
                gettext("Line %(number)s: write FILE TEXT = %(allowed)s (%(what)s).")
                % {"number": number, "allowed": " / ".join(allowed), "what": label}
            )
        result[raw.strip()] = value.strip()
    return result


class MappingForm(forms.Form):
    """A select per roster field, offering the file's columns."""

    date_format = forms.CharField(
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        label=gettext_lazy("Date format"),
        # xgettext:no-python-format
        help_text=gettext_lazy("Only for dates like 03/05/2024: %m/%d/%Y (US) or %d/%m/%Y."),
    )
    status_values = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        label=gettext_lazy("Status values"),
        help_text=format_lazy(
            gettext_lazy(
                "Other status texts, one per line: On leave = {active}, Resigned = {terminated}"
            ),
            active=ACTIVE,
            terminated=TERMINATED,
        ),
    )
    role_values = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        label=gettext_lazy("Role values"),
        help_text=gettext_lazy(
            "Other role texts, one per line: Team Lead = supervisor, CSR = agent"
        ),
    )

    def __init__(self, *args, header: list[str], initial_mapping: dict[str, Any], **kwargs):
        initial = {k: v for k, v in initial_mapping.items() if k in FIELDS or k == "date_format"}
        initial["status_values"] = "\n".join(
            f"{k} = {v}" for k, v in (initial_mapping.get("status_values") or {}).items()
        )
        initial["role_values"] = "\n".join(
            f"{k} = {v}" for k, v in (initial_mapping.get("role_values") or {}).items()
        )
        super().__init__(*args, initial=initial, **kwargs)
        choices = [("", "—")] + [(h, h) for h in header if h.strip()]
        for name, (label, required) in reversed(FIELDS.items()):
            self.fields = {
                name: forms.ChoiceField(
                    choices=choices,
                    required=required,
                    label=label,
                    widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
                ),
                **self.fields,
            }
        self.header = header

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            status_values = _pairs(
                data.get("status_values", ""),
                (ACTIVE, TERMINATED),
                pgettext_lazy("roster field", "status"),
            )
            role_values = _pairs(
                data.get("role_values", ""), ROLES, pgettext_lazy("roster field", "role")
            )
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        raw = {name: data.get(name, "") for name in FIELDS}
        raw.update(
            date_format=data.get("date_format", ""),
            status_values=status_values,
            role_values=role_values,
        )
        try:
            self.mapping = RosterMapping.parse(raw)
        except MappingError as exc:
            if exc.field in self.fields:
                self.add_error(exc.field, exc.message)
            else:
                raise forms.ValidationError(str(exc)) from None
        return data


class InviteForm(forms.Form):
    """Whom to invite: chosen people, a team, or everyone listed who has not joined."""

    scope = forms.ChoiceField(
        label=gettext_lazy("Whom to invite"),
        choices=[
            ("people", pgettext_lazy("invite", "people")),
            ("team", pgettext_lazy("invite", "team")),
            ("all", pgettext_lazy("invite", "all")),
        ],
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, label=gettext_lazy("Team")
    )

    def clean(self):
        try:
            self.cleaned_data["agents"] = [int(v) for v in self.data.getlist("agents")][:500]
        except ValueError:
            self.add_error(None, gettext("The people chosen are not valid."))
            self.cleaned_data["agents"] = []
        data = super().clean()
        if data.get("scope") == "people" and not data.get("agents"):
            self.add_error("agents", gettext("Tick the people to invite."))
        if data.get("scope") == "team" and not data.get("team"):
            self.add_error("team", gettext("Choose the team to invite."))
        return data
