"""The audit trail: every step, signature, amendment, view and download, with who, when, from
where and what changed; a page per plan for HR only; append-only in code, admin and database."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pips import services
from pips.models import AuditEvent, Pip
from pips.services import RequestMeta

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"


def audit_url(pip: Pip) -> str:
    return reverse("pips:audit", args=[pip.pk])


@pytest.fixture
def active(alex, harper, make_plan) -> Pip:
    return make_plan(alex, "active", hr=harper)


class TestTrailPage:
    def test_hr_sees_every_step_with_who_when_where_and_what(self, client, active, sam, harper):
        client.force_login(sam)
        client.get(active.get_absolute_url(), headers={"user-agent": BROWSER})
        services.pip_viewed(
            actor=sam,
            pip=active,
            what="downloaded",
            meta=RequestMeta(ip_address="10.1.2.3", user_agent="PdfReader/2"),
        )
        client.force_login(harper)
        response = client.get(audit_url(active))
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        body = response.content.decode()
        for label in (
            "Draft created",
            "Submitted to HR",
            "Approved by HR",
            "Issued to the employee",
            "Signed as manager",
            "Signed as employee",
            "Signed as HR",
            "Plan active: all signatures present",
            "Viewed",
            "PDF downloaded",
        ):
            assert label in body, label
        assert "Draft → Waiting for HR" in body
        assert "Issued, awaiting signatures → Active" in body
        assert "10.1.2.3" in body and "PdfReader/2" in body
        assert "127.0.0.1" in body and BROWSER[:40] in body
        version = active.current_version
        assert f'SHA-256:</dt> <dd class="d-inline text-break">{version.content_sha256}' in body
        # The signatures register: each one still matches what it signed.
        assert body.count(">valid</span>") == 3
        rows = response.context["rows"]
        assert [r.event.action for r in rows][:2] == ["created", "submitted"]
        assert all(r.event.at <= s.event.at for r, s in zip(rows, rows[1:], strict=False))

    def test_amendments_and_refusals_are_on_the_trail(self, client, alex, sam, harper, make_plan):
        pip = make_plan(alex, "issued", hr=harper)
        services.refusal_record(actor=sam, pip=pip, witness=harper, note="Declined <b>loudly</b>.")
        services.signature_add(
            actor=harper,
            pip=pip,
            version=pip.current_version,
            role="hr",
            data=services.SignatureInput(typed_name="Harper Lee", consent=True),
        )
        services.amendment_start(actor=sam, pip=pip, change_summary="Move the coaching day.")
        services.amendment_submit(actor=sam, pip=pip)
        services.amendment_decide(actor=harper, pip=pip, approve=True, comment="Fine.")
        client.force_login(harper)
        body = client.get(audit_url(pip)).content.decode()
        for label in (
            "Refusal to sign recorded",
            "Amendment started",
            "Amendment submitted to HR",
            "Amendment approved",
            "Move the coaching day.",
        ):
            assert label in body, label
        assert 'witness:</dt> <dd class="d-inline text-break">Harper Lee' in body
        assert 'from version:</dt> <dd class="d-inline text-break">1' in body
        # User text is escaped.
        assert "Declined &lt;b&gt;loudly&lt;/b&gt;." in body and "<b>loudly</b>" not in body
        assert "refused to sign; witness Harper Lee" in body
        assert "v2" in body

    def test_page_views_can_be_hidden_and_the_trail_is_paged(self, client, active, sam, harper):
        for _ in range(120):
            services.pip_viewed(actor=sam, pip=active)
        client.force_login(harper)
        first = client.get(audit_url(active))
        total = AuditEvent.objects.filter(pip=active).count()
        assert first.context["page"].paginator.count == total
        assert len(first.context["rows"]) == 100
        second = client.get(audit_url(active), {"page": 2})
        assert len(second.context["rows"]) == total - 100
        assert "Page 2 of 2" in second.content.decode()
        hidden = client.get(audit_url(active), {"views": "hide"})
        actions = {r.event.action for r in hidden.context["rows"]}
        assert "viewed" not in actions and "signed" in actions
        assert client.get(audit_url(active), {"page": "nonsense"}).status_code == 200

    def test_viewing_the_trail_changes_nothing(self, client, active, harper):
        client.force_login(harper)
        before = AuditEvent.objects.filter(pip=active).count()
        client.get(audit_url(active))
        assert AuditEvent.objects.filter(pip=active).count() == before


class TestAccess:
    def test_wrong_method(self, client, active, harper):
        client.force_login(harper)
        assert client.post(audit_url(active)).status_code == 405
        assert client.delete(audit_url(active)).status_code == 405

    def test_only_hr_has_the_button(self, client, active, sam, harper):
        client.force_login(harper)
        labels = [a.label for a in client.get(active.get_absolute_url()).context["actions"]]
        assert "Audit trail" in labels
        client.force_login(sam)
        labels = [a.label for a in client.get(active.get_absolute_url()).context["actions"]]
        assert "Audit trail" not in labels


def test_trail_page_queries_do_not_grow(client, alex, sam, harper, make_plan):
    pip = make_plan(alex, "active", hr=harper)
    client.force_login(harper)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(audit_url(pip)).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(150):
        services.pip_viewed(actor=sam if i % 2 else harper, pip=pip)
    services.amendment_start(actor=sam, pip=pip, change_summary="More time.")
    services.amendment_submit(actor=sam, pip=pip)
    services.amendment_decide(actor=harper, pip=pip, approve=True)
    large = count()
    assert large == small
    assert large <= 18


class TestAppendOnly:
    def test_no_update_or_delete_path_in_code(self, active):
        event = AuditEvent.objects.filter(pip=active).first()
        event.comment = "rewritten"
        with pytest.raises(PermissionError):
            event.save()
        with pytest.raises(PermissionError):
            event.delete()
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pip=active).update(comment="rewritten")
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pip=active).delete()

    def test_no_change_or_delete_in_the_admin(self, client, active, admin_user):
        event = AuditEvent.objects.filter(pip=active).first()
        client.force_login(admin_user)
        change = reverse("admin:pips_auditevent_change", args=[event.pk])
        assert client.get(change).status_code == 200
        assert client.post(change, {"comment": "rewritten"}).status_code == 403
        delete = reverse("admin:pips_auditevent_delete", args=[event.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert client.get(reverse("admin:pips_auditevent_add")).status_code == 403
        assert AuditEvent.objects.get(pk=event.pk).comment == event.comment

    @pytest.mark.postgres
    def test_the_database_refuses_update_and_delete(self, postgres, active):
        event = AuditEvent.objects.filter(pip=active, action="signed").first()
        for sql in (
            "UPDATE pips_auditevent SET comment = 'rewritten', actor_id = NULL WHERE id = %s",
            "DELETE FROM pips_auditevent WHERE id = %s",
            "DELETE FROM pips_auditevent WHERE pip_id = (SELECT pip_id FROM pips_auditevent "
            "WHERE id = %s)",
        ):
            with (
                pytest.raises(Exception, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [event.pk])
        event.refresh_from_db()
        assert event.comment == "" and event.actor is not None
        assert AuditEvent.objects.filter(pip=active).count() > 1
        # Adding is still allowed: it is how the trail grows.
        services.pip_viewed(actor=event.actor, pip=active)
