"""The search and filters of the plan lists. Teams and supervisors are typed (with suggestions
from the autocomplete endpoints), not picked from a select of every team in the company; a
name that matches none, or more than one, is refused at its field."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pips import plan_lists
from pips.lookups import TeamAndSupervisorFields
from pips.models import Status

STATE_CHOICES = [
    ("", _("Any state")),
    ("open", _("Any open state")),
    ("closed", _("Closed or cancelled")),
    *Status.choices,
]
SORT_CHOICES = [(key, key) for key in plan_lists.SORTS] + [
    (f"-{key}", f"-{key}") for key in plan_lists.SORTS
]


class PlanListForm(TeamAndSupervisorFields):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, employee ID or plan number")}
        ),
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATE_CHOICES)
    site = forms.ChoiceField(label=_("Site"), required=False, choices=[])
    period_from = forms.DateField(
        label=_("Review period from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date such as 2026-01-31.")},
    )
    period_to = forms.DateField(
        label=_("to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date such as 2026-03-31.")},
    )
    sort = forms.ChoiceField(
        required=False,
        choices=SORT_CHOICES,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("The list cannot be sorted by “%(value)s”.")},
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
        self.fields["site"].choices = [("", _("Any site"))] + [(s, s) for s in sites]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("period_from"), data.get("period_to")
        if start and end and start > end:
            self.add_error("period_to", _("The end of the range is before its start."))
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
