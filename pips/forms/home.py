"""The filters on HR's list of every plan. Teams and supervisors are typed, with suggestions
from the same lookups as the plan lists (a company has hundreds of each: no select of all)."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.utils.translation import gettext_lazy

from pips.lookups import AUTOCOMPLETE_SCRIPT, TeamAndSupervisorFields
from pips.models import Status


class PlanFilterForm(TeamAndSupervisorFields, forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("Any state")), *Status.choices],
    )
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)
    field_order = ["status", "team", "supervisor", "overdue"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "mb-3"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("status", css_class="col-md-3"),
                Column(
                    "team", HTML('<datalist id="team-options"></datalist>'), css_class="col-md-3"
                ),
                Column(
                    "supervisor",
                    HTML('<datalist id="supervisor-options"></datalist>'),
                    css_class="col-md-3",
                ),
                Column("overdue", css_class="col-md-2 mt-md-4 pt-md-2"),
                Column(
                    HTML('<button class="btn btn-outline-primary mt-md-4">Filter</button>'),
                    css_class="col-md-1",
                ),
            ),
            HTML(AUTOCOMPLETE_SCRIPT),
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
