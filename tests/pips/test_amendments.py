"""Content is frozen from issue on; a change is an amendment: a new version, shown with what it
changes section by section, approved by HR and signed again, while the old version and its
signatures stay readable."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from pips import services
from pips.content import ActionData, content_from_version, content_hash
from pips.diff import ADDED, CHANGED, MOVED, REMOVED, diff_content, version_diff, word_segments
from pips.models import (
    AuditEvent,
    Expectation,
    Pip,
    PipVersion,
    Signature,
    SignerRole,
    Status,
    VersionState,
)
from pips.selectors import version_with_sections
from pips.services import SignatureInput, TransitionError

pytestmark = pytest.mark.django_db


def url(name: str, pip: Pip, *args) -> str:
    return reverse(name, args=[pip.pk, *args])


def start(pip: Pip, sam, summary: str = "Coaching moves to Wednesdays.") -> PipVersion:
    return services.amendment_start(actor=sam, pip=pip, change_summary=summary)


def edit_amendment(pip: Pip, sam) -> None:
    """What the edit page does with an amendment draft: AHT target 5:00 → 4:45, a new coaching
    action, one reason fewer and one more report."""
    draft = pip.versions.get(number=pip.versions.count())
    content = content_from_version(draft)
    aht = next(e for e in content.expectations if e.area.startswith("AHT"))
    aht.target = 285.0
    content.actions.append(
        ActionData(
            action="Side-by-side coaching with a QA analyst",
            responsible="QA analyst",
            deadline_kind="recurring",
            recurrence_weekdays=[2],
            records_sessions=True,
        )
    )
    content.reasons.pop()
    content.monitoring_reports += "\nCall recordings reviewed with QA"
    content.change_summary = draft.change_summary
    services.pip_update_draft(actor=sam, pip=pip, content=content)


@pytest.fixture
def active(alex, harper, make_plan) -> Pip:
    return make_plan(alex, "active", hr=harper)


# --- frozen content ----------------------------------------------------------------------------


class TestFrozen:
    def test_an_edit_after_issue_is_refused(self, alex, sam, harper, make_plan, template):
        from tests.conftest import plan_content

        for state in ("issued", "active"):
            pip = make_plan(alex, state, hr=harper)
            version = pip.current_version
            before = content_hash(version)
            content = plan_content(template)
            content.description = "Rewritten after the meeting."
            with pytest.raises(TransitionError, match="frozen"):
                services.pip_update_draft(actor=sam, pip=pip, content=content)
            version.refresh_from_db()
            assert version.description != "Rewritten after the meeting."
            assert (
                content_hash(version_with_sections(version.pk)) == before == version.content_sha256
            )
            assert not AuditEvent.objects.filter(pip=pip, action="edited").exists()
            services.pip_cancel(actor=harper, pip=pip, reason="Next case.")

    def test_the_plan_page_offers_no_edit_after_issue(self, client, alex, sam, harper, make_plan):
        pip = make_plan(alex, "issued", hr=harper)
        client.force_login(sam)
        labels = [a.label for a in client.get(pip.get_absolute_url()).context["actions"]]
        assert "Edit draft" not in labels

    def test_an_amendment_is_refused_before_the_plan_runs(
        self, client, alex, sam, harper, make_plan
    ):
        pip = make_plan(alex, "issued", hr=harper)
        client.force_login(sam)
        page = client.get(url("pips:amend", pip)).content.decode()
        assert "Only a plan that is running" in page
        response = client.post(url("pips:amend", pip), {"change_summary": "Change it."})
        assert response.status_code == 200
        assert "You cannot amend a plan that is issued" in response.content.decode()
        assert pip.versions.count() == 1


# --- the differences ---------------------------------------------------------------------------


def canonical(**header) -> dict:
    base = {
        "plan": 1,
        "version": 1,
        "header": {
            "employee_name": "Alex Rivera",
            "period_start": "2026-01-05",
            "period_end": "2026-02-04",
            "issued_on": "2026-01-05",
            "monitoring_reports": "Weekly QA report",
            "checkin_weekday": 1,
        },
        "reasons": [{"text": "AHT above 5 minutes", "kpi_id": None}],
        "expectations": [],
        "actions": [],
    }
    base["header"].update(header)
    return base


class TestDiff:
    def test_identical_content_has_no_changes(self):
        diff = diff_content(canonical(), canonical())
        assert not diff.has_changes and diff.changed_sections == []

    def test_header_fields_are_compared_and_shown_as_people_read_them(self):
        new = canonical(period_end="2026-02-18", checkin_weekday=3)
        new["version"] = 2
        diff = diff_content(canonical(), new)
        assert (diff.old_number, diff.new_number) == (1, 2)
        header = next(s for s in diff.sections if s.key == "header")
        change = header.fields[0]
        assert (change.label, change.old, change.new) == (
            "Review period to",
            "04 Feb 2026",
            "18 Feb 2026",
        )
        monitoring = next(s for s in diff.sections if s.key == "monitoring")
        assert [(f.old, f.new) for f in monitoring.fields] == [("Tuesday", "Thursday")]
        assert [s.key for s in diff.changed_sections] == ["header", "monitoring"]

    def test_header_dates_and_the_other_section_read_in_the_readers_language(self):
        new = canonical(period_end="2026-02-18", new_thing="sí")
        with translation.override("es"):
            diff = diff_content(canonical(), new)
        header = next(s for s in diff.sections if s.key == "header")
        change = header.fields[0]
        assert (change.old, change.new) == ("4 de febrero de 2026", "18 de febrero de 2026")
        assert diff.sections[-1].key == "other" and diff.sections[-1].title == "Otros"

    def test_the_issue_date_is_not_an_edit(self):
        assert not diff_content(canonical(), canonical(issued_on="2026-03-01")).has_changes

    def test_an_unknown_header_field_still_shows(self):
        diff = diff_content(canonical(), canonical(new_thing="yes"))
        other = diff.sections[-1]
        assert other.key == "other" and other.fields[0].label == "New thing"

    def test_long_text_marks_the_words_that_changed(self):
        new = canonical(monitoring_reports="Weekly QA report and call recordings\nWFM adherence")
        change = diff_content(canonical(), new).sections[4].fields[0]
        assert change.segments
        inserted = "".join(s.text for s in change.segments if s.op == "insert")
        assert "call recordings" in inserted
        segments = word_segments("one two three", "one four three")
        assert [(s.op, s.text) for s in segments] == [
            ("equal", "one "),
            ("delete", "two"),
            ("insert", "four"),
            ("equal", " three"),
        ]

    def test_rows_match_by_lineage_then_name_and_report_moves(self):
        def action(name, responsible="Agent"):
            return {"action": name, "responsible": responsible, "deadline_kind": "ongoing"}

        old = canonical()
        new = canonical()
        old["actions"] = [action("Coaching"), action("Shadowing"), action("Checklist")]
        new["actions"] = [
            action("Checklist"),  # moved to the top
            action("Coaching twice a week", responsible="Supervisor"),  # renamed, same lineage
            action("Refresher training"),  # added
        ]  # and Shadowing removed
        diff = diff_content(
            old,
            new,
            old_lineages={"actions": ["a", "b", "c"]},
            new_lineages={"actions": ["c", "a", "x"]},
        )
        rows = next(s for s in diff.sections if s.key == "actions").rows
        kinds = {(r.kind, r.title) for r in rows}
        assert (CHANGED, "Coaching twice a week") in kinds
        assert (REMOVED, "Shadowing") in kinds
        assert (ADDED, "Refresher training") in kinds
        assert (MOVED, "Checklist") in kinds
        renamed = next(r for r in rows if r.kind == CHANGED)
        assert {f.name: (f.old, f.new) for f in renamed.fields} == {
            "action": ("Coaching", "Coaching twice a week"),
            "responsible": ("Agent", "Supervisor"),
        }
        assert renamed.old_position == 1 and renamed.new_position == 2
        assert (diff.added_rows, diff.removed_rows, diff.changed_rows) == (1, 1, 2)

    def test_reasons_without_lineage_pair_by_similar_text(self):
        new = canonical()
        new["reasons"] = [{"text": "AHT above 5 minutes for 3 months", "kpi_id": None}]
        rows = diff_content(canonical(), new).sections[1].rows
        assert [r.kind for r in rows] == [CHANGED]
        new["reasons"] = [{"text": "Late logins", "kpi_id": None}]
        rows = diff_content(canonical(), new).sections[1].rows
        assert sorted(r.kind for r in rows) == [ADDED, REMOVED]

    def test_version_diff_uses_kpi_units(self, active, sam):
        start(active, sam)
        edit_amendment(active, sam)
        old = version_with_sections(active.current_version_id)
        new = version_with_sections(active.versions.get(number=2).pk)
        with CaptureQueriesContext(connection) as ctx:
            diff = version_diff(old, new)
        assert len(ctx.captured_queries) == 0
        expectations = next(s for s in diff.sections if s.key == "expectations")
        (row,) = expectations.rows
        assert row.title == "AHT (Avg. Handle Time)" and row.kind == CHANGED
        assert [(f.label, f.old, f.new) for f in row.fields] == [("Target", "5:00", "4:45")]
        assert expectations.unchanged_rows == 4
        actions = next(s for s in diff.sections if s.key == "actions")
        added = next(r for r in actions.rows if r.kind == ADDED)
        shown = {f.label: f.new for f in added.fields}
        assert shown["Recurs on"] == "Wednesday" and shown["Sessions recorded"] == "Yes"
        reasons = next(s for s in diff.sections if s.key == "reasons")
        assert [r.kind for r in reasons.rows] == [REMOVED]


# --- the amendment, through the pages ----------------------------------------------------------


class TestAmendmentPages:
    def test_amend_diff_approve_and_sign_again(
        self, client, active, alex, sam, harper, django_capture_on_commit_callbacks
    ):
        v1 = active.current_version
        v1_signatures = set(Signature.objects.filter(version=v1).values_list("pk", flat=True))
        # The supervisor starts an amendment with a change summary.
        client.force_login(sam)
        page = client.get(url("pips:amend", active))
        assert page.status_code == 200 and 'name="change_summary"' in page.content.decode()
        response = client.post(
            url("pips:amend", active), {"change_summary": "Coaching moves to Wednesdays."}
        )
        assert response.status_code == 302
        assert response["Location"] == url("pips:amendment", active)
        v2 = active.versions.get(number=2)
        assert (
            v2.state == VersionState.DRAFT and v2.change_summary == "Coaching moves to Wednesdays."
        )
        assert AuditEvent.objects.get(pip=active, action="amendment_started").version == v2
        page = client.get(url("pips:amendment", active)).content.decode()
        assert "version 2 says the same as version 1" in page
        assert f'href="/pips/{active.pk}/edit/"' in page and "Edit the amendment" in page
        # While it is in progress, "Amend" leads to it instead of starting another.
        assert client.get(url("pips:amend", active))["Location"] == url("pips:amendment", active)
        # Edited (as the edit page does), the differences show section by section.
        edit_amendment(active, sam)
        page = client.get(url("pips:amendment", active)).content.decode()
        assert "2. Performance Expectations" in page and "AHT (Avg. Handle Time)" in page
        assert '<del class="diff-del">5:00</del>' in page
        assert '<ins class="diff-ins">4:45</ins>' in page
        assert "Side-by-side coaching with a QA analyst" in page and "Added" in page
        assert "Removed" in page and "QA scores below the team threshold" in page
        assert "Call recordings reviewed with QA" in page
        assert "4 other rows unchanged." in page
        # Submitted to HR, from the button on the page.
        assert f'action="{url("pips:amendment_submit", active)}"' in page
        response = client.post(url("pips:amendment_submit", active))
        assert response.status_code == 302
        v2.refresh_from_db()
        assert v2.state == VersionState.PENDING_HR
        # HR returns it without a reason: refused, nothing changes.
        client.force_login(harper)
        page = client.get(url("pips:amendment", active)).content.decode()
        assert "Approve the amendment" in page and "Return it to the supervisor" in page
        assert f'action="{url("pips:amendment_decide", active)}"' in page
        response = client.post(url("pips:amendment_decide", active), {"decision": "return"})
        assert response.status_code == 200
        assert "Say what needs to change before returning it." in response.content.decode()
        v2.refresh_from_db()
        assert v2.state == VersionState.PENDING_HR
        # HR returns it with comments; the supervisor sees them and resubmits.
        client.post(
            url("pips:amendment_decide", active),
            {"decision": "return", "comment": "Say which analyst."},
        )
        v2.refresh_from_db()
        assert v2.state == VersionState.DRAFT
        client.force_login(sam)
        page = client.get(url("pips:amendment", active)).content.decode()
        assert "HR returned this amendment" in page and "Say which analyst." in page
        client.post(url("pips:amendment_submit", active))
        # HR approves: version 2 is in force, version 1 superseded.
        client.force_login(harper)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url("pips:amendment_decide", active), {"decision": "approve", "comment": ""}
            )
        assert response.status_code == 302
        pip = Pip.objects.get(pk=active.pk)
        v1.refresh_from_db()
        v2.refresh_from_db()
        assert pip.current_version == v2 and pip.status == Status.ACTIVE
        assert (v1.state, v2.state) == (VersionState.SUPERSEDED, VersionState.ISSUED)
        assert v2.content_sha256 == content_hash(version_with_sections(v2.pk))
        assert v2.content_sha256 != v1.content_sha256
        # Signed again: the manager first, then the employee, then HR, on the sign page.
        client.force_login(sam)
        labels = [a.label for a in client.get(pip.get_absolute_url()).context["actions"]]
        assert "Sign as manager" in labels
        page = client.get(url("pips:sign", pip)).content.decode()
        assert "Sign as manager" in page and "This is version 2 of the plan" in page
        assert url("pips:version_changes", pip, 2) in page
        response = client.post(
            url("pips:sign", pip), {"consent": "on", "typed_name": "Sam Carter", "version": "2"}
        )
        assert response.status_code == 302
        client.force_login(alex.user)
        page = client.get(url("pips:sign", pip)).content.decode()
        assert "See what changed from version 1" in page
        response = client.post(
            url("pips:sign", pip),
            {
                "agreement": "agree",
                "consent": "on",
                "typed_name": "Alex Rivera",
                "version": "2",
            },
        )
        assert response.status_code == 302
        client.force_login(harper)
        response = client.post(
            url("pips:sign", pip), {"consent": "on", "typed_name": "Harper Lee", "version": "2"}
        )
        assert response.status_code == 302
        roles = set(Signature.objects.filter(version=v2).values_list("role", flat=True))
        assert roles == {SignerRole.MANAGER, SignerRole.AGENT, SignerRole.HR}
        assert AuditEvent.objects.filter(pip=pip, action="amendment_acknowledged").count() == 1
        assert all(
            s.content_sha256 == v2.content_sha256 for s in Signature.objects.filter(version=v2)
        )
        # The old version and its signatures stay readable, and still valid.
        assert set(Signature.objects.filter(version=v1).values_list("pk", flat=True)) == (
            v1_signatures
        )
        page = client.get(url("pips:version", pip, 1))
        assert page.status_code == 200
        assert [valid for _, valid in page.context["signatures"]] == [True, True, True]
        assert "(superseded)" in page.content.decode()
        page = client.get(pip.get_absolute_url()).content.decode()
        assert "What v2 changed" in page
        # Everyone who sees the plan can read what version 2 changed.
        client.force_login(alex.user)
        changes = client.get(url("pips:version_changes", pip, 2))
        assert changes.status_code == 200
        assert '<ins class="diff-ins">4:45</ins>' in changes.content.decode()

    def test_the_agent_cannot_read_a_draft_amendment(self, client, active, alex, sam):
        start(active, sam)
        client.force_login(alex.user)
        assert client.get(url("pips:version_changes", active, 2)).status_code == 403
        assert client.get(url("pips:amendment", active)).status_code == 403
        assert client.get(url("pips:version_changes", active, 1)).status_code == 404
        assert client.get(url("pips:version_changes", active, 9)).status_code == 404

    def test_no_amendment_in_progress(self, client, active, sam, harper):
        client.force_login(harper)
        page = client.get(url("pips:amendment", active)).content.decode()
        assert "No amendment of this plan is in progress" in page
        client.force_login(sam)
        page = client.get(url("pips:amendment", active)).content.decode()
        assert url("pips:amend", active) in page

    def test_bad_input_saves_nothing(self, client, active, sam):
        client.force_login(sam)
        response = client.post(url("pips:amend", active), {"change_summary": "   "})
        assert response.status_code == 200
        assert "Say why the plan is being amended." in response.content.decode()
        assert active.versions.count() == 1
        assert not AuditEvent.objects.filter(pip=active, action="amendment_started").exists()

    def test_an_invalid_amendment_cannot_be_submitted(self, client, active, sam):
        start(active, sam)
        draft = active.versions.get(number=2)
        content = content_from_version(draft)
        content.actions = []
        with pytest.raises(ValidationError):
            services.pip_update_draft(actor=sam, pip=active, content=content)
        # Broken behind the services' back, submitting it says why and keeps it a draft.
        draft.actions.all().delete()
        client.force_login(sam)
        response = client.post(url("pips:amendment_submit", active))
        assert response.status_code == 200
        assert "Add at least one action item." in response.content.decode()
        draft.refresh_from_db()
        assert draft.state == VersionState.DRAFT

    def test_wrong_methods(self, client, active, sam, harper):
        start(active, sam)
        client.force_login(sam)
        assert client.put(url("pips:amend", active)).status_code == 405
        assert client.post(url("pips:amendment", active)).status_code == 405
        assert client.get(url("pips:amendment_submit", active)).status_code == 405
        client.force_login(harper)
        assert client.get(url("pips:amendment_decide", active)).status_code == 405
        assert client.post(url("pips:version_changes", active, 2)).status_code == 405

    def test_outsiders_get_404(self, client, active, sam, olivia, blake):
        start(active, sam)
        for user in (olivia, blake.user):
            client.force_login(user)
            for name in ("pips:amend", "pips:amendment"):
                assert client.get(url(name, active)).status_code == 404
            assert (
                client.post(url("pips:amend", active), {"change_summary": "x"}).status_code == 404
            )
            assert client.post(url("pips:amendment_submit", active)).status_code == 404
            assert (
                client.post(
                    url("pips:amendment_decide", active), {"decision": "approve"}
                ).status_code
                == 404
            )
            assert client.get(url("pips:version_changes", active, 2)).status_code == 404
        assert active.versions.get(number=2).state == VersionState.DRAFT

    def test_wrong_roles_get_403(self, client, active, alex, sam, harper):
        client.force_login(harper)
        assert client.get(url("pips:amend", active)).status_code == 403
        assert client.post(url("pips:amend", active), {"change_summary": "x"}).status_code == 403
        start(active, sam)
        assert client.post(url("pips:amendment_submit", active)).status_code == 403
        services.amendment_submit(actor=sam, pip=active)
        client.force_login(sam)
        response = client.post(url("pips:amendment_decide", active), {"decision": "approve"})
        assert response.status_code == 403
        client.force_login(alex.user)
        response = client.post(url("pips:amendment_decide", active), {"decision": "approve"})
        assert response.status_code == 403
        assert active.versions.get(number=2).state == VersionState.PENDING_HR
        assert not AuditEvent.objects.filter(pip=active, action="amendment_approved").exists()

    def test_amendment_page_queries_do_not_grow(self, client, active, sam):
        start(active, sam)
        edit_amendment(active, sam)
        client.force_login(sam)

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url("pips:amendment", active)).status_code == 200
            return len(ctx.captured_queries)

        small = count()
        draft = active.versions.get(number=2)
        Expectation.objects.bulk_create(
            Expectation(version=draft, area=f"Area {i}", standard_text="Always") for i in range(30)
        )
        for _ in range(30):
            services.pip_viewed(actor=sam, pip=active)
        large = count()
        assert large == small
        assert large <= 30


def test_a_new_version_needs_every_signature_again(active, alex, sam, harper):
    start(active, sam)
    services.amendment_submit(actor=sam, pip=active)
    services.amendment_decide(actor=harper, pip=active, approve=True)
    pip = Pip.objects.get(pk=active.pk)
    v2 = pip.current_version
    # The employee cannot sign before the manager, HR not before the employee.
    with pytest.raises(TransitionError, match="manager signs first"):
        services.signature_add(
            actor=alex.user,
            pip=pip,
            version=v2,
            role=SignerRole.AGENT,
            data=SignatureInput(typed_name="Alex Rivera", consent=True, agrees=True),
        )
    with pytest.raises(TransitionError, match="after the employee"):
        services.signature_add(
            actor=harper,
            pip=pip,
            version=v2,
            role=SignerRole.HR,
            data=SignatureInput(typed_name="Harper Lee", consent=True),
        )
    assert not Signature.objects.filter(version=v2).exists()


def test_hr_cannot_decide_on_an_amendment_they_wrote(active, sam, harper):
    """A supervisor who is also in HR cannot approve their own amendment, as with a plan."""
    sam.groups.add(harper.groups.get(name="hr"))
    sam = type(sam).objects.get(pk=sam.pk)  # roles are cached on the user object
    start(active, sam)
    services.amendment_submit(actor=sam, pip=active)
    for approve in (True, False):
        with pytest.raises(PermissionDenied, match="another HR representative acts as HR"):
            services.amendment_decide(actor=sam, pip=active, approve=approve, comment="Fine.")
    assert not AuditEvent.objects.filter(
        pip=active, action__in=["amendment_approved", "amendment_returned"]
    ).exists()
    services.amendment_decide(actor=harper, pip=active, approve=True)
    assert Pip.objects.get(pk=active.pk).current_version.number == 2
