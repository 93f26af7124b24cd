"""The KPI upload pages follow their reader's language: an analyst who reads Spanish (their
profile) sees them in Spanish."""

from __future__ import annotations

import pytest

from pips.models import Profile
from tests.conftest import make_user
from tests.pips.test_translated_pages import english_left

pytestmark = pytest.mark.django_db


@pytest.fixture
def quinn(db):
    return make_user("quinn", "Quinn", "Analyst", "analyst")


def test_the_upload_pages_of_a_spanish_speaking_analyst_is_in_spanish(client, quinn):
    Profile.objects.update_or_create(user=quinn, defaults={"language": "es"})
    client.force_login(quinn)
    for url in ("/metrics/upload/", "/metrics/loads/"):
        html = client.get(url).content.decode()
        assert '<html lang="es">' in html, url
        assert english_left(html) == [], url
