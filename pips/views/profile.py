"""The person's own profile: the language they read the app in and the zone of their times."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from pips import languages, zones
from pips.forms.profile import ProfileForm
from pips.forms.signing import add_service_error


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    profile = getattr(request.user, "profile", None)
    agent = getattr(request.user, "agent_profile", None)
    form = ProfileForm(
        request.POST if request.method == "POST" else None,
        initial={
            "language": getattr(profile, "language", ""),
            "time_zone": getattr(profile, "time_zone", ""),
        },
        roster_language=agent.language if agent else "",
        unchosen_zone=zones.team_zone_of(request.user) or zones.default_zone(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                languages.profile_language_set(
                    user=request.user, language=form.cleaned_data["language"]
                )
                zones.profile_time_zone_set(
                    user=request.user, time_zone=form.cleaned_data["time_zone"]
                )
            language = languages.language_of(request.user)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            # The confirmation is read in the language just chosen.
            translation.activate(language)
            messages.success(request, _("Your profile is saved."))
            return redirect("pips:profile")
    return render(request, "pips/profile.html", {"form": form, "zone_names": zones.zone_names()})
