"""The upload form of the verification page: a PDF copy of a plan, size- and type-checked."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout, Submit
from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pips.printing.verify import MAX_UPLOAD_BYTES

PDF_CONTENT_TYPES = ("application/pdf", "application/x-pdf")
LIMIT_TEXT = f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
TOO_LARGE = format_lazy(
    gettext_lazy("The file is too large. A plan's PDF copy is at most {limit}."), limit=LIMIT_TEXT
)


class VerifyCopyForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("PDF copy of a plan"),
        help_text=format_lazy(
            gettext_lazy("The PDF as it was downloaded, up to {limit}."), limit=LIMIT_TEXT
        ),
        error_messages={
            "required": gettext_lazy("Choose the PDF file to check."),
            "empty": gettext_lazy("The file is empty."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.form_tag = True
        self.helper.attrs = {"enctype": "multipart/form-data"}
        self.helper.layout = Layout(
            Field("file"), Submit("check", _("Check the copy"), css_class="btn-primary")
        )

    @classmethod
    def too_large(cls) -> VerifyCopyForm:
        """The form as it is shown for an upload refused on its declared size, unread."""
        form = cls(data={}, files={})
        form.is_valid()
        form.errors.clear()
        form.add_error("file", TOO_LARGE)
        return form

    @classmethod
    def too_many(cls, *, minutes: int) -> VerifyCopyForm:
        """The form as it is shown when this address has checked too many copies lately."""
        form = cls(data={}, files={})
        form.is_valid()
        form.errors.clear()
        form.add_error(
            "file",
            f"Too many copies were checked from your address in the last hour. Try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}.",
        )
        return form

    def clean_file(self) -> bytes:
        """The upload's bytes, once it is known to be a PDF of an acceptable size."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(TOO_LARGE)
        content_type = (upload.content_type or "").split(";")[0].strip().lower()
        if content_type not in PDF_CONTENT_TYPES:
            raise forms.ValidationError(_("This is not a PDF file. Upload the PDF copy of a plan."))
        upload.seek(0)
        data = upload.read()
        if not data.startswith(b"%PDF-"):
            raise forms.ValidationError(
                _(
                    "This file is not a PDF (its content does not start like one). Upload the PDF "
                    "copy of a plan as it was downloaded."
                )
            )
        return data
