"""Forms for check-ins, the midpoint and final reviews, HR's decision and cancelling a plan.

They validate and normalise what was typed; the services decide what it means. Rows that repeat
per action item or per expectation are small forms of their own, one per row, each prefixed with
its row's id so the rows always come from the plan, never from the posted data.
"""

from __future__ import annotations

import datetime as dt

from crispy_forms.bootstrap import InlineCheckboxes, InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Field, Fieldset, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pips import limits
from pips.forms.written import mark_written_language
from pips.models import ActionItem, ActionStatus, Outcome, Review
from pips.rules import full_name_matches, typed_name_message
from pips.snapshots import ReviewRow
from pipsystem import l10n

YES_NO = [("yes", "Yes"), ("no", "No")]


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal beside the field it names, or at the top of the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _day(value: dt.date) -> str:
    # "Tue 04 Mar 2025", with the day and month names of the active language.
    return date_format(value, "D d M Y")


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _row_helper(*fields) -> FormHelper:
    """A row form is rendered inside the page's form: no <form> tag, no second CSRF token."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.layout = Layout(*fields)
    return helper


# --- check-ins ---------------------------------------------------------------------------------


class CheckInForm(forms.Form):
    scheduled_for = forms.ChoiceField(
        label=gettext_lazy("Which check-in"),
        required=False,
        help_text=gettext_lazy("A scheduled check-in, or an extra one outside the schedule."),
    )
    held_on = forms.DateField(label=gettext_lazy("Held on"), widget=DateInput())
    attendees = forms.CharField(label=gettext_lazy("Attendees"), max_length=300)
    snapshot_note = forms.CharField(
        label=gettext_lazy("Note on the KPI figures"),
        required=False,
        widget=_textarea(2),
        help_text=gettext_lazy(
            "The figures come from the KPI data and are not edited here; add a note if "
            "something needs explaining (a system outage, a coaching day off the phones)."
        ),
    )
    coaching_done = forms.CharField(
        label=gettext_lazy("Support given"),
        required=False,
        widget=_textarea(),
        help_text=gettext_lazy("Coaching, shadowing, training attended since the last check-in."),
    )
    notes = forms.CharField(
        label=gettext_lazy("Discussion notes"), max_length=limits.LONG_TEXT, widget=_textarea(4)
    )
    next_steps = forms.CharField(
        label=gettext_lazy("Next steps"),
        required=False,
        max_length=limits.LONG_TEXT,
        widget=_textarea(),
    )

    def __init__(
        self,
        *args,
        pending: list[dt.date],
        period_start: dt.date,
        today: dt.date,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.period_start = period_start
        self.today = today
        self.fields["scheduled_for"].choices = [
            ("", _("An extra check-in (not on the schedule)"))
        ] + [
            (day.isoformat(), _("Scheduled for %(date)s") % {"date": _day(day)}) for day in pending
        ]
        self.helper = FormHelper()
        self.helper.form_id = "checkin-form"
        self.helper.layout = Layout(
            Fieldset(_("Meeting"), "scheduled_for", "held_on", "attendees"),
            HTML('{% include "pips/reviews/_snapshot_table.html" %}'),
            "snapshot_note",
            HTML('{% include "pips/reviews/_checkin_actions.html" %}'),
            Fieldset(_("Support and notes"), "coaching_done", "notes", "next_steps"),
            Submit("save", _("Record the check-in")),
        )

    def clean_scheduled_for(self) -> dt.date | None:
        value = self.cleaned_data["scheduled_for"]
        return dt.date.fromisoformat(value) if value else None

    def clean_held_on(self) -> dt.date:
        held_on = self.cleaned_data["held_on"]
        if held_on < self.period_start:
            raise ValidationError(
                _("The plan started on %(date)s; a check-in cannot be held before that.")
                % {"date": l10n.date(self.period_start)}
            )
        if held_on > self.today:
            raise ValidationError(_("A check-in cannot be recorded before it is held."))
        return held_on


class ActionUpdateForm(forms.Form):
    """One action item at a check-in: its status, and for coaching or shadowing the sessions
    held since the last check-in."""

    status = forms.ChoiceField(choices=ActionStatus.choices)
    sessions = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Sessions held"),
        required=False,
        coerce=dt.date.fromisoformat,
        widget=forms.CheckboxSelectMultiple,
    )
    other_sessions = forms.CharField(
        label=gettext_lazy("Other days held"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Days not listed, as YYYY-MM-DD, separated by commas."),
    )

    def __init__(self, *args, action: ActionItem, days: list[dt.date], **kwargs):
        kwargs.setdefault("prefix", f"action-{action.pk}")
        kwargs.setdefault("initial", {"status": action.status})
        super().__init__(*args, **kwargs)
        self.action = action
        self.fields["status"].label = _("Status")
        fields = [Field("status", wrapper_class="mb-2")]
        if action.records_sessions:
            self.fields["sessions"].choices = [(d.isoformat(), _day(d)) for d in days]
            if days:
                fields.append(InlineCheckboxes("sessions", wrapper_class="mb-2"))
            else:
                del self.fields["sessions"]
            fields.append(Field("other_sessions", wrapper_class="mb-0"))
        else:
            del self.fields["sessions"]
            del self.fields["other_sessions"]
        self.helper = _row_helper(*fields)

    def clean_other_sessions(self) -> list[dt.date]:
        text = self.cleaned_data.get("other_sessions", "")
        days = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                days.append(dt.date.fromisoformat(part))
            except ValueError:
                raise ValidationError(
                    _("“%(part)s” is not a date; write it as YYYY-MM-DD, e.g. 2025-03-04.")
                    % {"part": part}
                ) from None
        return days

    def session_dates(self) -> list[dt.date]:
        if not self.action.records_sessions:
            return []
        days = set(self.cleaned_data.get("sessions") or [])
        days |= set(self.cleaned_data.get("other_sessions") or [])
        return sorted(days)


class MissedCheckInForm(forms.Form):
    scheduled_for = forms.ChoiceField(label=gettext_lazy("Scheduled check-in"))
    missed_reason = forms.CharField(
        label=gettext_lazy("Why it did not take place"),
        widget=_textarea(3),
        help_text=gettext_lazy("The employee receives this in the check-in summary."),
    )

    def __init__(self, *args, missable: list[dt.date], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheduled_for"].choices = [(d.isoformat(), _day(d)) for d in missable]
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "scheduled_for",
            "missed_reason",
            Submit("save", _("Record as missed"), css_class="btn-warning"),
        )

    def clean_scheduled_for(self) -> dt.date:
        return dt.date.fromisoformat(self.cleaned_data["scheduled_for"])


class AgentCommentForm(forms.Form):
    agent_comment = forms.CharField(
        label=gettext_lazy("Your comment"),
        max_length=limits.MEDIUM_TEXT,
        widget=_textarea(4),
        help_text=gettext_lazy(
            "Your supervisor and HR will see it with the check-in. You can comment once."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout("agent_comment", Submit("save", _("Add my comment")))


# --- reviews -----------------------------------------------------------------------------------


class ReviewOpenForm(forms.Form):
    kind = forms.ChoiceField(choices=Review.Kind.choices)


class ReviewItemForm(forms.Form):
    """One expectation at a review: on track (midpoint) or met (final), as the supervisor
    confirms it, with the evidence and, at the midpoint, any adjustment."""

    confirmed = forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect)
    evidence = forms.CharField(required=False, max_length=limits.MEDIUM_TEXT, widget=_textarea(2))
    adjustment = forms.CharField(required=False, max_length=limits.MEDIUM_TEXT, widget=_textarea(2))

    def __init__(self, *args, row: ReviewRow, kind: str, **kwargs):
        expectation = row.expectation
        kwargs.setdefault("prefix", f"expectation-{expectation.pk}")
        initial = {"evidence": row.evidence}
        if row.suggested is not None:
            initial["confirmed"] = "yes" if row.suggested else "no"
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.row = row
        midpoint = kind == Review.Kind.MIDPOINT
        self.fields["confirmed"].label = _("On track?") if midpoint else _("Met?")
        self.fields["evidence"].label = _("Progress and evidence") if midpoint else _("Evidence")
        self.fields["adjustment"].label = _("Adjustment")
        self.fields["adjustment"].help_text = (
            "What changes in the support or the approach. A change to the plan's targets, "
            "actions or dates is made by amending the plan."
        )
        fields = [InlineRadios("confirmed", wrapper_class="mb-2"), "evidence"]
        if midpoint:
            fields.append("adjustment")
        else:
            del self.fields["adjustment"]
        self.helper = _row_helper(*fields)

    def clean_confirmed(self) -> bool:
        return self.cleaned_data["confirmed"] == "yes"


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Successful closes the plan. Extended gives more time through an amendment "
            "that HR approves and everyone signs again. Unsuccessful goes to HR, who decides."
        ),
    )
    new_end_date = forms.DateField(
        label=gettext_lazy("New end date (extension only)"), required=False, widget=DateInput()
    )
    summary = forms.CharField(
        label=gettext_lazy("Summary for the employee"),
        max_length=limits.LONG_TEXT,
        widget=_textarea(5),
        help_text=gettext_lazy(
            "The employee receives this written summary by e-mail and in the app."
        ),
    )
    justification = forms.CharField(
        label=gettext_lazy(
            "Justification for HR (only for a successful outcome with targets not met)"
        ),
        required=False,
        max_length=limits.MEDIUM_TEXT,
        widget=_textarea(3),
        help_text=gettext_lazy(
            "A successful outcome must agree with the verdicts above. If a target is not "
            "met, or the data says so, say why the plan should close as successful all the same: "
            "HR decides before it takes effect. HR reads this; the employee does not."
        ),
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.helper = FormHelper()
        self.helper.form_id = "review-form"
        if kind == Review.Kind.MIDPOINT:
            del self.fields["outcome"]
            del self.fields["new_end_date"]
            del self.fields["justification"]
            self.helper.layout = Layout(
                HTML('{% include "pips/reviews/_review_items.html" %}'),
                "summary",
                Submit("save", _("Record the midpoint review")),
            )
        else:
            self.fields["summary"].label = _("Summary and supervisor's comments")
            self.helper.layout = Layout(
                HTML('{% include "pips/reviews/_review_items.html" %}'),
                Fieldset(_("Outcome"), "outcome", "new_end_date", "justification"),
                "summary",
                Submit("save", _("Record the final review")),
            )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == Outcome.EXTENDED and not data.get("new_end_date"):
            self.add_error("new_end_date", _("Give the new end date of the extended plan."))
        if data.get("outcome") != Outcome.EXTENDED:
            data["new_end_date"] = None
        return data


# --- HR ----------------------------------------------------------------------------------------


HR_OUTCOMES = [
    (Outcome.SUCCESSFUL, gettext_lazy("Close as successful")),
    (Outcome.EXTENDED, gettext_lazy("Extend the plan")),
    (Outcome.UNSUCCESSFUL, gettext_lazy("Close as unsuccessful")),
]


class OutcomeDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("HR's decision"), choices=HR_OUTCOMES, widget=forms.RadioSelect
    )
    new_end_date = forms.DateField(
        label=gettext_lazy("New end date (extension only)"), required=False, widget=DateInput()
    )
    decision = forms.CharField(
        label=gettext_lazy("Reasons"),
        max_length=limits.MEDIUM_TEXT,
        widget=_textarea(4),
        help_text=gettext_lazy(
            "What HR reviewed and why it decided so. The employee reads it with the outcome."
        ),
    )
    consequence = forms.CharField(
        label=gettext_lazy("Consequence (unsuccessful only)"),
        required=False,
        max_length=limits.MEDIUM_TEXT,
        widget=_textarea(3),
        help_text=gettext_lazy(
            "Prefilled with the plan's section 5 text for an unsuccessful outcome."
        ),
    )
    typed_name = forms.CharField(
        label=gettext_lazy("Type your full name to sign off the decision"), max_length=150
    )

    def __init__(self, *args, user, language: str = "", **kwargs):
        """`language`: the plan's, which the consequence is prefilled in (its section 5)."""
        super().__init__(*args, **kwargs)
        self.user = user
        mark_written_language(self, ["consequence"], language)
        self.fields["typed_name"].help_text = _("Exactly as your account holds it: “%(name)s”.") % {
            "name": user.get_full_name()
        }
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "outcome",
            "new_end_date",
            "decision",
            "consequence",
            "typed_name",
            Submit("save", _("Sign off the decision"), css_class="btn-danger"),
        )

    def clean_typed_name(self) -> str:
        typed = self.cleaned_data["typed_name"]
        if not full_name_matches(typed, self.user):
            raise ValidationError(typed_name_message(self.user))
        return typed

    def clean(self):
        data = super().clean()
        outcome = data.get("outcome")
        if outcome == Outcome.EXTENDED and not data.get("new_end_date"):
            self.add_error("new_end_date", _("Give the new end date of the extended plan."))
        if outcome != Outcome.EXTENDED:
            data["new_end_date"] = None
        if outcome == Outcome.UNSUCCESSFUL and not (data.get("consequence") or "").strip():
            self.add_error("consequence", _("Record the consequence."))
        if outcome != Outcome.UNSUCCESSFUL:
            data["consequence"] = ""
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for cancelling"),
        max_length=limits.MEDIUM_TEXT,
        widget=_textarea(4),
        help_text=gettext_lazy(
            "Recorded in the plan's audit trail. A cancelled plan is kept, not deleted."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "reason", Submit("save", _("Cancel the plan"), css_class="btn-danger")
        )
