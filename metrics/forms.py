"""The upload page's forms: the file and its source, the column mapping, the confirmation."""

from __future__ import annotations

import os

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metrics.models import Kpi, MetricSource
from metrics.parsing import EXCEL_DATES, LAYOUTS, ColumnMapping, MappingError
from metrics.uploads import ALLOWED_EXTENSIONS, FileHeader

_XLSX_MAGIC = b"PK\x03\x04"
# Slash dates are ambiguous (03/04/2025), so the analyst says which order the file uses.
DATE_FORMATS = [
    ("", gettext_lazy("Automatic (2025-03-04, 20250304, 04.03.2025, 4 Mar 2025 …)")),
    ("%d/%m/%Y", gettext_lazy("Day first: 04/03/2025")),
    ("%m/%d/%Y", gettext_lazy("Month first: 03/04/2025")),
    ("%d/%m/%y", gettext_lazy("Day first, short year: 04/03/25")),
    ("%m/%d/%y", gettext_lazy("Month first, short year: 03/04/25")),
    (EXCEL_DATES, gettext_lazy("Excel serial numbers: 46353 (days since 1899-12-30)")),
]
DECIMALS = [(".", gettext_lazy("Decimal point: 87.1")), (",", gettext_lazy("Decimal comma: 87,1"))]
PERCENT_SCALES = [
    ("", gettext_lazy("From each column: 0.85 or 85, refused if a column mixes them")),
    ("fraction", gettext_lazy("Fractions: 0.85 is 85 %")),
    ("percent", gettext_lazy("Percentages: 85 is 85 %, 0.85 is 0.85 %")),
]


def limit_text() -> str:
    return f"{settings.METRICS_UPLOAD_MAX_BYTES // (1024 * 1024)} MB"


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(
        label=gettext_lazy("Source"),
        queryset=MetricSource.objects.all(),
        required=False,
        empty_label=gettext_lazy("— a new source —"),
        help_text=gettext_lazy(
            "The system the file comes from; its saved column mapping is reused."
        ),
    )
    new_source = forms.CharField(
        label=gettext_lazy("New source name"),
        max_length=64,
        required=False,
        help_text=gettext_lazy(
            "For a system not listed yet, e.g. “WFM adherence” or “QA evaluations”."
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("KPI file (CSV or XLSX)"),
        error_messages={
            "required": gettext_lazy("Choose the file to load."),
            "empty": gettext_lazy("The file is empty."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "A CSV (comma, semicolon or tab separated) or an Excel .xlsx file, up to %(limit)s, "
            "with a header line."
        ) % {"limit": limit_text()}
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.attrs = {"enctype": "multipart/form-data"}
        self.helper.layout = Layout(
            Div(
                Div("source", css_class="col-md-6"),
                Div("new_source", css_class="col-md-6"),
                css_class="row",
            ),
            Field("file"),
            Submit("upload", _("Upload and map columns"), css_class="btn-primary"),
        )

    def clean_new_source(self) -> str:
        return self.cleaned_data["new_source"].strip()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.METRICS_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most %(limit)s.") % {"limit": limit_text()}
            )
        ext = os.path.splitext(upload.name or "")[1].lower()
        if ext not in ALLOWED_EXTENSIONS:
            raise forms.ValidationError(
                _(
                    "Only CSV (.csv, .txt) and Excel (.xlsx) files can be loaded; save the "
                    "export in one of those formats."
                )
            )
        upload.seek(0)
        head = upload.read(8192)
        upload.seek(0)
        if ext == ".xlsx":
            if not head.startswith(_XLSX_MAGIC):
                raise forms.ValidationError(_("This file is not an Excel .xlsx workbook."))
        elif b"\x00" in head or head.startswith((_XLSX_MAGIC, b"%PDF", b"\xd0\xcf\x11\xe0")):
            raise forms.ValidationError(
                _(
                    "This file is not a text CSV file (it looks like a binary or spreadsheet "
                    "file). Save it as CSV or as .xlsx."
                )
            )
        return upload

    def clean(self) -> dict:
        data = super().clean()
        source, new_name = data.get("source"), data.get("new_source")
        if source and new_name:
            self.add_error("new_source", _("Pick a source or name a new one, not both."))
        elif not source and not new_name:
            self.add_error("source", _("Pick the source of the file, or name a new one."))
        elif new_name and MetricSource.objects.filter(name__iexact=new_name).exists():
            self.add_error("new_source", _("A source of that name exists: pick it in the list."))
        return data


class MappingForm(forms.Form):
    """Which column holds what. Wide files have a column per KPI; long files a KPI column and a
    value column. The choices are the file's own column names."""

    layout = forms.ChoiceField(
        choices=[
            ("wide", gettext_lazy("Wide: one column per KPI")),
            ("long", gettext_lazy("Long: a KPI column and a value column")),
        ],
        widget=forms.RadioSelect,
    )
    header_row = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    sheet = forms.CharField(widget=forms.HiddenInput, required=False)
    employee_id = forms.ChoiceField(label=gettext_lazy("Employee ID column"))
    date = forms.ChoiceField(label=gettext_lazy("Date column"))
    date_format = forms.ChoiceField(
        label=gettext_lazy("Date format"), choices=DATE_FORMATS, required=False
    )
    decimal = forms.ChoiceField(
        label=gettext_lazy("Decimal separator"), choices=DECIMALS, initial=".", required=False
    )
    percent_scale = forms.ChoiceField(
        label=format_lazy(gettext_lazy("Percentages without a {sign} sign"), sign="%"),
        choices=PERCENT_SCALES,
        required=False,
    )
    weight = forms.ChoiceField(
        label=gettext_lazy("Weight column (optional)"),
        required=False,
        help_text=gettext_lazy(
            "Calls, chats or surveys behind each value: weekly means are weighted by it. "
            "In a wide file each KPI may have its own below; this one serves the others."
        ),
    )
    kpi = forms.ChoiceField(label=gettext_lazy("KPI column"), required=False)
    value = forms.ChoiceField(label=gettext_lazy("Value column"), required=False)

    def __init__(self, *args, header: FileHeader, kpis: list[Kpi], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kpis = kpis
        columns = [(name, name) for name in header.columns if name.strip()]
        blank = [("", "—")]
        for name in ("employee_id", "date"):
            self.fields[name].choices = blank + columns
        for name in ("weight", "kpi", "value"):
            self.fields[name].choices = blank + columns
        for kpi in kpis:
            self.fields[f"kpi_{kpi.code}"] = forms.ChoiceField(
                label=kpi.display_name,
                choices=[("", _("— not in this file —")), *columns],
                required=False,
            )
            self.fields[f"weight_{kpi.code}"] = forms.ChoiceField(
                label=_("%(kpi)s: weight") % {"kpi": kpi.display_name},
                choices=[("", _("— the weight column above, or none —")), *columns],
                required=False,
            )
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.layout = Layout(
            "header_row",
            "sheet",
            Field("layout"),
            Div(
                Div("employee_id", css_class="col-md-4"),
                Div("date", css_class="col-md-4"),
                Div("date_format", css_class="col-md-4"),
                css_class="row",
            ),
            Div(
                Div("decimal", css_class="col-md-6"),
                Div("percent_scale", css_class="col-md-6"),
                css_class="row",
            ),
            Field("weight"),
            Fieldset(
                _("KPI columns (wide layout)"),
                HTML(
                    '<p class="small text-muted">'
                    + _(
                        "Durations may be seconds, m:ss or h:mm:ss; percentages %(plain)s, "
                        "%(signed)s or %(fraction)s."
                    )
                    % {"plain": "85", "signed": "85 %", "fraction": "0.85"}
                    + "</p>"
                ),
                *[
                    Div(
                        Div(f"kpi_{kpi.code}", css_class="col-md-6"),
                        Div(f"weight_{kpi.code}", css_class="col-md-6"),
                        css_class="row",
                    )
                    for kpi in kpis
                ],
                css_id="layout-wide",
                data_layout="wide",
            ),
            Fieldset(
                _("KPI and value columns (long layout)"),
                HTML(
                    '<p class="small text-muted">'
                    + str(_("The KPI column may hold codes (qa_score, aht) or names (QA score)."))
                    + "</p>"
                ),
                Div(
                    Div("kpi", css_class="col-md-6"),
                    Div("value", css_class="col-md-6"),
                    css_class="row",
                ),
                css_id="layout-long",
                data_layout="long",
            ),
            Submit("map", _("Save the mapping and preview"), css_class="btn-primary"),
        )

    @classmethod
    def initial_from(cls, mapping: dict) -> dict:
        """The form's initial values from a saved mapping (ColumnMapping's JSON form)."""
        keys = ("layout", "employee_id", "date", "date_format", "weight", "kpi", "value")
        initial = {key: mapping.get(key, "") for key in keys}
        initial["layout"] = initial["layout"] or "wide"
        initial["decimal"] = mapping.get("decimal", ".")
        initial["percent_scale"] = mapping.get("percent_scale", "")
        for code, column in (mapping.get("kpis") or {}).items():
            initial[f"kpi_{code}"] = column
        for code, column in (mapping.get("weights") or {}).items():
            initial[f"weight_{code}"] = column
        return initial

    def clean(self) -> dict:
        data = super().clean()
        layout = data.get("layout")
        if layout not in LAYOUTS:
            return data
        for name in ("employee_id", "date"):
            if not data.get(name):
                self.add_error(name, _("Pick the column."))
        mapping: dict = {
            "layout": layout,
            "employee_id": data.get("employee_id", ""),
            "date": data.get("date", ""),
            "header_row": data.get("header_row") or 0,
            "sheet": data.get("sheet") or "",
            "decimal": data.get("decimal") or ".",
            "percent_scale": data.get("percent_scale") or "",
        }
        if data.get("weight"):
            mapping["weight"] = data["weight"]
        if data.get("date_format"):
            mapping["date_format"] = data["date_format"]
        if layout == "wide":
            kpis = {k.code: data[f"kpi_{k.code}"] for k in self.kpis if data.get(f"kpi_{k.code}")}
            if not kpis:
                self.add_error(None, _("A wide file needs at least one KPI column: pick it below."))
            mapping["kpis"] = kpis
            mapping["weights"] = {
                code: data[f"weight_{code}"] for code in kpis if data.get(f"weight_{code}")
            }
            used = [mapping["employee_id"], mapping["date"], *kpis.values()]
            weights = set(mapping["weights"].values()) | {data.get("weight") or ""}
            if weights & set(used):
                self.add_error(None, _("A KPI column cannot also be a weight column."))
        else:
            for name in ("kpi", "value"):
                if not data.get(name):
                    self.add_error(name, _("Pick the column (a long file needs it)."))
            mapping["kpi"], mapping["value"] = data.get("kpi", ""), data.get("value", "")
            used = [mapping["employee_id"], mapping["date"], mapping["kpi"], mapping["value"]]
        used = [column for column in used + [mapping.get("weight", "")] if column]
        if len(used) != len(set(used)):
            self.add_error(
                None, _("Each column can hold one thing only: a column is picked twice.")
            )
        if self.errors:
            return data
        try:
            data["mapping"] = ColumnMapping.parse(mapping)
        except MappingError as exc:
            self.add_error(None, _("The mapping cannot be used: %(reason)s.") % {"reason": exc})
        return data


class ConfirmForm(forms.Form):
    """Loading a previewed file: nothing to fill in, only the button (and the CSRF token)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.layout = Layout(Submit("load", _("Load the file"), css_class="btn-success"))
