"""The sign form against hostile input: a full name that is HTML is shown as text in the help
below the name field, and a drawn signature is limited in bytes and in pixels, the pixels read
from the PNG header before anything is decoded."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pips.models import Signature, SignerRole
from pips.services import SignatureInput, signature_add
from tests.pips.png_support import data_url, png

pytestmark = pytest.mark.django_db

HOSTILE_NAME = '<img src=x onerror="alert(1)">'


@pytest.fixture
def issued(alex, harper, make_plan):
    return make_plan(alex, "issued", hr=harper)


def sign(client, pip, image: str):
    return client.post(
        reverse("pips:sign", args=[pip.pk]),
        {
            "agreement": "agree",
            "consent": "on",
            "typed_name": "Alex Rivera",
            "image": image,
            "version": "1",
        },
    )


def test_a_full_name_that_is_html_is_shown_as_text_in_the_help(client, issued, alex):
    user = alex.user
    user.first_name, user.last_name = HOSTILE_NAME, "Rivera"
    user.save(update_fields=["first_name", "last_name"])
    client.force_login(user)
    body = client.get(reverse("pips:sign", args=[issued.pk])).content.decode()
    assert "<img src=x" not in body
    assert "letter case included: “&lt;img src=x onerror=&quot;alert(1)&quot;&gt; Rivera”." in body


def test_a_huge_image_in_few_bytes_is_refused_with_its_size_in_the_message(client, issued, alex):
    bomb = png(13_000, 13_000)
    assert len(data_url(bomb)) < 400_000  # what the byte limit alone let through
    client.force_login(alex.user)
    response = sign(client, issued, data_url(bomb))
    assert response.status_code == 200
    errors = response.context["form"].errors["image"]
    assert errors == [
        "The drawn signature is 13000 × 13000 pixels; at most 4000 × 1000 are accepted. "
        "Clear it and draw it again."
    ]
    assert not Signature.objects.filter(version__pip=issued, role=SignerRole.AGENT).exists()


def test_a_drawing_the_size_of_a_large_high_density_screen_is_accepted(client, issued, alex):
    client.force_login(alex.user)
    response = sign(client, issued, data_url(png(3840, 540)))
    assert response.status_code == 302
    assert Signature.objects.get(version__pip=issued, role=SignerRole.AGENT).image.startswith(
        "data:image/png;base64,"
    )


def test_a_png_too_large_in_bytes_is_refused_before_it_is_decoded(client, issued, alex):
    client.force_login(alex.user)
    noise = png(10, 10) + b"\x00" * 400_000  # the header is fine; the size is not
    response = sign(client, issued, data_url(noise))
    assert response.status_code == 200
    assert "too large" in response.context["form"].errors["image"][0]


def test_a_truncated_png_header_is_refused(client, issued, alex):
    client.force_login(alex.user)
    response = sign(client, issued, data_url(png(10, 10)[:20]))
    assert response.status_code == 200
    assert response.context["form"].errors["image"] == [
        "The drawn signature could not be read. Clear it and draw it again."
    ]


def test_the_services_refuse_an_oversized_image_whoever_calls_them(issued, alex):
    with pytest.raises(ValidationError) as refused:
        signature_add(
            actor=alex.user,
            pip=issued,
            version=issued.current_version,
            role=SignerRole.AGENT,
            data=SignatureInput(
                typed_name="Alex Rivera",
                consent=True,
                agrees=True,
                image=data_url(png(13_000, 13_000)),
            ),
        )
    assert "13000 × 13000 pixels" in str(refused.value)
