"""The search and filters of the plan lists. Teams and supervisors are typed (with suggestions
from the autocomplete endpoints), not picked from a select of every team in the company; a
name that matches none, or more than one, is refused at its field."""

from __future__ import annotations

import re

from django import forms

from pips import plan_lists
from pips.models import Status, Team

STATE_CHOICES = [
    ("", "Any state"),
    ("open", "Any open state"),
    ("closed", "Closed or cancelled"),
    *Status.choices,
]
SORT_CHOICES = [(key, key) for key in plan_lists.SORTS] + [
    (f"-{key}", f"-{key}") for key in plan_lists.SORTS
]
_USERNAME = re.compile(r"\(([^()]+)\)\s*$")
# The script behind the suggestions, with the lookups it asks (in a form's layout or a page).
AUTOCOMPLETE_SCRIPT = (
    '{% load static %}<script src="{% static \'js/autocomplete.js\' %}" id="autocomplete-script"'
    " data-teams=\"{% url 'pips:lookup_teams' %}\""
    " data-supervisors=\"{% url 'pips:lookup_supervisors' %}\"></script>"
)


class TeamAndSupervisorFields(forms.Form):
    """A team and a supervisor, typed with suggestions, resolved among those the user may
    filter by; a name that matches none, or several, is refused at its field."""

    team = forms.CharField(
        label="Team",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"list": "team-options", "data-lookup": "teams", "autocomplete": "off"}
        ),
    )
    supervisor = forms.CharField(
        label="Supervisor",
        required=False,
        max_length=150,
        widget=forms.TextInput(
            attrs={
                "list": "supervisor-options",
                "data-lookup": "supervisors",
                "autocomplete": "off",
            }
        ),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_team(self) -> Team | None:
        name = self.cleaned_data["team"].strip()
        if not name:
            return None
        team = plan_lists.team_choices(self.user).filter(name__iexact=name).first()
        if team is None:
            raise forms.ValidationError(
                f"No team called “{name}” among yours; pick one from the suggestions."
            )
        return team

    def clean_supervisor(self):
        text = self.cleaned_data["supervisor"].strip()
        if not text:
            return None
        people = plan_lists.supervisor_choices(self.user)
        match = _USERNAME.search(text)
        if match:
            found = list(people.filter(username=match.group(1))[:2])
        else:
            found = [
                u
                for u in people.filter(last_name__icontains=text.split()[-1])[:200]
                if (u.get_full_name() or u.get_username()).casefold() == text.casefold()
                or u.get_username().casefold() == text.casefold()
            ]
        if not found:
            raise forms.ValidationError(
                f"No supervisor called “{text}”; pick one from the suggestions."
            )
        if len(found) > 1:
            raise forms.ValidationError(
                f"More than one supervisor is called “{text}”; pick one from the suggestions, "
                "which name each by their login."
            )
        return found[0]


class PlanListForm(TeamAndSupervisorFields):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, employee ID or plan number"}
        ),
    )
    state = forms.ChoiceField(label="State", required=False, choices=STATE_CHOICES)
    site = forms.ChoiceField(label="Site", required=False, choices=[])
    period_from = forms.DateField(
        label="Review period from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2026-01-31."},
    )
    period_to = forms.DateField(
        label="to",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2026-03-31."},
    )
    sort = forms.ChoiceField(
        required=False,
        choices=SORT_CHOICES,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "The list cannot be sorted by “%(value)s”."},
    )

    field_order = ["q", "state", "team", "supervisor", "site", "period_from", "period_to"]

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, user=user, **kwargs)
        sites = (
            plan_lists.team_choices(user)
            .exclude(site="")
            .order_by("site")
            .values_list("site", flat=True)
            .distinct()
        )
        self.fields["site"].choices = [("", "Any site")] + [(s, s) for s in sites]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("period_from"), data.get("period_to")
        if start and end and start > end:
            self.add_error("period_to", "The end of the range is before its start.")
        return data

    def query(self) -> plan_lists.PlanQuery | None:
        """The list's query; None when the form has errors (nothing is guessed)."""
        if not self.is_bound:
            return plan_lists.PlanQuery()
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return plan_lists.PlanQuery(
            q=data["q"].strip(),
            state=data["state"],
            team=data["team"],
            supervisor=data["supervisor"],
            site=data["site"],
            period_from=data["period_from"],
            period_to=data["period_to"],
            sort=data["sort"] or plan_lists.DEFAULT_SORT,
        )

    def as_record(self) -> dict:
        """The filters as the audit trail keeps them."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {
            k: str(getattr(v, "name", None) or getattr(v, "username", None) or v)
            for k, v in self.cleaned_data.items()
            if v
        }
