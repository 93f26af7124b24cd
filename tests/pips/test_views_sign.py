"""The sign page (employee, HR, manager on an amended version) and the refusal page: who may
sign what and when, what a signature records, and that bad input saves nothing."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pips import services
from pips.content import content_hash
from pips.models import (
    ActionItem,
    AuditEvent,
    Expectation,
    Pip,
    Reason,
    Signature,
    SignerRole,
    Status,
)
from pips.services import CONSENT_TEXT, SignatureInput
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

# A real 1×1 PNG, as signature_pad would send a (very small) drawing.
PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"


def sign_url(pip: Pip) -> str:
    return reverse("pips:sign", args=[pip.pk])


def refusal_url(pip: Pip) -> str:
    return reverse("pips:refusal", args=[pip.pk])


def agent_form(**overrides) -> dict:
    data = {
        "comments": "I will work on my call notes.",
        "agreement": "agree",
        "consent": "on",
        "typed_name": "Alex Rivera",
        "image": PNG,
        "version": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def hr_form(**overrides) -> dict:
    data = {"consent": "on", "typed_name": "Harper Lee", "version": "1"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def agent_signs(pip: Pip, agent_user: User, **extra) -> Signature:
    return services.signature_add(
        actor=agent_user,
        pip=pip,
        version=pip.current_version,
        role=SignerRole.AGENT,
        data=SignatureInput(
            typed_name=agent_user.get_full_name(), consent=True, agrees=True, **extra
        ),
    )


def signatures(pip: Pip) -> list[str]:
    return list(
        Signature.objects.filter(version__pip=pip).order_by("id").values_list("role", flat=True)
    )


def events(pip: Pip, action: str) -> int:
    return AuditEvent.objects.filter(pip=pip, action=action).count()


@pytest.fixture
def issued(alex, harper, make_plan) -> Pip:
    pip = make_plan(alex, "issued", hr=harper)
    alex.email = "alex@example.com"
    alex.save()
    return pip


# --- the employee signs ------------------------------------------------------------------------


class TestEmployeeSigns:
    def test_the_page_shows_the_plan_the_consent_and_the_form(self, client, issued, alex):
        client.force_login(alex.user)
        response = client.get(sign_url(issued))
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        body = response.content.decode()
        assert "Read and sign your plan" in body
        assert "2. Performance Expectations" in body and "3. Improvement Action Plan" in body
        assert str(CONSENT_TEXT) in body
        assert "it does not mean that you agree with it" in body
        for name in ("comments", "agreement", "consent", "typed_name", "image", "version"):
            assert f'name="{name}"' in body
        assert "I agree with this plan" in body and "I disagree with this plan" in body
        # The drawn signature is progressive: the pad's scripts are files, none inline.
        assert "js/signature.js" in body and "signature_pad.umd.min.js" in body
        assert "<script>" not in body and "onclick" not in body
        # Looking at the plan is on its record.
        event = AuditEvent.objects.filter(pip=issued, action="viewed").last()
        assert event.actor == alex.user

    def test_signing_records_everything_and_emails_a_summary(
        self, client, issued, alex, django_capture_on_commit_callbacks
    ):
        client.force_login(alex.user)
        version = issued.current_version
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(sign_url(issued), agent_form(), headers={"user-agent": BROWSER})
        assert response.status_code == 302
        assert response["Location"] == issued.get_absolute_url()
        sig = Signature.objects.get(version=version, role=SignerRole.AGENT)
        assert sig.signer == alex.user
        assert sig.kind == Signature.Kind.SIGNED
        assert sig.typed_name == "Alex Rivera"
        assert sig.image == PNG
        assert sig.consent_text == str(CONSENT_TEXT)
        assert sig.consent_language == "en"
        assert sig.agrees is True
        assert sig.comments == "I will work on my call notes."
        assert sig.ip_address == "127.0.0.1"
        assert sig.user_agent == BROWSER
        assert sig.content_sha256 == version.content_sha256 == content_hash(version)
        event = AuditEvent.objects.get(pip=issued, action="signed", changes__role="agent")
        assert event.actor == alex.user and event.ip_address == "127.0.0.1"
        assert event.user_agent == BROWSER
        assert event.changes["sha256"] == version.content_sha256
        # The employee's written summary, with a link to their copy.
        # HR (who countersigns next) and the supervisor are told too, each by their own e-mail.
        assert sorted(m.to[0] for m in mail.outbox) == [
            "alex@example.com",
            "harper@example.com",
            "sam@example.com",
        ]
        [message] = [m for m in mail.outbox if m.to == ["alex@example.com"]]
        assert issued.reference in message.subject
        assert f"/pips/{issued.pk}/v1/" in message.body
        assert "I will work on my call notes." in message.body
        assert "you agree with the plan" in message.body
        assert version.content_sha256 in message.body
        assert "it does not mean that you agree with it" in message.body
        html = message.alternatives[0][0]
        assert f"/pips/{issued.pk}/v1/" in html
        # The plan is still waiting for HR.
        assert Pip.objects.get(pk=issued.pk).status == Status.ISSUED
        page = client.get(issued.get_absolute_url()).content.decode()
        assert "Agrees with the plan" in page and "I will work on my call notes." in page

    def test_typed_name_alone_signs_without_a_drawing(self, client, issued, alex):
        client.force_login(alex.user)
        response = client.post(sign_url(issued), agent_form(image="", comments=""))
        assert response.status_code == 302
        sig = Signature.objects.get(version=issued.current_version, role=SignerRole.AGENT)
        assert sig.image == "" and sig.comments == ""

    def test_name_is_compared_exactly_but_for_extra_spaces(self, client, issued, alex):
        """The page says "exactly as your account holds it": the letter case counts, the
        spacing (which paper does not show) does not."""
        client.force_login(alex.user)
        response = client.post(sign_url(issued), agent_form(typed_name="alex rivera"))
        assert response.status_code == 200
        assert "“Alex Rivera”" in response.content.decode()
        assert signatures(issued) == ["manager"]
        response = client.post(sign_url(issued), agent_form(typed_name="  Alex   Rivera "))
        assert response.status_code == 302
        assert signatures(issued) == ["manager", "agent"]

    def test_disagreeing_with_comments_is_recorded_and_shown(self, client, issued, alex):
        client.force_login(alex.user)
        response = client.post(
            sign_url(issued),
            agent_form(agreement="disagree", comments="The AHT target ignores my queue."),
        )
        assert response.status_code == 302
        sig = Signature.objects.get(version=issued.current_version, role=SignerRole.AGENT)
        assert sig.agrees is False
        page = client.get(issued.get_absolute_url()).content.decode()
        assert "Disagrees with the plan" in page
        assert "The AHT target ignores my queue." in page

    def test_user_text_is_escaped(self, client, issued, alex, django_capture_on_commit_callbacks):
        client.force_login(alex.user)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(sign_url(issued), agent_form(comments="<b>bold</b> & 'quoted'"))
        page = client.get(issued.get_absolute_url()).content.decode()
        assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
        # The plain-text e-mail says it as typed; the HTML part escapes it.
        assert "<b>bold</b> & 'quoted'" in mail.outbox[0].body
        assert "&lt;b&gt;bold&lt;/b&gt;" in mail.outbox[0].alternatives[0][0]


BAD_INPUT = [
    ("name_mismatch", {"typed_name": "Alex Rivers"}, "typed_name",
     "Type your full name exactly as your account holds it: “Alex Rivera”."),
    ("no_name", {"typed_name": ""}, "typed_name", "Type your full name to sign."),
    ("no_consent", {"consent": None}, "consent", "Tick the box to agree to sign electronically."),
    ("disagree_without_comment", {"agreement": "disagree", "comments": "  "}, "comments",
     "Say what you disagree with."),
    ("no_choice", {"agreement": None}, "agreement",
     "Choose whether you agree or disagree with the plan."),
    ("unknown_choice", {"agreement": "maybe"}, "agreement", "Select a valid choice."),
    ("not_png", {"image": "data:image/jpeg;base64,/9j/4AAQSkZJRg=="}, "image",
     "The drawn signature was not a PNG image."),
    ("garbled_png", {"image": "data:image/png;base64,@@@not-base64@@@"}, "image",
     "The drawn signature could not be read."),
    ("png_header_lies", {"image": "data:image/png;base64,R0lGODlhAQABAAAAACw="}, "image",
     "The drawn signature was not a PNG image."),
    ("too_large", {"image": "data:image/png;base64," + "A" * 400_000}, "image",
     "The drawn signature is too large."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "changes", "field", "message"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_shows_the_message_and_saves_nothing(
    client, issued, alex, case, changes, field, message
):
    client.force_login(alex.user)
    before = AuditEvent.objects.filter(pip=issued).count()
    response = client.post(sign_url(issued), agent_form(**changes))
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    assert message.split(":")[0] in response.content.decode().replace("&#x27;", "'")
    assert signatures(issued) == ["manager"]
    assert AuditEvent.objects.filter(pip=issued).count() == before
    assert Pip.objects.get(pk=issued.pk).status == Status.ISSUED


def test_forged_version_number_is_refused(client, issued, alex):
    client.force_login(alex.user)
    response = client.post(sign_url(issued), agent_form(version="7"))
    assert response.status_code == 200
    assert "That version of the plan does not exist." in response.content.decode()
    assert signatures(issued) == ["manager"]


# --- who may sign ------------------------------------------------------------------------------


class TestAccess:
    def test_wrong_method(self, client, issued, alex):
        client.force_login(alex.user)
        for method in ("put", "patch", "delete"):
            assert getattr(client, method)(sign_url(issued)).status_code == 405
        assert signatures(issued) == ["manager"]

    def test_anonymous_goes_to_login(self, client, issued):
        response = client.post(sign_url(issued), agent_form())
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert signatures(issued) == ["manager"]

    @pytest.mark.parametrize("who", ["olivia", "blake", "nobody"])
    def test_outsiders_get_404(self, client, issued, olivia, blake, who):
        """An agent signing someone else's plan, a supervisor of another team, a stranger."""
        user = {
            "olivia": olivia,
            "blake": blake.user,
            "nobody": User.objects.create_user("nobody", password="x-long-password-12"),
        }[who]
        client.force_login(user)
        assert client.get(sign_url(issued)).status_code == 404
        data = agent_form(typed_name=user.get_full_name() or "Nobody")
        assert client.post(sign_url(issued), data).status_code == 404
        assert signatures(issued) == ["manager"]
        assert not AuditEvent.objects.filter(pip=issued, actor=user).exists()

    def test_agent_cannot_see_a_plan_before_it_is_issued(self, client, alex, harper, make_plan):
        pip = make_plan(alex, "approved", hr=harper)
        client.force_login(alex.user)
        assert client.get(sign_url(pip)).status_code == 404

    def test_supervisor_who_signed_at_issue_has_nothing_to_sign(self, client, issued, sam):
        client.force_login(sam)
        assert client.get(sign_url(issued)).status_code == 403
        response = client.post(sign_url(issued), hr_form(typed_name="Sam Carter"))
        assert response.status_code == 403
        assert signatures(issued) == ["manager"]

    def test_buttons_follow_the_order_of_signatures(self, client, issued, alex, sam, harper):
        def labels(user) -> list[str]:
            client.force_login(user)
            response = client.get(issued.get_absolute_url())
            return [action.label for action in response.context["actions"]]

        assert "Sign acknowledgment" in labels(alex.user)
        assert "Countersign as HR" not in labels(harper)
        assert "Record a refusal to sign" in labels(sam)
        assert "Sign as manager" not in labels(sam)
        agent_signs(issued, alex.user)
        assert "Sign acknowledgment" not in labels(alex.user)
        assert "Countersign as HR" in labels(harper)
        assert "Record a refusal to sign" not in labels(sam)


# --- HR countersigns ---------------------------------------------------------------------------


class TestHrCountersigns:
    def test_hr_waits_for_the_employee(self, client, issued, harper):
        client.force_login(harper)
        response = client.get(sign_url(issued))
        assert response.status_code == 200
        body = response.content.decode()
        assert "HR countersigns after the employee&#x27;s acknowledgment" in body
        assert 'name="typed_name"' not in body
        # Posting anyway is refused by the lifecycle, with its message.
        response = client.post(sign_url(issued), hr_form())
        assert response.status_code == 200
        assert "HR countersigns after the employee" in response.content.decode()
        assert signatures(issued) == ["manager"]

    def test_countersigning_makes_the_plan_active(
        self, client, issued, alex, harper, django_capture_on_commit_callbacks
    ):
        agent_signs(issued, alex.user)
        client.force_login(harper)
        page = client.get(sign_url(issued)).content.decode()
        assert "Countersign as HR" in page
        assert 'name="agreement"' not in page and 'name="comments"' not in page
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(sign_url(issued), hr_form(image=PNG), follow=True)
        assert response.redirect_chain[-1][0] == issued.get_absolute_url()
        assert "the plan is active" in response.content.decode()
        pip = Pip.objects.get(pk=issued.pk)
        assert pip.status == Status.ACTIVE and pip.activated_at is not None
        assert signatures(issued) == ["manager", "agent", "hr"]
        sig = Signature.objects.get(version=pip.current_version, role=SignerRole.HR)
        assert sig.agrees is None and sig.image == PNG
        assert events(pip, "activated") == 1
        assert pip.schedule.exists()
        # HR's signature sends no summary e-mail; that is for the employee.
        assert not any("acknowledgment of" in m.subject for m in mail.outbox)

    def test_hr_name_must_match(self, client, issued, alex, harper):
        agent_signs(issued, alex.user)
        client.force_login(harper)
        response = client.post(sign_url(issued), hr_form(typed_name="Alex Rivera"))
        assert response.status_code == 200
        assert "Harper Lee" in str(response.context["form"].errors["typed_name"])
        assert signatures(issued) == ["manager", "agent"]


# --- twice, at once, and stale ----------------------------------------------------------------


def test_signing_twice_keeps_one_signature(client, issued, alex):
    client.force_login(alex.user)
    assert client.post(sign_url(issued), agent_form()).status_code == 302
    response = client.post(sign_url(issued), agent_form(comments="Second thoughts."))
    assert response.status_code == 200
    assert "The employee has already signed." in response.content.decode()
    assert signatures(issued) == ["manager", "agent"]
    assert events(issued, "signed") == 2  # the manager's at issue, the employee's once
    page = client.get(sign_url(issued)).content.decode()
    assert "Employee signature on version 1: given" in page
    assert 'name="typed_name"' not in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_requests_at_once_make_one_signature(postgres, alex, harper, make_plan):
    """Two browser tabs post the same signature at the same moment: the plan's row lock lets
    one through; the other is told the signature is already given."""
    pip = make_plan(alex, "issued", hr=harper)
    barrier = threading.Barrier(2)
    results: list[int] = []
    bodies: list[str] = []

    def post() -> None:
        try:
            client = Client()
            client.force_login(alex.user)
            barrier.wait(timeout=10)
            response = client.post(sign_url(pip), agent_form())
            results.append(response.status_code)
            bodies.append(response.content.decode())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [200, 302]
    assert any("already" in body for body in bodies)
    assert signatures(pip) == ["manager", "agent"]
    assert AuditEvent.objects.filter(pip=pip, action="signed", changes__role="agent").count() == 1


def test_signing_a_superseded_version_is_refused(client, alex, sam, harper, make_plan):
    pip = make_plan(alex, "active", hr=harper)
    services.amendment_start(actor=sam, pip=pip, change_summary="Add a coaching session.")
    services.amendment_submit(actor=sam, pip=pip)
    services.amendment_decide(actor=harper, pip=pip, approve=True)
    # Alex opened the page on version 1 and posts after version 2 came into force.
    client.force_login(alex.user)
    response = client.post(sign_url(pip), agent_form(version="1"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Version 1 is superseded; only the version in force can be signed." in body
    # What a second try would sign is the version shown: version 2.
    assert 'name="version" value="2"' in body
    assert Signature.objects.filter(version__pip=pip, version__number=2).count() == 0


# --- signatures bind to the content ------------------------------------------------------------


def test_a_signature_turns_invalid_when_content_changes_underneath(client, alex, harper, make_plan):
    pip = make_plan(alex, "active", hr=harper)
    client.force_login(harper)
    page = client.get(pip.get_absolute_url()).content.decode()
    assert page.count("Valid: content unchanged since signing") == 3
    assert "Invalid" not in page
    # Someone edits a row in the database, behind the application's back.
    row = Expectation.objects.filter(version=pip.current_version).first()
    Expectation.objects.filter(pk=row.pk).update(improvement_needed="Nothing, really")
    page = client.get(pip.get_absolute_url()).content.decode()
    assert page.count("Invalid: the content changed after signing") == 3
    assert "Valid: content unchanged" not in page
    audit = client.get(reverse("pips:audit", args=[pip.pk])).content.decode()
    assert "changed since issue" in audit and "invalid: content changed" in audit


def test_signatures_cannot_be_changed_or_deleted(client, issued, admin_user):
    sig = Signature.objects.get(version=issued.current_version)
    sig.typed_name = "Someone Else"
    with pytest.raises(PermissionError):
        sig.save()
    with pytest.raises(PermissionError):
        sig.delete()
    with pytest.raises(PermissionError):
        Signature.objects.filter(pk=sig.pk).update(typed_name="Someone Else")
    with pytest.raises(PermissionError):
        Signature.objects.filter(pk=sig.pk).delete()
    # The admin shows signatures and changes nothing.
    client.force_login(admin_user)
    change = reverse("admin:pips_signature_change", args=[sig.pk])
    page = client.get(change)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(change, {"typed_name": "Someone Else"}).status_code == 403
    delete = reverse("admin:pips_signature_delete", args=[sig.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    listing = client.post(
        reverse("admin:pips_signature_changelist"),
        {"action": "delete_selected", "_selected_action": [sig.pk], "post": "yes"},
    )
    assert listing.status_code in (200, 302, 403)
    assert Signature.objects.get(pk=sig.pk).typed_name == "Sam Carter"


# --- the refusal to sign -----------------------------------------------------------------------


class TestRefusal:
    def test_supervisor_records_a_witnessed_refusal(self, client, issued, alex, sam, harper):
        client.force_login(sam)
        page = client.get(refusal_url(issued))
        assert page.status_code == 200
        choices = [str(u) for u in page.context["form"].fields["witness"].queryset]
        assert "harper" in choices and "sam" not in choices and "alex" not in choices
        response = client.post(
            refusal_url(issued),
            {"witness": harper.pk, "note": "Alex read the plan and declined to sign it."},
            headers={"user-agent": BROWSER},
        )
        assert response.status_code == 302
        sig = Signature.objects.get(version=issued.current_version, role=SignerRole.AGENT)
        assert sig.kind == Signature.Kind.REFUSED
        assert sig.witness == harper and sig.signer == sam
        assert sig.content_sha256 == issued.current_version.content_sha256
        assert sig.user_agent == BROWSER
        event = AuditEvent.objects.get(pip=issued, action="refusal_recorded")
        assert event.changes == {"witness": "Harper Lee"}
        assert event.comment == "Alex read the plan and declined to sign it."
        # It shows on the plan, with the note, and not as the employee's comments.
        page = client.get(issued.get_absolute_url()).content.decode()
        assert "Refused to sign" in page and "witnessed by Harper Lee" in page
        assert "declined to sign it" in page and "Employee Comments" not in page
        # The acknowledgment step is complete: HR countersigns and the plan is active.
        client.force_login(harper)
        assert client.post(sign_url(issued), hr_form()).status_code == 302
        assert Pip.objects.get(pk=issued.pk).status == Status.ACTIVE
        # The employee is told so on the sign page.
        client.force_login(alex.user)
        page = client.get(sign_url(issued)).content.decode()
        assert "A refusal to sign version 1 was recorded" in page

    def test_another_supervisor_can_witness(self, client, issued, sam, olivia):
        client.force_login(sam)
        response = client.post(refusal_url(issued), {"witness": olivia.pk, "note": "Declined."})
        assert response.status_code == 302
        assert Signature.objects.get(role=SignerRole.AGENT, version__pip=issued).witness == olivia

    @pytest.mark.parametrize(
        ("case", "message"),
        [
            ("no_witness", "Choose the witness."),
            ("employee_as_witness", "Choose a witness from the list"),
            ("self_as_witness", "Choose a witness from the list"),
            ("agent_without_role", "Choose a witness from the list"),
            ("no_note", "Describe what happened."),
        ],
    )
    def test_bad_input_saves_nothing(self, client, issued, alex, sam, harper, blake, case, message):
        data = {"witness": harper.pk, "note": "Declined."}
        if case == "no_witness":
            data["witness"] = ""
        elif case == "employee_as_witness":
            data["witness"] = alex.user.pk
        elif case == "self_as_witness":
            data["witness"] = sam.pk
        elif case == "agent_without_role":
            data["witness"] = blake.user.pk
        else:
            data["note"] = "   "
        client.force_login(sam)
        response = client.post(refusal_url(issued), data)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert signatures(issued) == ["manager"]
        assert events(issued, "refusal_recorded") == 0

    def test_refusal_after_the_employee_signed_is_refused(self, client, issued, alex, sam, harper):
        agent_signs(issued, alex.user)
        client.force_login(sam)
        page = client.get(refusal_url(issued)).content.decode()
        assert "Employee signature on version 1: given" in page
        response = client.post(refusal_url(issued), {"witness": harper.pk, "note": "Declined."})
        assert response.status_code == 200
        assert "The employee&#x27;s acknowledgment is already recorded." in (
            response.content.decode()
        )
        assert signatures(issued) == ["manager", "agent"]

    def test_wrong_method(self, client, issued, sam):
        client.force_login(sam)
        assert client.put(refusal_url(issued)).status_code == 405
        assert client.delete(refusal_url(issued)).status_code == 405

    def test_outsider_gets_404(self, client, issued, olivia, harper):
        client.force_login(olivia)
        assert client.get(refusal_url(issued)).status_code == 404
        response = client.post(refusal_url(issued), {"witness": harper.pk, "note": "x"})
        assert response.status_code == 404
        assert signatures(issued) == ["manager"]

    @pytest.mark.parametrize("who", ["harper", "alex"])
    def test_hr_and_the_employee_get_403(self, client, issued, harper, alex, who):
        user = {"harper": harper, "alex": alex.user}[who]
        client.force_login(user)
        assert client.get(refusal_url(issued)).status_code == 403
        response = client.post(refusal_url(issued), {"witness": harper.pk, "note": "x"})
        assert response.status_code == 403
        assert signatures(issued) == ["manager"]


# --- queries -----------------------------------------------------------------------------------


def grow(pip: Pip, n: int) -> None:
    """More rows in every section, more signatures' worth of events and more page views."""
    version = pip.current_version
    Reason.objects.bulk_create(Reason(version=version, text=f"Reason {i}") for i in range(n))
    Expectation.objects.bulk_create(
        Expectation(version=version, area=f"Area {i}", standard_text="Always") for i in range(n)
    )
    ActionItem.objects.bulk_create(
        ActionItem(
            version=version, action=f"Action {i}", responsible="Agent", deadline_kind="ongoing"
        )
        for i in range(n)
    )
    for _ in range(n):
        services.pip_viewed(actor=pip.supervisor, pip=pip)


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["agent", "hr"])
def test_sign_page_queries_do_not_grow(client, alex, harper, make_plan, who):
    pip = make_plan(alex, "issued", hr=harper)
    if who == "hr":
        agent_signs(pip, alex.user)
    client.force_login(alex.user if who == "agent" else harper)
    small = count_queries(client, sign_url(pip))
    grow(pip, 30)
    large = count_queries(client, sign_url(pip))
    assert large == small
    # HR's page also asks whether the plan is HR's own work (separation of duties).
    assert large <= 21


def test_refusal_page_queries_do_not_grow(client, issued, sam):
    client.force_login(sam)
    small = count_queries(client, refusal_url(issued))
    grow(issued, 30)
    for i in range(20):
        make_user(f"witness{i}", "Wit", f"Ness {i}", "hr")
    large = count_queries(client, refusal_url(issued))
    assert large == small
    assert large <= 20
