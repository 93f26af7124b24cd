"""Which language each person reads: their profile's, or the organisation's default.

Fixed text (headings, consent, instructions, statuses, e-mails, PDFs) is shown in the reader's
language; the supervisor's own words are shown as written, marked with the language of the plan
(PipVersion.language). The consent statement is defined here, once, because a signature stores
it in the language it was shown in.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

#: What the signer agrees to before signing. Stored on each signature in the language shown.
CONSENT_TEXT = _(
    "I agree to sign this document electronically. My typed name and drawn signature have the "
    "same effect as a handwritten signature. Signing confirms that I received this plan and "
    "discussed it; it does not mean that I agree with it."
)


def supported() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def default_language() -> str:
    """The organisation's language (PIP_DEFAULT_LANGUAGE)."""
    return settings.LANGUAGE_CODE


def normalise(code: str | None) -> str | None:
    """A supported language code from what a form, a file or a browser gave ("pt_BR",
    "PT-br", "fr-CA" → "pt-br", "pt-br", "fr"); None when it is not one we have."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    languages = supported()
    if code in languages:
        return code
    base = code.split("-")[0]
    return base if base in languages else None


def language_name(code: str) -> str:
    """The language's own name ("Français (Canada)"), as a language picker shows it."""
    return dict(settings.LANGUAGES).get(code, code)


def language_in_words(code: str) -> str:
    """The language's name in the language active now, for a sentence ("espagnol" on a French
    page)."""
    try:
        name = str(translation.get_language_info(code)["name_translated"])
    except KeyError:
        return language_name(code)
    # Spanish, French and Portuguese write language names in lower case inside a sentence.
    return name if current_language() == "en" else name.lower()


def language_of(user) -> str:
    """The language a person reads: the one they chose (their profile), else the roster's for
    an employee (Agent.language, from the HR system), else the organisation's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return default_language()
    # Reverse one-to-ones: missing raises RelatedObjectDoesNotExist, an AttributeError.
    profile = getattr(user, "profile", None)
    agent = getattr(user, "agent_profile", None)
    return effective_language(profile.language if profile else "", agent.language if agent else "")


def effective_language(chosen: str | None, roster: str | None) -> str:
    """The person's choice, else the roster's, else the organisation's language."""
    return normalise(chosen) or normalise(roster) or default_language()


def current_language() -> str:
    """The language active now (the request's, or the one a task overrides to)."""
    return normalise(translation.get_language()) or default_language()


def consent_text(language: str) -> str:
    """The consent statement in a language, as the signer is shown it."""
    with translation.override(language):
        return str(CONSENT_TEXT)


class UserLanguageMiddleware:
    """After login, pages are in the person's language, whatever the browser asks for; before
    it, LocaleMiddleware's choice (the browser's) stands. Runs after AuthenticationMiddleware;
    the profile comes with the user in one query (ProfileModelBackend)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = language_of(user)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


class LanguageUserMixin:
    """For an authentication backend: load the session's user with their profile (their
    language and time zone), their employee record (the roster's language) with its team (the
    team's time zone) and, for a supervisor, their agents' team zone (pips.zones) in one query,
    so that knowing which language and zone to show costs no query of its own."""

    def get_user(self, user_id):
        from django.contrib.auth import get_user_model
        from django.db.models import OuterRef

        from pips.zones import supervised_zone

        user_model = get_user_model()
        try:
            user = (
                user_model._default_manager.select_related("profile", "agent_profile__team")
                .annotate(supervised_zone=supervised_zone(OuterRef("pk")))
                .get(pk=user_id)
            )
        except user_model.DoesNotExist:
            return None
        can_authenticate = getattr(self, "user_can_authenticate", None)
        if can_authenticate is not None and not can_authenticate(user):
            return None
        return user


class ProfileModelBackend(LanguageUserMixin, ModelBackend):
    """Django's model backend, with the user's language loaded with the user."""


def profile_language_set(*, user, language: str) -> str:
    """Set the language a person reads ("" for the organisation's default). Returns the
    language now in effect. Refuses a language we do not have."""
    from django.core.exceptions import ValidationError

    from pips.models import Profile

    if language and normalise(language) != language:
        raise ValidationError({"language": "Choose one of the languages offered."})
    profile, _created = Profile.objects.get_or_create(user=user)
    if profile.language != language:
        profile.language = language
        profile.save(update_fields=["language"])
    user.profile = profile
    return normalise(language) or default_language()


def language_of_employee(agent) -> str:
    """The language of the employee a plan is for: their account's, else the organisation's
    (an employee without an account has chosen none). One query at most."""
    if agent.user_id is None:
        return effective_language("", agent.language)
    from pips.models import Profile

    chosen = Profile.objects.filter(user_id=agent.user_id).values_list("language", flat=True)
    return effective_language(next(iter(chosen), ""), agent.language)


def consent_versions(language: str) -> list[tuple[str, str]]:
    """The consent statement as a document prints it: in the employee's language and, when it
    differs, in the organisation's too. Pairs of (language, text)."""
    shown = [language]
    if default_language() != language:
        shown.append(default_language())
    return [(code, consent_text(code)) for code in shown]
