"""The filters on HR's list of every plan."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms

from pips.models import Status


class PlanFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *Status.choices]
    )
    team = forms.ModelChoiceField(label="Team", required=False, queryset=None, empty_label="Any")
    supervisor = forms.ModelChoiceField(
        label="Supervisor", required=False, queryset=None, empty_label="Any"
    )
    overdue = forms.BooleanField(label="Overdue only", required=False)

    def __init__(self, *args, teams, supervisors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["supervisor"].queryset = supervisors
        self.fields["supervisor"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "mb-3"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("status", css_class="col-md-3"),
                Column("team", css_class="col-md-3"),
                Column("supervisor", css_class="col-md-3"),
                Column("overdue", css_class="col-md-2 mt-md-4 pt-md-2"),
                Column(
                    HTML('<button class="btn btn-outline-primary mt-md-4">Filter</button>'),
                    css_class="col-md-1",
                ),
            )
        )

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data.get("status") or "",
            "team": data.get("team"),
            "supervisor": data.get("supervisor"),
            "overdue": bool(data.get("overdue")),
        }
