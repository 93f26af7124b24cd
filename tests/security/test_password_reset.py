"""Password reset by e-mail with Django's views: the link goes to the account's address only,
works once, and the new password must pass the validators. The page says the same whether the
address has an account or not."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

RESET = "/accounts/password-reset/"
NEW_PASSWORD = "a-brand-new-passphrase-42"


@pytest.fixture
def sam_with_email(sam):
    sam.email = "sam@example.com"
    sam.save(update_fields=["email"])
    return sam


def reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/reset/[^\s\"]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_login_page_links_to_the_reset(client):
    body = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password-reset/"' in body
    assert "Forgot your password?" in body


def test_reset_by_email_end_to_end(client, sam_with_email, django_capture_on_commit_callbacks):
    response = client.get(RESET)
    assert response.status_code == 200
    assert "Reset your password" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the task, run eagerly
        response = client.post(RESET, {"email": "sam@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert "Check your e-mail" in client.get(response["Location"]).content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam@example.com"]
    assert message.subject == "Reset your pipsystem password"
    assert settings.SITE_URL + "/accounts/reset/" in message.body
    html = message.alternatives[0][0]
    assert "Choose a new password" in html and "/accounts/reset/" in html
    assert PASSWORD not in message.body

    link = reset_link(message)
    response = client.get(link)
    assert response.status_code == 302  # to the same page without the token in the address
    form_url = response["Location"]
    page = client.get(form_url)
    assert "Choose a new password" in page.content.decode()

    # Too short: refused with the validator's message; the old password still works.
    response = client.post(form_url, {"new_password1": "Short-pw-1", "new_password2": "Short-pw-1"})
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    sam_with_email.refresh_from_db()
    assert sam_with_email.check_password(PASSWORD)

    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reset/done/"
    assert "Your password is changed" in client.get("/accounts/reset/done/").content.decode()
    sam_with_email.refresh_from_db()
    assert sam_with_email.check_password(NEW_PASSWORD)

    # The link works once.
    response = Client().get(link, follow=True)
    assert "This reset link is not valid" in response.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, sam_with_email):
    response = client.post(RESET, {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_a_bad_address_is_shown_on_the_form(client, db):
    response = client.post(RESET, {"email": "not an address"})
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    assert mail.outbox == []


def test_a_forged_link_is_refused(client, sam_with_email):
    response = client.get("/accounts/reset/MQ/forged-token/", follow=True)
    assert "This reset link is not valid" in response.content.decode()
