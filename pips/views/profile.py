"""The person's own profile: the language they read the app in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from pips import languages
from pips.forms.profile import LanguageForm
from pips.forms.signing import add_service_error


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    current = getattr(getattr(request.user, "profile", None), "language", "")
    agent = getattr(request.user, "agent_profile", None)
    form = LanguageForm(
        request.POST if request.method == "POST" else None,
        initial={"language": current},
        roster_language=agent.language if agent else "",
    )
    if request.method == "POST" and form.is_valid():
        try:
            languages.profile_language_set(
                user=request.user, language=form.cleaned_data["language"]
            )
            language = languages.language_of(request.user)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            # The confirmation is read in the language just chosen.
            translation.activate(language)
            messages.success(request, _("Your language is saved."))
            return redirect("pips:profile")
    return render(request, "pips/profile.html", {"form": form})
