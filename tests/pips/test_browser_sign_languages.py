"""The agent's sign page on a phone (390 × 844) in Spanish, Canadian French and Brazilian
Portuguese: the page, its consent statement and the signature pad's own script all speak the
agent's language, and the agent signs. Screenshots go to
test-artifacts/screenshots/<test>/ (one full page and one of the signature per language)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from pips.models import Profile, Signature, SignerRole
from tests.browser import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
LANGUAGES = {
    "es": {
        "heading": "Lea y firme su plan",
        "consent": "Acepto firmar este documento electrónicamente.",
        "pad": "Todavía no hay nada dibujado.",
        "characters": "11 / ",
        "characters_word": "caracteres",
        "agree": "Estoy de acuerdo con este plan",
        "button": "Firmar el acuse de recibo",
        "done": "Gracias: su acuse de recibo está registrado.",
    },
    "fr": {
        "heading": "Lisez et signez votre plan",
        "consent": "J’accepte de signer ce document électroniquement.",
        "pad": "Rien n’est encore dessiné.",
        "characters": "11 / ",
        "characters_word": "caractères",
        "agree": "Je suis d’accord avec ce plan",
        "button": "Signer l’accusé de réception",
        "done": "Merci : votre accusé de réception est consigné.",
    },
    "pt-br": {
        "heading": "Leia e assine seu plano",
        "consent": "Concordo em assinar este documento eletronicamente.",
        "pad": "Nada desenhado ainda.",
        "characters": "11 / ",
        "characters_word": "caracteres",
        "agree": "Concordo com este plano",
        "button": "Assinar a confirmação de recebimento",
        "done": "Obrigado: sua confirmação de recebimento foi registrada.",
    },
}


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_sign_page_on_a_phone_in_the_agents_language(
    chrome, live_server, shots, alex, harper, make_plan, language
):
    words = LANGUAGES[language]
    pip = make_plan(alex, "issued", hr=harper)
    Profile.objects.create(user=alex.user, language=language)
    context = chrome.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, live_server.url, "alex", home=False)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"{live_server.url}/pips/{pip.pk}/sign/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_have_text(words["heading"])
    expect(page.get_by_text(words["consent"])).to_be_visible()
    # The pad's status line comes from the JavaScript catalog.
    expect(page.locator("[data-signature-status]")).to_have_text(words["pad"])
    shots(page, f"{language}-sign-page")

    page.get_by_label(words["agree"], exact=True).check()
    page.locator("#id_consent").check()
    page.locator("#id_typed_name").fill("Alex Rivera")
    # The text-limit counter under the field is written by a script, from the same catalog.
    counter = page.locator("#id_typed_name-limit")
    expect(counter).to_contain_text(words["characters"])
    expect(counter).to_contain_text(words["characters_word"])
    page.locator("#sign").scroll_into_view_if_needed()
    page.locator("#sign").screenshot(path=str(shots.folder / f"{language}-signature.png"))
    page.get_by_role("button", name=words["button"]).click()
    expect(page.get_by_text(words["done"])).to_be_visible()
    signature = Signature.objects.get(version=pip.current_version, role=SignerRole.AGENT)
    assert signature.consent_language == language
    assert signature.consent_text.startswith(words["consent"])
    context.close()
