"""The profile page's form: the language the person reads the app in."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from pips import languages


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_(
            "Pages, e-mails, calendar invitations and your copy of a plan are shown in this "
            "language. What your supervisor wrote stays as written."
        ),
    )

    def __init__(self, *args, roster_language: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Without a choice: the language the HR system gives, else the organisation's.
        if languages.normalise(roster_language):
            unchosen = _("The language the HR system gives (%(language)s)")
        else:
            unchosen = _("The organisation's language (%(language)s)")
        default = languages.language_name(languages.effective_language("", roster_language))
        self.fields["language"].choices = [
            ("", unchosen % {"language": default}),
            *settings.LANGUAGES,
        ]
        self.helper = FormHelper()
        self.helper.layout = Layout("language", Submit("save", _("Save"), css_class="mt-2"))
