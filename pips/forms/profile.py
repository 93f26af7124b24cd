"""The profile page's form: the language the person reads the app in and the time zone they
read times in."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from pips import languages, zones
from pips.models import validate_timezone


class ProfileForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_(
            "Pages, e-mails, calendar invitations and your copy of a plan are shown in this "
            "language. What your supervisor wrote stays as written."
        ),
    )

    time_zone = forms.CharField(
        label=_("Time zone"),
        required=False,
        max_length=64,
        validators=[validate_timezone],
        widget=forms.TextInput(
            attrs={"list": "time-zone-options", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, roster_language: str = "", unchosen_zone: str = "", **kwargs) -> None:
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
        # Without a choice: the team's zone, else the organisation's (pips.zones.zone_of).
        self.fields["time_zone"].help_text = _(
            "Times are shown in this zone, labelled with it. Type a zone name such as "
            "Europe/Paris or America/Chicago, or leave it empty for your team's zone, else "
            "the organisation's (now %(zone)s)."
        ) % {"zone": unchosen_zone or zones.default_zone()}
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "language", "time_zone", Submit("save", _("Save"), css_class="mt-2")
        )
