"""The changes real plans go through: a pause for documented leave, a transfer to another
supervisor, the employee leaving the company, and a delegate covering for a supervisor."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from pips import selectors, services
from pips.content import content_hash
from pips.models import AuditEvent, Pip, Reminder, ScheduleItem, Status
from pips.printing import render
from pips.reminders.sweep import sweep as run_sweep
from pips.services import CheckInInput
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


@pytest.fixture
def active(alex, harper, make_plan) -> Pip:
    """A 60-day plan that started twelve days ago."""
    return make_plan(alex, "active", hr=harper, start=days_ago(12), days=60)


def pending(pip: Pip) -> dict[str, list[dt.date]]:
    items = ScheduleItem.objects.filter(pip=pip, done_at__isnull=True, cancelled_at__isnull=True)
    result: dict[str, list[dt.date]] = {}
    for item in items.order_by("due_on"):
        result.setdefault(item.kind, []).append(item.due_on)
    return result


# --- Leave --------------------------------------------------------------------------------------


class TestPause:
    def test_pause_for_ten_days_moves_the_schedule_by_ten_days(self, active, harper):
        """Ten days of leave from two days into the plan, recorded once the employee is back."""
        start = days_ago(10)
        before = pending(active)
        services.pip_pause(
            actor=harper,
            pip=active,
            kind="sick_leave",
            note="Doctor's note on file.",
            start_on=start,
        )
        assert Pip.objects.get(pk=active.pk).paused_since == start
        assert pending(active) == {}
        services.pip_resume(actor=harper, pip=active, resume_on=start + dt.timedelta(days=10))
        after = pending(active)
        shift = dt.timedelta(days=10)
        assert after["final"] == [d + shift for d in before["final"]]
        assert after["midpoint"] == [d + shift for d in before["midpoint"]]
        # Check-ins before the leave stay where they were; those after it move.
        assert after["checkin"] == [d if d < start else d + shift for d in before["checkin"]]
        pip = Pip.objects.get(pk=active.pk)
        assert pip.paused_since is None and pip.paused_days == 10
        assert pip.period_end() == pip.current_version.period_end + shift
        # The signed content is untouched: the pause is on the record beside it.
        assert pip.current_version.content_sha256 == content_hash(pip.current_version)
        actions = list(pip.events.values_list("action", flat=True))
        assert actions[-2:] == ["paused", "resumed"]
        assert pip.events.get(action="paused").comment == "Doctor's note on file."

    def test_reminders_stop_while_paused(self, active, harper):
        services.pip_pause(
            actor=harper,
            pip=active,
            kind="statutory_leave",
            note="Parental leave.",
            start_on=timezone.localdate(),
        )
        # A month on, nothing of the plan's is reminded.
        with time_machine.travel(timezone.now() + dt.timedelta(days=30)):
            run_sweep()
        assert not Reminder.objects.filter(pip=active).exists()

    def test_check_ins_refused_while_paused(self, active, harper, sam):
        services.pip_pause(
            actor=harper,
            pip=active,
            kind="sick_leave",
            note="Note.",
            start_on=timezone.localdate(),
        )
        with pytest.raises(ValidationError):
            services.checkin_record(
                actor=sam, pip=active, data=CheckInInput(held_on=timezone.localdate()), snapshot=[]
            )

    def test_the_pause_is_on_the_page_and_the_pdf(self, client, active, harper, alex):
        services.pip_pause(
            actor=harper,
            pip=active,
            kind="sick_leave",
            note="Doctor's note on file.",
            start_on=days_ago(10),
        )
        services.pip_resume(actor=harper, pip=active, resume_on=timezone.localdate())
        client.force_login(alex.user)
        page = client.get(f"/pips/{active.pk}/").content.decode()
        assert "Paused for sick leave" in page and "10 days" in page
        version = active.current_version
        html = render.print_html(
            pip=active, version=version, current_hash=content_hash(version), audience="employee"
        )
        assert "Paused for sick leave" in html and "10 days" in html

    def test_only_hr_or_the_supervisor_and_a_reason(self, active, alex, olivia, harper):
        for user in (alex.user, olivia):
            with pytest.raises(PermissionDenied):
                services.pip_pause(
                    actor=user,
                    pip=active,
                    kind="sick_leave",
                    note="n",
                    start_on=timezone.localdate(),
                )
        with pytest.raises(ValidationError):
            services.pip_pause(
                actor=harper, pip=active, kind="holiday", note="", start_on=timezone.localdate()
            )

    def test_pause_page(self, client, active, sam):
        client.force_login(sam)
        response = client.post(
            f"/pips/{active.pk}/pause/",
            {"kind": "sick_leave", "note": "Doctor's note.", "start_on": timezone.localdate()},
        )
        assert response.status_code == 302
        assert Pip.objects.get(pk=active.pk).paused_since == timezone.localdate()


# --- Transfer -----------------------------------------------------------------------------------


@pytest.fixture
def noah(db):
    return make_user("noah", "Noah", "Fischer", "supervisor")


class TestReassign:
    def test_hr_reassigns_access_follows(self, client, active, harper, sam, noah):
        services.pip_reassign(
            actor=harper, pip=active, supervisor=noah, reason="Sam moved to the Retention team."
        )
        client.force_login(sam)
        assert client.get(f"/pips/{active.pk}/").status_code == 404
        client.force_login(noah)
        assert client.get(f"/pips/{active.pk}/").status_code == 200
        services.checkin_record(
            actor=noah, pip=active, data=CheckInInput(held_on=timezone.localdate()), snapshot=[]
        )
        with pytest.raises(PermissionDenied):
            services.checkin_record(
                actor=sam, pip=active, data=CheckInInput(held_on=days_ago(1)), snapshot=[]
            )

    def test_history_shows_who_held_it_when(self, client, active, harper, sam, noah):
        services.pip_reassign(actor=harper, pip=active, supervisor=noah, reason="Sam left.")
        holders = selectors.pip_holders(Pip.objects.get(pk=active.pk))
        assert [h.supervisor for h in holders] == [sam, noah]
        assert holders[0].until == holders[1].since and holders[1].until is None
        client.force_login(harper)
        page = client.get(f"/pips/{active.pk}/").content.decode()
        assert "Held by" in page and "Noah Fischer" in page and "Sam Carter" in page

    def test_reminders_go_to_the_new_supervisor(self, active, harper, noah, sam):
        services.pip_reassign(actor=harper, pip=active, supervisor=noah, reason="Sam left.")
        first = ScheduleItem.objects.filter(pip=active, kind="checkin").order_by("due_at").first()
        with time_machine.travel(first.due_at - dt.timedelta(hours=20)):
            run_sweep()
        recipients = set(Reminder.objects.filter(pip=active).values_list("recipient", flat=True))
        assert noah.pk in recipients and sam.pk not in recipients

    def test_new_supervisor_signs_the_next_version_as_manager(self, active, harper, noah):
        services.pip_reassign(actor=harper, pip=active, supervisor=noah, reason="Sam left.")
        version = services.amendment_start(actor=noah, pip=active, change_summary="AHT target.")
        assert version.supervisor_name == "Noah Fischer"

    def test_only_hr_and_only_to_a_supervisor(self, active, sam, noah, alex, harper):
        with pytest.raises(PermissionDenied):
            services.pip_reassign(actor=sam, pip=active, supervisor=noah, reason="r")
        with pytest.raises(ValidationError):
            services.pip_reassign(actor=harper, pip=active, supervisor=alex.user, reason="r")
        with pytest.raises(ValidationError):
            services.pip_reassign(actor=harper, pip=active, supervisor=sam, reason="r")

    def test_roster_import_may_call_it_without_an_actor(self, active, noah):
        services.pip_reassign(actor=None, pip=active, supervisor=noah, reason="Roster import.")
        event = AuditEvent.objects.filter(pip=active, action="reassigned").get()
        assert event.actor is None and event.changes["to"] == "Noah Fischer"

    def test_reassign_page(self, client, active, harper, noah):
        client.force_login(harper)
        assert client.get(f"/pips/{active.pk}/reassign/").status_code == 200
        response = client.post(
            f"/pips/{active.pk}/reassign/", {"supervisor": noah.pk, "reason": "Sam left."}
        )
        assert response.status_code == 302
        assert Pip.objects.get(pk=active.pk).supervisor == noah


class TestEmploymentEnded:
    def test_ends_the_plan(self, active, harper):
        services.pip_end_employment(actor=harper, pip=active, ended_on=timezone.localdate())
        pip = Pip.objects.get(pk=active.pk)
        assert pip.status == Status.ENDED and pip.cancel_reason == "Employment ended"
        assert pending(pip) == {}
        assert not pip.agent.is_active
        assert pip.events.last().action == "employment_ended"

    def test_roster_import_may_call_it(self, active):
        services.pip_end_employment(actor=None, pip=active, ended_on=timezone.localdate())
        assert Pip.objects.get(pk=active.pk).status == Status.ENDED

    def test_not_by_the_supervisor(self, active, sam):
        with pytest.raises(PermissionDenied):
            services.pip_end_employment(actor=sam, pip=active, ended_on=timezone.localdate())


# --- Cover --------------------------------------------------------------------------------------


class TestCover:
    def test_delegate_records_a_check_in_on_behalf_of(self, client, active, sam, olivia):
        today = timezone.localdate()
        services.delegation_add(
            actor=sam, delegate=olivia, start_on=today, end_on=today + dt.timedelta(days=7)
        )
        client.force_login(olivia)
        assert client.get(f"/pips/{active.pk}/").status_code == 200
        checkin = services.checkin_record(
            actor=olivia, pip=active, data=CheckInInput(held_on=today), snapshot=[]
        )
        assert checkin.recorded_by == olivia and checkin.on_behalf_of == sam
        event = AuditEvent.objects.filter(pip=active, action="checkin_recorded").last()
        assert event.actor == olivia and event.changes["on_behalf_of"] == "Sam Carter"
        page = client.get(f"/pips/{active.pk}/checkins/{checkin.pk}/").content.decode()
        assert "on behalf of Sam Carter" in page

    def test_outside_the_range_nothing(self, client, active, sam, olivia):
        today = timezone.localdate()
        services.delegation_add(
            actor=sam,
            delegate=olivia,
            start_on=today + dt.timedelta(days=3),
            end_on=today + dt.timedelta(days=7),
        )
        client.force_login(olivia)
        assert client.get(f"/pips/{active.pk}/").status_code == 404
        with pytest.raises(PermissionDenied):
            services.checkin_record(
                actor=olivia, pip=active, data=CheckInInput(held_on=today), snapshot=[]
            )

    def test_delegate_does_not_sign_or_amend(self, active, sam, olivia):
        today = timezone.localdate()
        services.delegation_add(actor=sam, delegate=olivia, start_on=today, end_on=today)
        with pytest.raises(PermissionDenied):
            services.amendment_start(actor=olivia, pip=active, change_summary="x")

    def test_bad_ranges_and_people(self, sam, olivia, alex):
        today = timezone.localdate()
        with pytest.raises(ValidationError):
            services.delegation_add(
                actor=sam, delegate=olivia, start_on=today, end_on=today - dt.timedelta(days=1)
            )
        with pytest.raises(ValidationError):
            services.delegation_add(actor=sam, delegate=sam, start_on=today, end_on=today)
        with pytest.raises(ValidationError):
            services.delegation_add(actor=sam, delegate=alex.user, start_on=today, end_on=today)

    def test_cover_page(self, client, sam, olivia):
        client.force_login(sam)
        today = timezone.localdate()
        response = client.post(
            "/pips/cover/",
            {"delegate": olivia.pk, "start_on": today, "end_on": today + dt.timedelta(days=5)},
        )
        assert response.status_code == 302
        assert "Olivia Brooks" in client.get("/pips/cover/").content.decode()
