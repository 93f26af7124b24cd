"""Typed team and supervisor filters with suggestions, shared by the plan lists, HR's home and
HR's consistency page: a company has hundreds of teams and supervisors, so they are typed (the
autocomplete script asks the lookups for at most twenty matches), never a select of all. A name
that matches none, or several, is refused at its field."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from pips import plan_lists
from pips.models import Team

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
        label=_("Team"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"list": "team-options", "data-lookup": "teams", "autocomplete": "off"}
        ),
    )
    supervisor = forms.CharField(
        label=_("Supervisor"),
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
                _("No team called “%(name)s” among yours; pick one from the suggestions.")
                % {"name": name}
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
                _("No supervisor called “%(name)s”; pick one from the suggestions.")
                % {"name": text}
            )
        if len(found) > 1:
            raise forms.ValidationError(
                _(
                    "More than one supervisor is called “%(name)s”; pick one from the "
                    "suggestions, which name each by their login."
                )
                % {"name": text}
            )
        return found[0]
