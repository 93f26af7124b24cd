"""The text people wrote (or a template written in a language) is marked with that language on
the pages that show or edit it, while the page's own words are in the reader's: a Spanish-speaking
supervisor starting from an English template sees Spanish labels and KPI names beside the
template's English text, marked lang="en"."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from metrics.models import Kpi
from pips.forms.authoring import ReasonRowForm
from pips.models import ActionItem, DeadlineKind, Profile
from pips.views.audit import _detail
from tests.pips.test_translated_staff_pages import Staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def referred_plan(request):
    """A plan whose final review (unsuccessful) waits for HR's decision."""
    return Staff(request).referred()


def _tag(html: str, name: str) -> str:
    """The opening tag of the form control named `name`."""
    pattern = r'<(?:input|textarea|select)[^>]*\bname="' + re.escape(name) + r'"[^>]*>'
    match = re.search(pattern, html)
    assert match, name
    return match.group(0)


def _spanish(user) -> None:
    Profile.objects.update_or_create(user=user, defaults={"language": "es"})


def test_a_new_plan_from_an_english_template_marks_its_text_and_names_kpis_in_spanish(
    client, sam, alex, template
):
    assert template.language == "en"
    _spanish(sam)
    client.force_login(sam)
    html = client.get(reverse("pips:new") + f"?agent={alex.pk}").content.decode()

    assert 'lang="en"' in _tag(html, "monitoring_reports")
    assert 'lang="en"' in _tag(html, "outcome_success")
    # The page's own words are not marked: the language picker, the period.
    assert "lang=" not in _tag(html, "language")
    assert "lang=" not in _tag(html, "period_start")
    # KPI choices are named in the reader's language.
    assert "Puntuación de calidad (QA)" in html
    assert ">QA score<" not in html


def test_the_text_is_marked_with_the_language_chosen_on_the_page(client, sam, alex, template):
    """A refused post shows the text again, marked with the language the supervisor chose."""
    client.force_login(sam)
    response = client.post(
        reverse("pips:new") + f"?agent={alex.pk}",
        {"language": "fr", "outcome_success": "Le plan est clos."},
    )
    assert response.status_code == 200
    assert 'lang="fr"' in _tag(response.content.decode(), "outcome_success")


def test_an_empty_row_keeps_its_placeholder_in_the_readers_language(kpis):
    """Only a field with text in it is marked: an empty one shows an example in the reader's
    language, and marking it would say that example is in the plan's."""
    kpi_map = {k.pk: k for k in Kpi.objects.all()}
    empty = ReasonRowForm(kpis=kpi_map, language="en")
    filled = ReasonRowForm(kpis=kpi_map, language="en", initial={"text": "Late wrap-up"})
    assert "lang" not in empty.fields["text"].widget.attrs
    assert filled.fields["text"].widget.attrs["lang"] == "en"
    with translation.override("es"):
        blank = str(ReasonRowForm(kpis=kpi_map).fields["kpi"].choices[0][1])
    assert blank == "— ninguno —"


def test_a_deadline_is_marked_only_when_it_is_the_text_the_supervisor_wrote():
    written = ActionItem(deadline_kind=DeadlineKind.RECURRING, deadline_text="Every Tuesday")
    generated = ActionItem(deadline_kind=DeadlineKind.RECURRING, recurrence_weekdays=[1])
    assert written.deadline_is_written
    assert not generated.deadline_is_written


def test_the_check_in_form_marks_the_plans_actions_with_their_language(client, sam, rich_plan):
    _spanish(sam)
    client.force_login(sam)
    html = client.get(reverse("pips:checkin_new", args=[rich_plan.pk])).content.decode()
    action = rich_plan.current_version.actions.first()
    assert f'<div class="fw-semibold" lang="en">{action.action}</div>' in html
    assert "Asistentes" in html


def test_the_audit_trails_details_are_in_the_readers_language():
    with translation.override("es"):
        role = _detail("role", "manager")
        agrees = _detail("agrees", False)
        unknown = _detail("some_future_key", "x")
    assert (role.label, role.value, role.label_lang) == ("función", "Responsable", "")
    assert (agrees.label, agrees.value) == ("está de acuerdo con el plan", "no")
    # A key this version does not name is shown as stored, marked as the English it is.
    assert (unknown.label, unknown.label_lang) == ("some future key", "en")


def test_hrs_decision_marks_the_consequence_prefilled_from_the_plan(client, harper, referred_plan):
    _spanish(harper)
    client.force_login(harper)
    html = client.get(reverse("pips:hr_decide", args=[referred_plan.pk])).content.decode()
    assert 'lang="en"' in _tag(html, "consequence")
    assert "lang=" not in _tag(html, "typed_name")
