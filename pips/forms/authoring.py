"""Drafting a plan in the browser, issuing it, HR's decision and HR's templates.

A plan's page is several forms and three formsets (reasons, expectations, actions) submitted
together. The forms parse what people type (AHT as m:ss, percentages with or without %); the
rules a plan must meet are the services' (`validate_content`), and `PlanForms.show_errors` puts
each of their messages back beside its field or on its row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crispy_forms.bootstrap import InlineCheckboxes, InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Field, Layout, Row
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.html import escape
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from metrics.models import Direction, Kpi, Unit
from pips import languages, limits
from pips.content import (
    ActionData,
    ActionRow,
    ExpectationData,
    PlanContent,
    ReasonData,
    TemplateActionData,
    TemplateContent,
)
from pips.forms.written import mark_written_language
from pips.inputs import SignatureInput
from pips.models import WEEKDAYS, Cadence, Comparator, DeadlineKind
from pipsystem import l10n

MAX_ROWS = 40
ROW_PREFIXES = ("reasons", "expectations", "actions")


def date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _helper(*layout, tag: bool = False) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = tag
    helper.disable_csrf = True
    helper.layout = Layout(*layout)
    return helper


# --- KPI targets, typed the way people read them --------------------------------------------------

_DURATION = re.compile(r"(-)?(?:(\d+):)?(\d{1,4}):([0-5]\d)")


def parse_target(raw: str, kpi: Kpi) -> float:
    """A target in the KPI's own unit: a duration as m:ss (or h:mm:ss), a percentage with or
    without the % sign, a count as a number."""
    text = raw.strip()
    if kpi.unit == Unit.SECONDS:
        match = _DURATION.fullmatch(text)
        if not match:
            raise ValidationError(gettext("Type the duration as m:ss, for example 5:00."))
        sign, hours, minutes, seconds = match.groups()
        total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
        return float(-total if sign else total)
    text = text.removesuffix("%").strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        example = gettext("85 (a percentage)") if kpi.unit == Unit.PERCENT else "12"
        raise ValidationError(
            gettext("Type a number, for example %(example)s.") % {"example": example}
        )
    return value


def format_target(value: float | None, kpi: Kpi | None) -> str:
    if value is None or kpi is None:
        return ""
    if kpi.unit == Unit.SECONDS:
        return kpi.format_value(value)
    return f"{value:g}"


def kpi_choices(kpis: Iterable[Kpi], blank: str) -> list[tuple[str, str]]:
    """The KPIs as choices, each named in the reader's language."""
    return [("", blank), *((str(k.pk), k.display_name) for k in kpis)]


def written_language(form: forms.Form, name: str = "language") -> str:
    """The language a page's text is written in: the one chosen on the page (posted, or as
    first shown); empty when it is not one of ours."""
    value = str(form[name].value() or "")
    return value if value in dict(settings.LANGUAGES) else ""


# --- Rows -----------------------------------------------------------------------------------------


class RowForm(forms.Form):
    """A row of a section. The KPI catalog is handed in once (formset form_kwargs), so a page
    with fifty rows still reads the catalog once."""

    kpi_blank = "—"
    #: The fields of the plan's (or template's) own text, marked with its language.
    written_fields: tuple[str, ...] = ()

    def __init__(self, *args, kpis: dict[int, Kpi], language: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.kpis = kpis
        if "kpi" in self.fields:
            self.fields["kpi"].choices = kpi_choices(kpis.values(), self.kpi_blank)
        mark_written_language(self, self.written_fields, language)


class ReasonRowForm(RowForm):
    kpi_blank = pgettext_lazy("KPI", "— none —")
    written_fields = ("text",)

    text = forms.CharField(label=_("Concern"), max_length=300)
    kpi = forms.TypedChoiceField(label=_("KPI"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Row(
                Column("text", css_class="col-md-8"),
                Column("kpi", css_class="col-md-3"),
                Column(Field("DELETE", wrapper_class="mt-md-4 pt-md-2"), css_class="col-md-1"),
            )
        )

    def data_row(self) -> ReasonData:
        return ReasonData(text=self.cleaned_data["text"], kpi_id=self.cleaned_data.get("kpi"))


COMPARATOR_CHOICES = [
    ("", _("From the KPI")),
    (Comparator.GTE, _("≥ at least")),
    (Comparator.LTE, _("≤ at most")),
]


class ExpectationRowForm(RowForm):
    """2. Performance area | current performance | expected standard | improvement needed."""

    kpi_blank = _("— qualitative (no KPI) —")
    written_fields = ("area", "current_text", "standard_text", "improvement_needed")

    area = forms.CharField(label=_("Performance area"), max_length=120)
    kpi = forms.TypedChoiceField(label=_("KPI"), coerce=int, empty_value=None, required=False)
    comparator = forms.ChoiceField(
        label=_("Comparator"), choices=COMPARATOR_CHOICES, required=False
    )
    target = forms.CharField(label=_("Target"), max_length=20, required=False)
    current = forms.CharField(label=_("Current performance"), required=False, disabled=True)
    current_text = forms.CharField(label=_("Current (note)"), max_length=200, required=False)
    standard_text = forms.CharField(label=_("Expected standard"), max_length=200, required=False)
    improvement_needed = forms.CharField(
        label=_("Improvement needed"), max_length=200, required=False
    )
    lineage = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, current_values: dict[int, tuple[str, str]] | None = None, **kwargs):
        """`current_values` ({kpi id: (display, window)}) adds the read-only column of what the
        agent's data says now; a template, which has no agent, leaves it out."""
        super().__init__(*args, **kwargs)
        self.fields["target"].widget.attrs["placeholder"] = gettext("85 or 5:00")
        self.fields["current_text"].widget.attrs["placeholder"] = gettext("e.g. Often incomplete")
        self.fields["standard_text"].widget.attrs["placeholder"] = gettext(
            # xgettext:no-python-format
            "e.g. 100% complete & accurate"
        )
        self.fields["kpi"].widget.attrs["data-kpi-select"] = "1"
        second_row = [
            Column("current_text", css_class="col-md-3"),
            Column("standard_text", css_class="col-md-3 qualitative-only"),
            Column("improvement_needed", css_class="col-md"),
        ]
        if current_values is None:
            del self.fields["current"]
        else:
            kpi_id = self._raw_kpi()
            display, window = current_values.get(kpi_id, ("", ""))
            self.initial["current"] = display or (gettext("no data") if kpi_id else "—")
            self.fields["current"].help_text = window
            self.fields["current"].widget.attrs["data-current"] = "1"
            second_row.insert(0, Column("current", css_class="col-md-3 kpi-only"))
        self.helper = _helper(
            Row(
                Column("area", css_class="col-md-4"),
                Column("kpi", css_class="col-md-3"),
                Column("comparator", css_class="col-md-2 kpi-only"),
                Column("target", css_class="col-md-3 kpi-only"),
            ),
            Row(*second_row),
            Row(Column(Field("DELETE"), css_class="col-12")),
            "lineage",
        )

    def _raw_kpi(self) -> int | None:
        raw = self.data.get(self.add_prefix("kpi")) if self.is_bound else self.initial.get("kpi")
        try:
            return int(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            return None

    def clean(self):
        data = super().clean()
        kpi = self.kpis.get(data.get("kpi")) if data.get("kpi") else None
        data["target_value"] = None
        if kpi is None:
            data["comparator"] = ""
            return data
        if not data.get("comparator"):
            data["comparator"] = (
                Comparator.LTE if kpi.direction == Direction.LOWER else Comparator.GTE
            )
        raw = (data.get("target") or "").strip()
        if raw:
            try:
                data["target_value"] = parse_target(raw, kpi)
            except ValidationError as error:
                self.add_error("target", error)
        return data

    def data_row(self) -> ExpectationData:
        data = self.cleaned_data
        return ExpectationData(
            area=data["area"],
            kpi_id=data.get("kpi"),
            comparator=data.get("comparator", ""),
            target=data.get("target_value"),
            current_text=data.get("current_text", ""),
            standard_text=data.get("standard_text", ""),
            improvement_needed=data.get("improvement_needed", ""),
            lineage=data.get("lineage") or None,
        )


WEEKDAY_SHORT = [
    (0, pgettext_lazy("weekday", "Mon")),
    (1, pgettext_lazy("weekday", "Tue")),
    (2, pgettext_lazy("weekday", "Wed")),
    (3, pgettext_lazy("weekday", "Thu")),
    (4, pgettext_lazy("weekday", "Fri")),
    (5, pgettext_lazy("weekday", "Sat")),
    (6, pgettext_lazy("weekday", "Sun")),
]


class _ActionFields(RowForm):
    written_fields = ("action", "responsible", "deadline_text")

    action = forms.CharField(label=_("Action item"), max_length=200)
    responsible = forms.CharField(label=_("Responsible"), max_length=100)
    deadline_kind = forms.ChoiceField(
        label=_("Deadline"), choices=DeadlineKind.choices, initial=DeadlineKind.DATE
    )
    recurrence_weekdays = forms.TypedMultipleChoiceField(
        label=_("Recurs on"),
        choices=WEEKDAY_SHORT,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    deadline_text = forms.CharField(
        label=_("Deadline as printed"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Every Tuesday & Friday")}),
    )
    records_sessions = forms.BooleanField(
        label=_("Record each session held (coaching, shadowing)"), required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("deadline_kind") != DeadlineKind.RECURRING:
            data["recurrence_weekdays"] = []
        return data

    @staticmethod
    def _layout(deadline: Column, weekdays_css: str, *hidden: str) -> FormHelper:
        """The row as both plan and template forms lay it out; `deadline` is the one field
        that differs (a date on a plan, days from the start on a template)."""
        return _helper(
            Row(
                Column("action", css_class="col-md-5"),
                Column("responsible", css_class="col-md-3"),
                Column("deadline_kind", css_class="col-md-2"),
                deadline,
            ),
            Row(
                Column(InlineCheckboxes("recurrence_weekdays"), css_class=weekdays_css),
                Column("deadline_text", css_class="col-lg-3 col-md-6"),
                Column("records_sessions", css_class="col-lg-3 col-md-6 mt-md-4"),
            ),
            Row(Column(Field("DELETE"), css_class="col-12")),
            *hidden,
        )


class ActionRowForm(_ActionFields):
    """3. Action item | responsible | deadline: a date, a recurrence or ongoing."""

    deadline_date = forms.DateField(label=_("Deadline date"), required=False, widget=date_input())
    lineage = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deadline_kind"].widget.attrs["data-deadline-kind"] = "1"
        self.helper = self._layout(
            Column("deadline_date", css_class="col-md-2 deadline-date"),
            "col-lg-6 deadline-days",
            "lineage",
        )

    def clean(self):
        data = super().clean()
        if data.get("deadline_kind") != DeadlineKind.DATE:
            data["deadline_date"] = None
        return data

    def data_row(self) -> ActionData:
        data = self.cleaned_data
        return ActionData(
            action=data["action"],
            responsible=data["responsible"],
            deadline_kind=data["deadline_kind"],
            deadline_date=data.get("deadline_date"),
            recurrence_weekdays=data.get("recurrence_weekdays", []),
            deadline_text=data.get("deadline_text", ""),
            records_sessions=data.get("records_sessions", False),
            lineage=data.get("lineage") or None,
        )


class TemplateActionRowForm(_ActionFields):
    """A template's action: a date deadline is a number of days from the plan's start."""

    within_days = forms.IntegerField(
        label=_("Days from the start"),
        required=False,
        min_value=1,
        max_value=settings.PIP_MAX_PERIOD_DAYS,
        help_text=_("For a deadline by a date."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = self._layout(Column("within_days", css_class="col-md-2"), "col-lg-6")

    def data_row(self) -> TemplateActionData:
        data = self.cleaned_data
        return TemplateActionData(
            action=data["action"],
            responsible=data["responsible"],
            deadline_kind=data["deadline_kind"],
            deadline_text=data.get("deadline_text", ""),
            recurrence_weekdays=data.get("recurrence_weekdays", []),
            within_days=data.get("within_days"),
            records_sessions=data.get("records_sessions", False),
        )


class RowFormSet(forms.BaseFormSet):
    """Rows with one blank row to fill and a remove box on each: the basics work without
    JavaScript; static/js/formset.js adds and removes rows in place."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = gettext("Remove this row")
            form.fields["DELETE"].widget.attrs["data-formset-delete"] = "1"


def _formset(form: type[forms.Form]) -> type[forms.BaseFormSet]:
    return forms.formset_factory(
        form,
        formset=RowFormSet,
        extra=1,
        can_delete=True,
        max_num=MAX_ROWS,
        validate_max=True,
        absolute_max=MAX_ROWS,
    )


ReasonFormSet = _formset(ReasonRowForm)
ExpectationFormSet = _formset(ExpectationRowForm)
ActionFormSet = _formset(ActionRowForm)
TemplateActionFormSet = _formset(TemplateActionRowForm)


# --- The plan's sections ------------------------------------------------------------------------


class HeaderForm(forms.Form):
    """The header: the employee fields come from the agent record and cannot be typed over."""

    employee_name = forms.CharField(label=_("Employee Name"), required=False, disabled=True)
    employee_id = forms.CharField(label=_("Employee ID"), required=False, disabled=True)
    department = forms.CharField(label=_("Department/Team"), required=False, disabled=True)
    job_title = forms.CharField(label=_("Job Title"), required=False, disabled=True)
    supervisor_name = forms.CharField(label=_("Supervisor/Manager"), required=False, disabled=True)
    issued = forms.CharField(label=_("Date of PIP Issuance"), required=False, disabled=True)
    period_start = forms.DateField(label=_("Review period from"), widget=date_input())
    period_end = forms.DateField(
        label=_("to"),
        widget=date_input(),
        help_text=format_lazy(
            _("{default} days by default; {min} to {max} days."),
            default=settings.PIP_DEFAULT_PERIOD_DAYS,
            min=settings.PIP_MIN_PERIOD_DAYS,
            max=settings.PIP_MAX_PERIOD_DAYS,
        ),
    )
    change_summary = forms.CharField(
        label=_("What this amendment changes, and why"),
        required=False,
        max_length=limits.MEDIUM_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # The language the supervisor writes the plan's text in: the employee reads the headings in
    # theirs, and this text as written, marked with it.
    language = forms.ChoiceField(
        label=_("Language of the plan's text"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("The language you write the reasons, expectations and actions in."),
    )

    def __init__(self, *args, amendment_of: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("issued", gettext("At the meeting, when the plan is issued"))
        layout = []
        if amendment_of is not None:
            layout.append(
                HTML(
                    '<p class="alert alert-info py-2">'
                    + gettext("Amendment to version %(number)s") % {"number": int(amendment_of)}
                    + "</p>"
                )
            )
            layout.append("change_summary")
        else:
            del self.fields["change_summary"]
        self.helper = _helper(
            *layout,
            Row(Column("employee_name"), Column("employee_id")),
            Row(Column("department"), Column("job_title")),
            Row(Column("supervisor_name"), Column("issued")),
            Row(Column("period_start"), Column("period_end")),
            Row(Column("language", css_class="col-md-6")),
        )


class DescriptionForm(forms.Form):
    description = forms.CharField(
        label=_("Describe the issue(s)"),
        required=False,
        max_length=limits.LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Be specific and objective."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("description")


class MonitoringForm(forms.Form):
    checkin_cadence = forms.ChoiceField(label=_("Check-ins"), choices=Cadence.choices)
    checkin_weekday = forms.TypedChoiceField(label=_("On"), choices=WEEKDAYS, coerce=int)
    monitoring_reports = forms.CharField(
        label=_("Reports used (one per line)"),
        required=False,
        max_length=limits.LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    midpoint_date = forms.DateField(
        label=_("Mid-point review meeting on"), required=False, widget=date_input()
    )
    final_review_date = forms.DateField(
        label=_("Final review on"),
        required=False,
        widget=date_input(),
        help_text=_("Left empty, the last day of the review period."),
    )

    def __init__(self, *args, midpoint_hint: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["midpoint_date"].help_text = (
            gettext("Required when the period is over 30 days.") + " " + midpoint_hint
        ).strip()
        self.helper = _helper(
            Row(Column("checkin_cadence"), Column("checkin_weekday")),
            "monitoring_reports",
            Row(Column("midpoint_date"), Column("final_review_date")),
        )


class OutcomesForm(forms.Form):
    outcome_success = forms.CharField(
        label=_("If improvement is achieved by the review deadline"),
        max_length=limits.LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    outcome_failure = forms.CharField(
        label=_("If performance does not improve sufficiently"),
        max_length=limits.LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("outcome_success", "outcome_failure")


def midpoint_hint(start: dt.date, end: dt.date) -> str:
    middle = start + (end - start) / 2
    return gettext("Suggested: %(date)s, the middle of the period.") % {
        "date": l10n.date(middle, long=True)
    }


class SectionForms:
    """Several forms and formsets that make one page: valid together or not at all. Errors from
    a service, keyed by field (`period_end`) or by row (`expectations-2`), are put back on the
    form or row they belong to."""

    forms: dict[str, forms.Form]
    formsets: dict[str, forms.BaseFormSet]

    def __init__(self) -> None:
        self.section_errors: dict[str, list[str]] = {}
        self.page_errors: list[str] = []
        self._included: dict[str, list[forms.Form]] = {}

    #: The fields of the page's forms (not its rows) that hold the plan's or template's own
    #: text: shown as written, marked with the language it is written in.
    WRITTEN_FIELDS = (
        "name",
        "description",
        "job_title",
        "change_summary",
        "monitoring_reports",
        "outcome_success",
        "outcome_failure",
    )

    def mark_written(self, language: str) -> str:
        """Mark the text fields of the page's forms with `language`; returns it, for the
        rows (which mark theirs when they are built)."""
        for form in self.forms.values():
            mark_written_language(form, self.WRITTEN_FIELDS, language)
        return language

    @staticmethod
    def with_added_row(data: QueryDict, prefix: str) -> QueryDict:
        """The posted data with one more blank row in a formset (adding rows without JS)."""
        data = data.copy()
        key = f"{prefix}-TOTAL_FORMS"
        with contextlib.suppress(ValueError):
            data[key] = str(min(int(data.get(key, "0")) + 1, MAX_ROWS))
        return data

    def is_valid(self) -> bool:
        results = [f.is_valid() for f in self.forms.values()]
        results += [fs.is_valid() for fs in self.formsets.values()]
        return all(results)

    def rows(self, prefix: str) -> list[forms.Form]:
        """The rows to save, in page order: not deleted, and not an untouched blank row."""
        if prefix not in self._included:
            formset = self.formsets[prefix]
            self._included[prefix] = [
                form
                for form in formset.forms
                if not form.cleaned_data.get("DELETE")
                and not (form.empty_permitted and not form.has_changed())
            ]
        return self._included[prefix]

    def field_owner(self, key: str) -> forms.Form | None:
        for form in self.forms.values():
            if key in form.fields and not form.fields[key].disabled:
                return form
        return None

    def show_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.page_errors.extend(error.messages)
            return
        for key, messages in error.message_dict.items():
            prefix, _, index = key.partition("-")
            if prefix in self.formsets and index.isdigit():
                rows = self.rows(prefix)
                if int(index) < len(rows):
                    for message in messages:
                        rows[int(index)].add_error(None, message)
                    continue
            if key in self.formsets:
                self.section_errors.setdefault(key, []).extend(messages)
                continue
            owner = self.field_owner(key)
            if owner is not None:
                for message in messages:
                    owner.add_error(key, message)
            else:
                self.page_errors.extend(messages)

    @property
    def has_errors(self) -> bool:
        return bool(
            self.page_errors
            or self.section_errors
            or any(f.errors for f in self.forms.values())
            or any(fs.total_error_count() for fs in self.formsets.values())
        )

    #: The page's sections, for the error summary: formset prefix → (heading id, name).
    SECTION_NAMES: dict[str, tuple[str, str]] = {
        "reasons": ("h-reasons", _("Reasons")),
        "expectations": ("h-expectations", _("Expectations")),
        "actions": ("h-actions", _("Action plan")),
    }

    @property
    def error_summary(self) -> list[ErrorLink]:
        """Every problem on the page, in page order, each linking to its field (or row, or
        section): the summary at the top of the form, so one submit shows them all."""
        items = [ErrorLink("", "", message) for message in self.page_errors]
        for form in self.forms.values():
            items.extend(_form_errors(form, ""))
        for prefix, formset in self.formsets.items():
            anchor, name = self.SECTION_NAMES.get(prefix, (f"h-{prefix}", prefix.capitalize()))
            for message in [*formset.non_form_errors(), *self.section_errors.get(prefix, [])]:
                items.append(ErrorLink(anchor, name, message))
            shown = 0
            for form in formset.forms:
                if form.empty_permitted and not form.has_changed():
                    continue
                shown += 1
                row = gettext("%(section)s, row %(number)s") % {"section": name, "number": shown}
                items.extend(_form_errors(form, f"{row}: "))
        return items

    def rule_errors(self, partial, validate) -> None:
        """Run the services' rules on what could be read from a page that also has field
        errors, and show theirs too: one submit lists every problem, not the fields first and
        the rules after. `partial` is (content, {prefix: (row forms, complete)}) or None when
        the dates the rules need could not be read. A rule about a whole section whose rows
        could not all be read is left for the next submit."""
        if partial is None:
            return
        content, sections = partial
        try:
            validate(content)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                self.page_errors.extend(error.messages)
                return
            for key, messages in error.message_dict.items():
                prefix, _, index = key.partition("-")
                if prefix in sections:
                    rows, complete = sections[prefix]
                    if index.isdigit() and int(index) < len(rows):
                        for message in messages:
                            rows[int(index)].add_error(None, message)
                    elif not index and complete:
                        self.section_errors.setdefault(prefix, []).extend(messages)
                    continue
                owner = self.field_owner(key)
                if owner is None:
                    self.page_errors.extend(messages)
                elif key not in owner.errors:
                    for message in messages:
                        owner.add_error(key, message)


@dataclass(frozen=True)
class ErrorLink:
    anchor: str
    label: str
    message: str


def _form_errors(form: forms.Form, prefix: str) -> list[ErrorLink]:
    items = []
    first = next((name for name in form.fields if not form.fields[name].widget.is_hidden), None)
    for name, messages in form.errors.items():
        if name == "__all__":
            anchor = form[first].auto_id if first else ""
            items.extend(ErrorLink(anchor, prefix.rstrip(": ") or "", m) for m in messages)
            continue
        field = form[name]
        label = f"{prefix}{field.label}" if field.label else prefix.rstrip(": ")
        items.extend(ErrorLink(field.auto_id, label, m) for m in messages)
    return items


def _expectation_initial(e: ExpectationData, kpi_map: dict) -> dict[str, Any]:
    """An expectation row's form values, as plan and template pages both show it."""
    return {
        "area": e.area,
        "kpi": e.kpi_id,
        "comparator": e.comparator,
        "target": format_target(e.target, kpi_map.get(e.kpi_id)),
        "current_text": e.current_text,
        "standard_text": e.standard_text,
        "improvement_needed": e.improvement_needed,
    }


def _action_initial(a: ActionRow) -> dict[str, Any]:
    """An action row's form values but its deadline, which plan and template differ on."""
    return {
        "action": a.action,
        "responsible": a.responsible,
        "deadline_kind": a.deadline_kind,
        "recurrence_weekdays": list(a.recurrence_weekdays),
        "deadline_text": a.deadline_text,
        "records_sessions": a.records_sessions,
    }


def _lineage(value: str | None, allowed: set[str], seen: set[str]) -> str | None:
    """Keep a row's lineage only when it is one of this version's own rows, and only once."""
    try:
        text = str(uuid.UUID(value)) if value else None
    except ValueError:
        return None
    if text is None or text not in allowed or text in seen:
        return None
    seen.add(text)
    return text


class PlanForms(SectionForms):
    """Every section of a plan, in the template's order, on one page.

    `content` prefills the page (from a template or the draft being edited). `current_values`
    maps a KPI id to what the agent's data says (display, window) for the read-only column.
    For an amendment, `frozen` maps each existing row's lineage to its baseline, which an
    amendment keeps as it was at the first issue.
    """

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        content: PlanContent,
        header: dict[str, str],
        kpis: list[Kpi],
        current_values: dict[int, tuple[str, str]] | None = None,
        amendment_of: int | None = None,
        frozen: dict[str, ExpectationData] | None = None,
        add_row: str | None = None,
    ) -> None:
        super().__init__()
        if data is not None and add_row in ROW_PREFIXES:
            data = self.with_added_row(data, add_row)
        self.content = content
        self.amendment_of = amendment_of
        self.frozen = frozen or {}
        kpi_map = {k.pk: k for k in kpis}
        self.kpis = kpi_map
        hint = midpoint_hint(content.period_start, content.period_end)
        self.forms = {
            "header": HeaderForm(
                data,
                amendment_of=amendment_of,
                initial={
                    **header,
                    "job_title": content.job_title,
                    "period_start": content.period_start,
                    "period_end": content.period_end,
                    "change_summary": content.change_summary,
                    "language": content.language or languages.current_language(),
                },
            ),
            "description": DescriptionForm(data, initial={"description": content.description}),
            "monitoring": MonitoringForm(
                data,
                midpoint_hint=hint,
                initial={
                    "checkin_cadence": content.checkin_cadence,
                    "checkin_weekday": content.checkin_weekday,
                    "monitoring_reports": content.monitoring_reports,
                    "midpoint_date": content.midpoint_date,
                    "final_review_date": content.final_review_date,
                },
            ),
            "outcomes": OutcomesForm(
                data,
                initial={
                    "outcome_success": content.outcome_success,
                    "outcome_failure": content.outcome_failure,
                },
            ),
        }
        language = self.mark_written(written_language(self.forms["header"]))
        self.formsets = {
            "reasons": ReasonFormSet(
                data,
                prefix="reasons",
                form_kwargs={"kpis": kpi_map, "language": language},
                initial=[{"text": r.text, "kpi": r.kpi_id} for r in content.reasons],
            ),
            "expectations": ExpectationFormSet(
                data,
                prefix="expectations",
                form_kwargs={
                    "kpis": kpi_map,
                    "current_values": current_values or {},
                    "language": language,
                },
                initial=[
                    {**_expectation_initial(e, kpi_map), "lineage": e.lineage or ""}
                    for e in content.expectations
                ],
            ),
            "actions": ActionFormSet(
                data,
                prefix="actions",
                form_kwargs={"kpis": kpi_map, "language": language},
                initial=[
                    {
                        **_action_initial(a),
                        "deadline_date": a.deadline_date,
                        "lineage": a.lineage or "",
                    }
                    for a in content.actions
                ],
            ),
        }

    @property
    def header(self) -> HeaderForm:
        return self.forms["header"]

    def partial_content(self) -> tuple[PlanContent, dict] | None:
        """What can be read from a page that did not validate, for the services' rules (see
        `rule_errors`): the rows that read cleanly, and per section whether that is all of
        them. None when the period or the cadence, which most rules need, could not be read."""
        header = getattr(self.forms["header"], "cleaned_data", {})
        monitoring = getattr(self.forms["monitoring"], "cleaned_data", {})
        if not (header.get("period_start") and header.get("period_end")):
            return None
        if "checkin_cadence" not in monitoring or "checkin_weekday" not in monitoring:
            return None
        outcomes = getattr(self.forms["outcomes"], "cleaned_data", {})
        sections: dict[str, tuple[list[forms.Form], bool]] = {}
        rows: dict[str, list] = {}
        for prefix in ("reasons", "expectations", "actions"):
            formset = self.formsets[prefix]
            if not formset.management_form.is_valid():
                return None
            included = self.rows(prefix)
            readable = [form for form in included if not form.errors]
            sections[prefix] = (readable, len(readable) == len(included))
            rows[prefix] = [form.data_row() for form in readable]
        content = PlanContent(
            period_start=header["period_start"],
            period_end=header["period_end"],
            final_review_date=monitoring.get("final_review_date") or header["period_end"],
            job_title=self.content.job_title,
            description=getattr(self.forms["description"], "cleaned_data", {}).get(
                "description", ""
            ),
            checkin_cadence=monitoring["checkin_cadence"],
            checkin_weekday=monitoring["checkin_weekday"],
            monitoring_reports=monitoring.get("monitoring_reports", ""),
            midpoint_date=monitoring.get("midpoint_date"),
            outcome_success=outcomes.get("outcome_success", ""),
            outcome_failure=outcomes.get("outcome_failure", ""),
            change_summary=header.get("change_summary", ""),
            reasons=rows["reasons"],
            expectations=rows["expectations"],
            actions=rows["actions"],
        )
        return content, sections

    def to_content(self) -> PlanContent:
        """The page as plan content, for the services. Call after is_valid()."""
        header = self.forms["header"].cleaned_data
        monitoring = self.forms["monitoring"].cleaned_data
        outcomes = self.forms["outcomes"].cleaned_data
        allowed_expectations = {e.lineage for e in self.content.expectations if e.lineage}
        allowed_actions = {a.lineage for a in self.content.actions if a.lineage}
        seen: set[str] = set()
        expectations = []
        for form in self.rows("expectations"):
            row = form.data_row()
            row.lineage = _lineage(row.lineage, allowed_expectations, seen)
            frozen = self.frozen.get(row.lineage or "")
            if frozen is not None and frozen.kpi_id == row.kpi_id:
                row.baseline_value = frozen.baseline_value
                row.baseline_from = frozen.baseline_from
                row.baseline_to = frozen.baseline_to
                row.baseline_source = frozen.baseline_source
            expectations.append(row)
        actions = []
        for form in self.rows("actions"):
            row = form.data_row()
            row.lineage = _lineage(row.lineage, allowed_actions, seen)
            actions.append(row)
        return PlanContent(
            period_start=header["period_start"],
            period_end=header["period_end"],
            final_review_date=monitoring.get("final_review_date") or header["period_end"],
            job_title=self.content.job_title,
            description=self.forms["description"].cleaned_data.get("description", ""),
            checkin_cadence=monitoring["checkin_cadence"],
            checkin_weekday=monitoring["checkin_weekday"],
            monitoring_reports=monitoring.get("monitoring_reports", ""),
            midpoint_date=monitoring.get("midpoint_date"),
            outcome_success=outcomes["outcome_success"],
            outcome_failure=outcomes["outcome_failure"],
            change_summary=header.get("change_summary", ""),
            language=header.get("language", ""),
            reasons=[form.data_row() for form in self.rows("reasons")],
            expectations=expectations,
            actions=actions,
        )


# --- Starting a plan, issuing it, HR's decision ---------------------------------------------------


class NewPlanForm(forms.Form):
    """Step one of a new plan: whose, and from which template."""

    agent = forms.ModelChoiceField(
        label=_("Agent"), queryset=None, empty_label=_("Choose an agent of your team…")
    )
    template = forms.ModelChoiceField(label=_("Template"), queryset=None, empty_label=None)

    def __init__(self, *args, agents, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = agents
        self.fields["template"].queryset = templates
        # Templates are kept per language: each is offered with its own.
        self.fields["template"].label_from_instance = lambda t: (
            f"{t.name} ({languages.language_name(t.language)})"
        )
        self.helper = _helper(
            Row(Column("agent", css_class="col-md-6"), Column("template", css_class="col-md-6")),
            HTML(
                '<button class="btn btn-primary" type="submit">'
                + escape(gettext("Continue"))
                + "</button>"
            ),
            tag=True,
        )
        self.helper.form_method = "get"


class IssueForm(forms.Form):
    """The meeting was held: its date, and the manager's signature (typed name and consent; a
    drawn signature is optional)."""

    meeting_held_on = forms.DateField(label=_("Date the meeting was held"), widget=date_input())
    typed_name = forms.CharField(
        label=_("Type your full name to sign"), max_length=150, required=False
    )
    consent = forms.BooleanField(
        label=_("I agree to sign this document electronically"), required=False
    )
    image = forms.CharField(required=False, widget=forms.HiddenInput)
    # The language the consent statement was shown in (pips.forms.signing.SignatureForm).
    consent_language = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["typed_name"].widget.attrs["autocomplete"] = "name"
        self.fields["consent_language"].initial = languages.current_language()
        self.helper = _helper(
            Field("meeting_held_on", wrapper_class="col-md-4"),
            HTML('{% include "pips/authoring/_manager_signature.html" %}'),
        )

    def signature(self) -> SignatureInput:
        data = self.cleaned_data
        return SignatureInput(
            typed_name=data.get("typed_name", ""),
            consent=bool(data.get("consent")),
            image=data.get("image", ""),
            language=data.get("consent_language") or languages.current_language(),
        )

    def clean_consent_language(self) -> str:
        from pips.forms.signing import clean_consent_language

        return clean_consent_language(self.cleaned_data.get("consent_language", ""))

    def clean(self):
        cleaned = super().clean()
        hidden_error = self.errors.pop("consent_language", None)
        if hidden_error:
            self.add_error(None, hidden_error)
        return cleaned


class ApprovalDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("approve", _("Approve the plan")),
            ("return", _("Return it to the supervisor with comments")),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comments for the supervisor"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required when returning the plan: say what needs to change."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(InlineRadios("decision"), "comment")


# --- HR's templates -----------------------------------------------------------------------------


class TemplateCopyForm(forms.Form):
    name = forms.CharField(label=_("Name of the new template"), max_length=120)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("name")


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=limits.MEDIUM_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    job_title = forms.CharField(label=_("Job title"), max_length=100)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        help_text=_(
            "The language the template's text is written in. Supervisors see it beside "
            "the template's name."
        ),
    )
    period_days = forms.IntegerField(
        label=_("Review period (days)"),
        min_value=1,
        help_text=format_lazy(
            _("{min} to {max} days."),
            min=settings.PIP_MIN_PERIOD_DAYS,
            max=settings.PIP_MAX_PERIOD_DAYS,
        ),
    )
    monitoring_reports = forms.CharField(
        label=_("Reports used (one per line)"),
        required=False,
        max_length=limits.LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    outcome_success = forms.CharField(
        label=_("If improvement is achieved"),
        max_length=limits.LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    outcome_failure = forms.CharField(
        label=_("If performance does not improve"),
        max_length=limits.LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Row(
                Column("name", css_class="col-md-6"),
                Column("job_title", css_class="col-md-4"),
                Column("period_days", css_class="col-md-2"),
            ),
            Row(Column("language", css_class="col-md-6")),
            "description",
            "monitoring_reports",
            Row(Column("outcome_success"), Column("outcome_failure")),
        )


class TemplateForms(SectionForms):
    """A template's texts and its rows, edited on one page."""

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        content: TemplateContent,
        kpis: list[Kpi],
        add_row: str | None = None,
    ) -> None:
        super().__init__()
        if data is not None and add_row in ROW_PREFIXES:
            data = self.with_added_row(data, add_row)
        kpi_map = {k.pk: k for k in kpis}
        self.kpis = kpi_map
        self.forms = {
            "template": TemplateForm(
                data,
                initial={
                    name: getattr(content, name)
                    for name in (
                        "name",
                        "description",
                        "job_title",
                        "language",
                        "period_days",
                        "monitoring_reports",
                        "outcome_success",
                        "outcome_failure",
                    )
                },
            )
        }
        language = self.mark_written(written_language(self.forms["template"]))
        self.formsets = {
            "reasons": ReasonFormSet(
                data,
                prefix="reasons",
                form_kwargs={"kpis": kpi_map, "language": language},
                initial=[{"text": r.text, "kpi": r.kpi_id} for r in content.reasons],
            ),
            "expectations": ExpectationFormSet(
                data,
                prefix="expectations",
                form_kwargs={"kpis": kpi_map, "language": language},
                initial=[_expectation_initial(e, kpi_map) for e in content.expectations],
            ),
            "actions": TemplateActionFormSet(
                data,
                prefix="actions",
                form_kwargs={"kpis": kpi_map, "language": language},
                initial=[
                    {**_action_initial(a), "within_days": a.within_days} for a in content.actions
                ],
            ),
        }

    def to_content(self) -> TemplateContent:
        data = self.forms["template"].cleaned_data
        return TemplateContent(
            name=data["name"],
            period_days=data["period_days"],
            description=data.get("description", ""),
            job_title=data["job_title"],
            language=data["language"],
            monitoring_reports=data.get("monitoring_reports", ""),
            outcome_success=data["outcome_success"],
            outcome_failure=data["outcome_failure"],
            reasons=[form.data_row() for form in self.rows("reasons")],
            expectations=[form.data_row() for form in self.rows("expectations")],
            actions=[form.data_row() for form in self.rows("actions")],
        )
