"""Every free-text field has a length limit: shown as the user types, refused with a message at
its field, never truncated (defect 6, and the text part of the security review's item 2); and
one submit shows every problem of the plan form, with a summary at the top (defect 7)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from pips import limits, services
from pips.models import CheckIn, Pip, PipVersion, Signature, SignerRole
from pips.services import SignatureInput
from tests.pips.test_views_authoring import body, form_fields, nothing_saved

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_url(alex):
    return f"/pips/new/?agent={alex.pk}"


@pytest.fixture
def sam_client(client, sam):
    client.force_login(sam)
    return client


@pytest.fixture
def new_form(sam_client, new_url):
    return form_fields(sam_client.get(new_url))


def test_a_pasted_concern_is_refused_whole_not_cut(sam_client, alex, new_url, new_form):
    data = dict(new_form)
    data["reasons-0-text"] = ["x" * 5000]
    response = sam_client.post(new_url, data)
    assert response.status_code == 200 and nothing_saved(alex)
    page = body(response)
    assert "at most 300 characters (it has 5000)" in page
    # The text comes back whole, for the user to shorten: nothing was cut.
    assert "x" * 5000 in page


def test_no_field_lets_the_browser_cut_text(sam_client, new_url):
    page = body(sam_client.get(new_url))
    assert " maxlength=" not in page
    assert 'data-limit="300"' in page and f'data-limit="{limits.LONG_TEXT}"' in page
    assert "js/text-limits.js" in page


def test_a_huge_description_is_refused(sam_client, alex, new_url, new_form):
    data = dict(new_form, description=["A" * 2_400_000])
    response = sam_client.post(new_url, data)
    assert response.status_code == 200 and nothing_saved(alex)
    assert f"at most {limits.LONG_TEXT:,} characters".replace(",", "") in body(response).replace(
        ",", ""
    )


@pytest.mark.parametrize(
    "field", ["description", "monitoring_reports", "outcome_success", "outcome_failure"]
)
def test_the_database_refuses_what_a_form_would(alex, harper, make_plan, field):
    pip = make_plan(alex, "draft")
    with pytest.raises(IntegrityError), transaction.atomic():
        PipVersion.objects.filter(pk=pip.current_version_id).update(
            **{field: "y" * (limits.LONG_TEXT + 1)}
        )


def test_the_service_refuses_an_overlong_change_summary(alex, harper, sam, make_plan):
    pip = make_plan(alex, "active", hr=harper)
    with pytest.raises(ValidationError) as caught:
        services.amendment_start(actor=sam, pip=pip, change_summary="z" * (limits.MEDIUM_TEXT + 1))
    assert "change_summary" in caught.value.message_dict
    assert pip.versions.count() == 1


def test_an_overlong_signature_comment_is_refused(client, alex, harper, make_plan):
    pip = make_plan(alex, "issued", hr=harper)
    client.force_login(alex.user)
    response = client.post(
        f"/pips/{pip.pk}/sign/",
        {
            "typed_name": "Alex Rivera",
            "consent": "on",
            "agreement": "disagree",
            "comments": "c" * (limits.MEDIUM_TEXT + 1),
            "version": pip.current_version.number,
        },
    )
    assert response.status_code == 200
    assert f"at most {limits.MEDIUM_TEXT} characters" in body(response)
    assert not Signature.objects.filter(version=pip.current_version, role=SignerRole.AGENT)
    with pytest.raises(ValidationError) as caught:
        services.signature_add(
            actor=alex.user,
            pip=pip,
            version=pip.current_version,
            role=SignerRole.AGENT,
            data=SignatureInput(
                typed_name="Alex Rivera",
                consent=True,
                agrees=False,
                comments="c" * (limits.MEDIUM_TEXT + 1),
            ),
        )
    assert "at most" in caught.value.message_dict["comments"][0]


def test_check_in_notes_are_limited_in_the_database(alex, harper, sam, make_plan):
    pip = make_plan(alex, "active", hr=harper)
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckIn.objects.create(
            pip=pip,
            version=pip.current_version,
            held_on=pip.current_version.period_start,
            notes="n" * (limits.LONG_TEXT + 1),
            recorded_by=sam,
        )


# --- Defect 7: one round of errors ---------------------------------------------------------------


def test_every_problem_in_one_submit_with_a_summary(sam_client, alex, new_url, new_form):
    data = dict(new_form)
    # A field the form requires, and a rule only the server knows, wrong at the same time.
    data["actions-0-responsible"] = [""]
    start = data["period_start"][0]
    import datetime as dt

    end = dt.date.fromisoformat(start) + dt.timedelta(days=100)
    data["period_end"] = [end.isoformat()]
    response = sam_client.post(new_url, data)
    assert response.status_code == 200 and nothing_saved(alex)
    page = body(response)
    assert "The review period must be 14 to 90 days long" in page
    assert "This field is required." in page
    summary = page.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'href="#id_period_end"' in summary
    assert re.search(r'href="#id_actions-0-responsible"', summary)


def test_forms_leave_validation_to_the_server(sam_client, new_url):
    page = body(sam_client.get(new_url))
    form = re.search(r"<form[^>]*class=\"plan-form\"[^>]*>", page).group(0)
    assert "novalidate" in form


def test_no_page_of_a_plan_cuts_text(client, alex, harper, make_plan):
    pip = make_plan(alex, "issued", hr=harper)
    client.force_login(alex.user)
    assert " maxlength=" not in body(client.get(f"/pips/{pip.pk}/sign/"))
    assert Pip.objects.filter(pk=pip.pk).exists()
