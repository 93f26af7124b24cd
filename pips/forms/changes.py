"""Forms for the changes real plans go through: a pause for leave and its end, a transfer to
another supervisor, the employee leaving, and naming a delegate for a date range."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pips import limits
from pips.forms.reviews import DateInput
from pips.models import PipPause


class _UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


def _helper(*fields, submit: str, css: str = "btn-primary") -> FormHelper:
    helper = FormHelper()
    helper.layout = Layout(*fields, Submit("save", submit, css_class=css))
    return helper


class PauseForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of leave"), choices=PipPause.Kind.choices)
    start_on = forms.DateField(label=_("Leave starts on"), widget=DateInput())
    note = forms.CharField(
        label=_("What documents the leave"),
        max_length=limits.MEDIUM_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("On the plan's record and its PDF copy, which the employee sees."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"start_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.helper = _helper("kind", "start_on", "note", submit=_("Pause the plan"))


class ResumeForm(forms.Form):
    resume_on = forms.DateField(label=_("Back at work on"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"resume_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.helper = _helper("resume_on", submit=_("Resume the plan"), css="btn-success")


class ReassignForm(forms.Form):
    supervisor = _UserChoice(label=_("New supervisor"), queryset=None)
    reason = forms.CharField(
        label=_("Why the plan changes hands"),
        max_length=limits.MEDIUM_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, supervisors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = supervisors
        self.helper = _helper("supervisor", "reason", submit=_("Reassign the plan"))


class EndEmploymentForm(forms.Form):
    ended_on = forms.DateField(label=_("Last day of employment"), widget=DateInput())
    confirm = forms.BooleanField(
        label=_(
            "The employee has left the company: end the plan with the reason “employment ended”."
        )
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"ended_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            "ended_on", "confirm", submit=_("End the plan: employment ended"), css="btn-danger"
        )


class DelegationForm(forms.Form):
    delegate = _UserChoice(label=_("Delegate"), queryset=None)
    start_on = forms.DateField(label=_("From"), widget=DateInput())
    end_on = forms.DateField(label=_("To (included)"), widget=DateInput())

    def __init__(self, *args, supervisors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = supervisors
        self.helper = _helper("delegate", "start_on", "end_on", submit=_("Name the delegate"))
