"""The filters of HR's consistency page (and of its CSV export)."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms


class StatsFilterForm(forms.Form):
    created_from = forms.DateField(
        label="Plans created from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2025-01-31."},
    )
    created_to = forms.DateField(
        label="to",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2025-03-31."},
    )
    team = forms.ModelChoiceField(
        label="Team",
        required=False,
        queryset=None,
        empty_label="All teams",
        error_messages={"invalid_choice": "Pick a team from the list."},
    )

    def __init__(self, *args, teams, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "mb-3"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("created_from", css_class="col-md-3"),
                Column("created_to", css_class="col-md-3"),
                Column("team", css_class="col-md-3"),
                Column(
                    HTML('<button class="btn btn-outline-primary mt-md-4">Show</button>'),
                    css_class="col-md-2",
                ),
            )
        )

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "The end of the range is before its start.")
        return data

    def filters(self) -> dict:
        """The valid filters; none when the form is unbound or invalid."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}

    def as_record(self) -> dict:
        """The filters as the audit trail keeps them."""
        return {k: str(getattr(v, "name", v)) for k, v in self.filters().items()}
