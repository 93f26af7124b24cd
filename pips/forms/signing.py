"""Forms for signing a plan, recording a refusal to sign, and amending a plan after issue.

They validate and normalise what was typed; the rules (the typed name must match the account,
consent is required, a disagreement needs comments, who signs when) are the services'.
"""

from __future__ import annotations

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pips import languages, roles
from pips.inputs import CONSENT_TEXT, SignatureInput, image_problem
from pips.models import Pip, SignerRole

SIGNATURE_PAD_TEMPLATE = "pips/signing/_signature_pad.html"

AGREE = "agree"
DISAGREE = "disagree"

SUBMIT_LABELS = {
    SignerRole.AGENT: gettext_lazy("Sign the acknowledgment"),
    SignerRole.MANAGER: gettext_lazy("Sign as manager"),
    SignerRole.HR: gettext_lazy("Countersign as HR"),
}


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on the form: beside the field it names, or above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


class SignatureForm(forms.Form):
    """What every signature has: the consent statement, the typed full name and, optionally, a
    drawn signature. Forms that take a signature (the issue page's, for the manager) build on
    it; templates render its fields with pips/signing/_signature_fields.html."""

    consent = forms.BooleanField(required=False, label=CONSENT_TEXT)
    typed_name = forms.CharField(
        label=gettext_lazy("Your full name"),
        max_length=150,
        error_messages={"required": gettext_lazy("Type your full name to sign.")},
    )
    image = forms.CharField(required=False, widget=forms.HiddenInput)
    # The language the consent statement above was shown in, posted back so the signature
    # records the text the signer read, even if their language changed while the page was open.
    consent_language = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["consent_language"].initial = languages.current_language()
        full_name = user.get_full_name()
        # Crispy renders help text as markup: the name is the user's own text, so it is escaped.
        self.fields["typed_name"].help_text = (
            format_html(
                _("Type it exactly as your account holds it, letter case included: “{}”."),
                full_name,
            )
            if full_name
            else ""
        )
        self.fields["typed_name"].widget.attrs.update({"autocomplete": "name"})

    def clean_typed_name(self) -> str:
        return " ".join(self.cleaned_data["typed_name"].split())

    def clean_consent_language(self) -> str:
        return clean_consent_language(self.cleaned_data.get("consent_language", ""))

    def clean(self):
        cleaned = super().clean()
        # A hidden field's error would not show beside it: show it above the form.
        hidden_error = self.errors.pop("consent_language", None)
        if hidden_error:
            self.add_error(None, hidden_error)
        return cleaned

    def show_again(self) -> None:
        """Before the form is shown again after a refused POST: the consent is shown in the
        language active now, so that is the language the next POST records."""
        self.data = self.data.copy()
        self.data[self.add_prefix("consent_language")] = languages.current_language()

    def clean_image(self) -> str:
        image = self.cleaned_data["image"].strip()
        if problem := image_problem(image):
            raise ValidationError(problem)
        return image

    def signature_input(self) -> SignatureInput:
        data = self.cleaned_data
        return SignatureInput(
            typed_name=data["typed_name"],
            consent=bool(data.get("consent")),
            image=data.get("image", ""),
            language=data.get("consent_language") or languages.current_language(),
        )


def clean_consent_language(value: str) -> str:
    """The posted language of the consent statement: one we have (or, when a form posted
    none, the language active now)."""
    if not value:
        return languages.current_language()
    language = languages.normalise(value)
    if language is None or language != value:
        raise ValidationError(
            _("The consent statement was shown in a language we do not have. Reload the page.")
        )
    return language


class SignForm(SignatureForm):
    """The sign page. The employee adds comments and says whether they agree; the manager and HR
    sign with the same record. The version number read is posted back, so a plan amended while
    the page was open is not signed blind."""

    comments = forms.CharField(
        label=gettext_lazy("Your comments"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Optional if you agree; required if you disagree. They become part of the "
            "plan's record."
        ),
    )
    agreement = forms.ChoiceField(
        label=gettext_lazy("Do you agree with this plan?"),
        choices=[
            (AGREE, gettext_lazy("I agree with this plan")),
            (DISAGREE, gettext_lazy("I disagree with this plan (say why in your comments)")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose whether you agree or disagree with the plan.")
        },
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, user, role: str, version_number: int, **kwargs) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.role = role
        self.fields["version"].initial = version_number
        if role != SignerRole.AGENT:
            del self.fields["comments"]
            del self.fields["agreement"]
        self.order_fields(
            [
                "comments",
                "agreement",
                "consent",
                "typed_name",
                "image",
                "version",
                "consent_language",
            ]
        )
        self.helper = FormHelper()
        self.helper.form_id = "sign-form"
        self.helper.attrs = {"novalidate": ""}
        names = [n for n in ("comments", "agreement") if n in self.fields]
        self.helper.layout = Layout(
            *names,
            Div(Field("consent"), css_class="consent-box border rounded p-2 mb-3 bg-light"),
            "typed_name",
            Field("image", template=SIGNATURE_PAD_TEMPLATE),
            "version",
            "consent_language",
            Submit("sign", SUBMIT_LABELS.get(role, "Sign"), css_class="btn-success"),
        )

    def signature_input(self) -> SignatureInput:
        data = super().signature_input()
        if self.role == SignerRole.AGENT:
            data.agrees = self.cleaned_data["agreement"] == AGREE
            data.comments = self.cleaned_data.get("comments", "").strip()
        return data


class WitnessChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


def witness_candidates(pip: Pip, actor):
    """Who may witness a refusal: HR and supervisors, other than the one recording it and the
    employee."""
    excluded = [pk for pk in (actor.pk, pip.agent.user_id) if pk]
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name=roles.HR) | Q(groups__name=roles.SUPERVISOR))
        .exclude(pk__in=excluded)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class RefusalForm(forms.Form):
    witness = WitnessChoiceField(
        queryset=get_user_model().objects.none(),
        label=gettext_lazy("Witness"),
        empty_label=gettext_lazy("Choose the witness"),
        help_text=gettext_lazy(
            "Someone from HR or another supervisor who saw the employee refuse to sign."
        ),
        error_messages={
            "required": gettext_lazy("Choose the witness."),
            "invalid_choice": gettext_lazy(
                "Choose a witness from the list: someone from HR or a supervisor."
            ),
        },
    )
    note = forms.CharField(
        label=gettext_lazy("What happened"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": gettext_lazy("Describe what happened.")},
    )

    def __init__(self, *args, pip: Pip, actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["witness"].queryset = witness_candidates(pip, actor)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "witness",
            "note",
            Submit("record", _("Record the refusal"), css_class="btn-warning"),
        )


class AmendmentStartForm(forms.Form):
    change_summary = forms.CharField(
        label=gettext_lazy("What changes, and why"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Shown to HR and to the employee with the changes."),
        error_messages={"required": gettext_lazy("Say why the plan is being amended.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "change_summary",
            Submit("start", _("Start the amendment"), css_class="btn-primary"),
        )


class AmendmentSubmitForm(forms.Form):
    """No fields: a button that sends the amendment to HR, with its CSRF token. It posts to
    `action`, not to the page that shows it."""

    def __init__(self, *args, action: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.layout = Layout(Submit("submit", _("Submit to HR"), css_class="btn-success"))


class AmendmentDecisionForm(forms.Form):
    """HR's decision on an amendment: two buttons and a comment. Posts to `action`."""

    APPROVE = "approve"
    RETURN = "return"

    decision = forms.ChoiceField(
        choices=[(APPROVE, gettext_lazy("Approve")), (RETURN, gettext_lazy("Return"))],
        widget=forms.HiddenInput,
        error_messages={"required": gettext_lazy("Approve the amendment or return it.")},
    )
    comment = forms.CharField(
        label=gettext_lazy("Comments"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required when you return the amendment: say what needs to change."),
    )

    def __init__(self, *args, action: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "comment",
            Div(
                StrictButton(
                    _("Approve the amendment"),
                    type="submit",
                    name="decision",
                    value=self.APPROVE,
                    css_class="btn-success",
                ),
                StrictButton(
                    _("Return it to the supervisor"),
                    type="submit",
                    name="decision",
                    value=self.RETURN,
                    css_class="btn-outline-danger",
                ),
                css_class="d-flex gap-2",
            ),
        )

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == self.APPROVE
