"""Each person reads the app in their language: the profile page sets it, pages (and their
`<html lang>`) follow it, the organisation's default stands for who has not chosen, and the
browser's language only before login. A signature records the language of the consent it was
given under; the PDF prints the consent in the employee's language and the organisation's."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from pips import languages, services
from pips.models import AuditEvent, PipTemplate, Profile, Signature, SignerRole
from pips.printing import render, seal
from pips.selectors import version_with_sections
from pips.services import RequestMeta, SignatureInput
from tests.conftest import make_user
from tests.pips.pdf_support import pdf_text, pdftotext

pytestmark = pytest.mark.django_db


CONSENT_FR = "J’accepte de signer ce document électroniquement."
CONSENT_ES = "Acepto firmar este documento electrónicamente."
CONSENT_EN = "I agree to sign this document electronically."


def speaks(user, language: str) -> None:
    Profile.objects.update_or_create(user=user, defaults={"language": language})


def agent_form(**overrides) -> dict:
    data = {
        "agreement": "agree",
        "consent": "on",
        "typed_name": "Alex Rivera",
        "version": "1",
    }
    data.update(overrides)
    return data


# --- the profile page and the language of pages ------------------------------------------------


def test_profile_page_sets_the_language_pages_are_shown_in(client, alex_user):
    client.force_login(alex_user)
    page = client.get(reverse("pips:profile"))
    assert page.status_code == 200
    assert '<html lang="en">' in page.content.decode()
    for code in ("es", "fr", "pt-br"):
        assert f'value="{code}"' in page.content.decode()

    response = client.post(reverse("pips:profile"), {"language": "es"})
    assert response.status_code == 302
    assert Profile.objects.get(user=alex_user).language == "es"

    home = client.get(reverse("pips:home"), headers={"accept-language": "fr"})
    body = home.content.decode()
    assert '<html lang="es">' in body
    assert home["Content-Language"] == "es"
    assert "Su perfil e idioma" in body  # the link to the profile, in Spanish


def test_profile_refuses_a_language_it_does_not_offer(client, alex_user):
    speaks(alex_user, "fr")
    client.force_login(alex_user)
    response = client.post(reverse("pips:profile"), {"language": "de"})
    assert response.status_code == 200
    assert "de" not in dict(response.context["form"].fields["language"].choices)
    assert response.context["form"].errors["language"]
    assert Profile.objects.get(user=alex_user).language == "fr"


def test_blank_language_means_the_organisations(client, alex_user, settings):
    settings.LANGUAGE_CODE = "pt-br"
    client.force_login(alex_user)
    body = client.get(reverse("pips:profile"), headers={"accept-language": "es"}).content.decode()
    assert '<html lang="pt-br">' in body
    assert "O idioma da organização (Português (Brasil))" in body


def test_before_login_pages_follow_the_browser(client):
    body = client.get(reverse("login"), headers={"accept-language": "fr-CA,fr;q=0.9"}).content
    assert b'<html lang="fr">' in body


def test_knowing_the_language_costs_no_query(client, alex_user, sam):
    """The profile comes with the user (ProfileModelBackend): a page costs the same queries
    for a person who chose a language as for one who did not."""
    client.force_login(alex_user)
    url = reverse("pips:notifications")
    client.get(url)
    with CaptureQueriesContext(connection) as without:
        client.get(url)
    speaks(alex_user, "fr")
    client.get(url)
    with CaptureQueriesContext(connection) as chosen:
        assert '<html lang="fr">' in client.get(url).content.decode()
    assert len(chosen) == len(without)


def test_language_codes_are_normalised_or_refused():
    assert languages.normalise("pt_BR") == "pt-br"
    assert languages.normalise("fr-CA") == "fr"
    assert languages.normalise("ES") == "es"
    assert languages.normalise("de") is None
    assert languages.normalise("") is None


# --- the signature records the language of the consent -----------------------------------------


@pytest.fixture
def issued(alex, harper, make_plan):
    return make_plan(alex, "issued", hr=harper)


def test_signature_records_the_french_consent_a_french_speaking_agent_was_shown(
    client, issued, alex
):
    speaks(alex.user, "fr")
    client.force_login(alex.user)
    page = client.get(reverse("pips:sign", args=[issued.pk])).content.decode()
    assert CONSENT_FR in page
    assert 'name="consent_language" value="fr"' in page

    response = client.post(
        reverse("pips:sign", args=[issued.pk]), agent_form(consent_language="fr")
    )
    assert response.status_code == 302
    sig = Signature.objects.get(version=issued.current_version, role=SignerRole.AGENT)
    assert sig.consent_language == "fr"
    assert sig.consent_text.startswith(CONSENT_FR)
    event = AuditEvent.objects.get(pip=issued, action="signed", changes__role="agent")
    assert event.changes["consent_language"] == "fr"


def test_signature_records_the_language_the_page_showed_not_the_one_chosen_since(
    client, issued, alex
):
    """The agent opened the page in Spanish, then switched to French in another tab: what they
    read, and so what they signed under, is the Spanish statement."""
    speaks(alex.user, "fr")
    client.force_login(alex.user)
    client.post(reverse("pips:sign", args=[issued.pk]), agent_form(consent_language="es"))
    sig = Signature.objects.get(version=issued.current_version, role=SignerRole.AGENT)
    assert (sig.consent_language, sig.consent_text[: len(CONSENT_ES)]) == ("es", CONSENT_ES)


def test_a_consent_language_we_do_not_have_is_refused_and_nothing_is_signed(client, issued, alex):
    client.force_login(alex.user)
    response = client.post(
        reverse("pips:sign", args=[issued.pk]), agent_form(consent_language="de")
    )
    assert response.status_code == 200
    assert "The consent statement was shown in a language we do not have" in (
        response.content.decode()
    )
    # Shown again in the language of the page, which the next POST records.
    assert 'name="consent_language" value="en"' in response.content.decode()
    assert not Signature.objects.filter(version=issued.current_version, role="agent").exists()


def test_the_service_records_the_language_active_when_none_is_given(issued, alex):
    with translation.override("pt-br"):
        sig = services.signature_add(
            actor=alex.user,
            pip=issued,
            version=issued.current_version,
            role=SignerRole.AGENT,
            data=SignatureInput(typed_name="Alex Rivera", consent=True, agrees=True),
        )
    assert sig.consent_language == "pt-br"
    assert sig.consent_text.startswith("Concordo em assinar este documento eletronicamente.")


def test_a_refusal_records_the_consent_in_the_employees_language(issued, alex, sam, harper):
    speaks(alex.user, "es")
    sig = services.refusal_record(
        actor=sam, pip=issued, witness=harper, note="Did not want to sign.", meta=RequestMeta()
    )
    assert sig.consent_language == "es"
    assert sig.consent_text.startswith(CONSENT_ES)


# --- the PDF ------------------------------------------------------------------------------------


def test_the_pdf_of_a_french_speaking_agents_plan_has_the_french_consent(
    issued,
    alex,
    signing,
):
    speaks(alex.user, "fr")
    version = version_with_sections(issued.current_version_id)
    text = " ".join(pdf_text(seal.signed_pdf(pip=issued, version=version)).split())
    assert CONSENT_FR in text
    # The organisation's language (English) beside it, since it differs.
    assert CONSENT_EN in text
    # The manager signed under the English statement: the signature block says so, in French.
    html = render.print_html(pip=issued, version=version, current_hash=version.content_sha256)
    assert "Consentement présenté en anglais" in html


def test_the_pdf_prints_the_consent_once_when_the_languages_agree(issued, signing):
    version = version_with_sections(issued.current_version_id)
    text = " ".join(pdf_text(seal.signed_pdf(pip=issued, version=version)).split())
    assert text.count(CONSENT_EN) == 1


def test_a_new_copy_is_stored_when_the_employee_changes_language(issued, alex, signing):
    before = seal.stored_copy(pip=issued, version=issued.current_version)
    speaks(alex.user, "es")
    after = seal.stored_copy(pip=issued, version=issued.current_version)
    assert after.name != before.name and after.rendered


def test_every_letter_of_a_name_prints(
    billing,
    sam,
    harper,
    make_plan,
    signing,
    caplog,
    tmp_path,
):
    """A name with Latin accents, a Polish Ł and a Chinese character: each prints as itself
    (pdftotext reads it back) and WeasyPrint draws no empty box (.notdef) for any of it."""
    from pips.models import Agent

    name = "Zoë Ñúñez-Łukasz 李"
    user = make_user("zoe", "Zoë", "Ñúñez-Łukasz 李")
    agent = Agent.objects.create(
        employee_id="E3001", full_name=name, team=billing, supervisor=sam, user=user
    )
    pip = make_plan(agent, "issued", hr=harper)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        data = seal.signed_pdf(pip=pip, version=version_with_sections(pip.current_version_id))
    assert name in pdftotext(data, tmp_path)
    assert not [r for r in caplog.records if "notdef" in r.getMessage()], caplog.text


# --- templates per language, and the language of a plan's text ---------------------------------


def spanish_template(template, harper):
    copy = services.template_copy(
        actor=harper, template=template, name="Agente de centro de contacto"
    )
    data = services.template_content(copy)
    data.language = "es"
    data.outcome_success = "El plan se cerrará y volverá al seguimiento habitual."
    services.template_update(actor=harper, template=copy, data=data)
    copy.refresh_from_db()
    return copy


def test_hr_keeps_a_template_per_language(client, harper, template):
    from tests.pips.test_views_authoring import form_fields

    client.force_login(harper)
    copy_url = reverse("pips:template_copy", args=[template.pk])
    client.post(copy_url, {"name": "Agente de centro de contacto"})
    copy = PipTemplate.objects.get(name="Agente de centro de contacto")
    assert copy.language == "en"  # a copy starts in its source's language
    edit = reverse("pips:template_edit", args=[copy.pk])
    data = form_fields(client.get(edit))
    assert data["language"] == ["en"]
    data["language"] = ["es"]
    assert client.post(edit, data).status_code == 302
    copy.refresh_from_db()
    assert copy.language == "es"
    listing = client.get(reverse("pips:templates")).content.decode()
    assert '<td lang="es">Español</td>' in listing

    data["language"] = ["de"]
    response = client.post(edit, data)
    assert response.status_code == 200
    assert response.context["page"].forms["template"].errors["language"]
    copy.refresh_from_db()
    assert copy.language == "es"


def test_a_supervisor_starts_from_the_default_template_of_their_language(
    client, sam, alex, harper, template
):
    spanish = spanish_template(template, harper)
    PipTemplate.objects.filter(pk=spanish.pk).update(is_default=True)  # a default per language
    speaks(sam, "es")
    client.force_login(sam)
    pick = client.get(reverse("pips:new"))
    assert pick.context["form"].initial["template"] == spanish.pk
    assert "Agente de centro de contacto (Español)" in pick.content.decode()
    page = client.get(reverse("pips:new"), {"agent": alex.pk})
    assert page.status_code == 200
    assert page.context["template"] == spanish
    # An English-speaking supervisor still starts from the English one.
    speaks(sam, "en")
    assert client.get(reverse("pips:new"), {"agent": alex.pk}).context["template"] == template


def test_a_plan_is_written_in_its_templates_language_and_shown_as_written(
    client, sam, alex, harper, template, make_plan
):
    spanish = spanish_template(template, harper)
    content = services.content_from_template(spanish)
    assert content.language == "es"
    pip = services.pip_create(actor=sam, agent=alex, content=content, template=spanish)
    assert pip.current_version.language == "es"

    # Issued and read by a French-speaking agent: headings in French, the text as written.
    pip = services.pip_submit(actor=sam, pip=pip)
    pip = services.pip_approve(actor=harper, pip=pip)
    pip = services.pip_issue(
        actor=sam,
        pip=pip,
        meeting_held_on=pip.current_version.period_start,
        signature=SignatureInput(typed_name="Sam Carter", consent=True),
    )
    speaks(alex.user, "fr")
    client.force_login(alex.user)
    page = client.get(reverse("pips:sign", args=[pip.pk])).content.decode()
    assert "Le superviseur a rédigé le texte de ce plan en espagnol" in page
    assert '<p lang="es">El plan se cerrará y volverá al seguimiento habitual.</p>' in page


def test_the_plan_language_is_the_supervisors_when_none_is_given(sam, alex, template):
    speaks(sam, "pt-br")
    content = services.content_from_template(template)
    content.language = ""
    pip = services.pip_create(actor=sam, agent=alex, content=content, template=template)
    assert pip.current_version.language == "pt-br"


def test_a_plan_language_we_do_not_have_is_refused(sam, alex, template):
    from django.core.exceptions import ValidationError

    content = services.content_from_template(template)
    content.language = "de"
    with pytest.raises(ValidationError) as refused:
        services.pip_create(actor=sam, agent=alex, content=content, template=template)
    assert "language" in refused.value.message_dict


def test_scripts_read_their_text_from_the_catalog_of_the_readers_language(client, alex_user):
    speaks(alex_user, "es")
    client.force_login(alex_user)
    page = client.get(reverse("pips:profile")).content.decode()
    assert f'<script src="{reverse("javascript-catalog")}"></script>' in page
    catalog = client.get(reverse("javascript-catalog")).content.decode()
    assert "Firma dibujada." in catalog and "Quitar esta fila" in catalog
    assert "Signature drawn." in catalog  # the msgid, mapped to the Spanish text


def test_the_rosters_language_stands_until_the_person_chooses(client, alex):
    """The HR system says Alex reads Brazilian Portuguese: pages, the profile page and the PDF
    copy follow it; once Alex chooses Spanish, the choice wins."""
    alex.language = "pt-br"
    alex.save(update_fields=["language"])
    client.force_login(alex.user)
    page = client.get(reverse("pips:profile")).content.decode()
    assert '<html lang="pt-br">' in page
    assert "O idioma que o sistema de RH informa (Português (Brasil))" in page
    assert languages.language_of_employee(alex) == "pt-br"
    speaks(alex.user, "es")
    assert '<html lang="es">' in client.get(reverse("pips:profile")).content.decode()
    assert languages.language_of_employee(alex) == "es"
