"""The filters of HR's consistency page (and of its CSV export)."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from pips.lookups import AUTOCOMPLETE_SCRIPT
from pips.models import Team


class StatsFilterForm(forms.Form):
    created_from = forms.DateField(
        label=_("Plans created from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date such as 2025-01-31.")},
    )
    created_to = forms.DateField(
        label=_("to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date such as 2025-03-31.")},
    )
    # Typed, with suggestions: a company has hundreds of teams (no select of every one).
    team = forms.CharField(
        label=_("Team"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "list": "team-options",
                "data-lookup": "teams",
                "autocomplete": "off",
                "placeholder": _("All teams"),
            }
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "mb-3"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("created_from", css_class="col-md-3"),
                Column("created_to", css_class="col-md-3"),
                Column(
                    "team", HTML('<datalist id="team-options"></datalist>'), css_class="col-md-3"
                ),
                Column(
                    HTML(
                        '<button class="btn btn-outline-primary mt-md-4">'
                        + escape(pgettext("filter", "Show"))
                        + "</button>"
                    ),
                    css_class="col-md-2",
                ),
            ),
            HTML(AUTOCOMPLETE_SCRIPT),
        )

    def clean_team(self) -> Team | None:
        name = self.cleaned_data["team"].strip()
        if not name:
            return None
        team = Team.objects.filter(name__iexact=name).first()
        if team is None:
            raise forms.ValidationError(
                _("No team called “%(name)s”; pick one from the suggestions.") % {"name": name}
            )
        return team

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("The end of the range is before its start."))
        return data

    def filters(self) -> dict:
        """The valid filters; none when the form is unbound or invalid."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}

    def as_record(self) -> dict:
        """The filters as the audit trail keeps them."""
        return {k: str(getattr(v, "name", v)) for k, v in self.filters().items()}
