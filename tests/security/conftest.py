"""The world the security tests request every page against.

Sam's plan for Alex, walked to the state a page needs (an active plan also has a check-in, an
open midpoint review and an amendment being written, so every page of it has something to
show); Olivia's active plan for Blake, which Sam and Alex must never see; a notification of
Alex's; the default template; a password reset link of Alex's; and one user per role.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from metrics import uploads
from metrics.models import MetricLoad, MetricSource
from pips import services
from pips.models import CheckIn, Delegation, Notification, Pip, PipTemplate, Review
from pips.services import CheckInInput
from tests.conftest import make_user
from tests.pips import pdf_support

# The shared fixtures: a signing certificate, so PDF downloads work as in production.
signing_pair = pdf_support.signing_pair
signing = pdf_support.signing

PLAN_STATES = ("draft", "pending_hr", "approved", "issued", "active")

# Who requests each page, in the order the expected table lists them.
ROLES = (
    "anon",  # not logged in
    "agent",  # Alex: the plan is his
    "other_agent",  # Blake: an agent of another team
    "supervisor",  # Sam: Alex's supervisor, who wrote the plan
    "other_supervisor",  # Olivia: supervisor of another team
    "hr",  # Harper
    "admin",  # a superuser without any group: sees every plan, decides nothing
    "analyst",  # loads KPI data; no plans of their own
    # Dana: a supervisor who is also in the HR group, and Alex's current supervisor (the plan
    # was drafted by Sam). She sees the plan whole, but no HR step on it is hers: separation of
    # duties refuses HR actions to whoever holds the plan, wrote its version or signed it as
    # manager.
    "supervisor_hr",
)


WFM_MAPPING = {
    "layout": "long",
    "employee_id": "Agent ID",
    "date": "Date",
    "kpi": "Metric",
    "value": "Value",
    "weight": "Contacts",
}


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


@dataclass
class World:
    users: dict[str, User | None]
    plan: Pip
    other_plan: Pip
    template: PipTemplate
    notification: Notification
    metric_load: MetricLoad
    checkin: CheckIn | None = None
    review: Review | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def clients(self, *, enforce_csrf_checks: bool = False) -> dict[str, Client]:
        """A logged-in client per role. The analyst's session holds a file uploaded and waiting
        to be mapped: its token is theirs alone (anyone else's session gets 404 for it)."""
        clients = {}
        for role, user in self.users.items():
            client = Client(enforce_csrf_checks=enforce_csrf_checks)
            if user is not None:
                client.force_login(user)
            clients[role] = client
        session = clients["analyst"].session
        csv = SimpleUploadedFile("week.csv", b"Agent ID,Date,Metric,Value,Contacts\n", "text/csv")
        stored = uploads.store_upload(session, csv, self.metric_load.source)
        session.save()
        self.extra["upload_token"] = stored.token
        return clients

    def values(self) -> dict[str, object]:
        """What a URL's keyword arguments are filled from, by the name the table uses."""
        version = self.plan.current_version.number if self.plan.current_version_id else 1
        latest = self.plan.versions.order_by("-number").first()
        reset_user = self.users["agent"]
        return {
            "plan": self.plan.pk,
            "other_plan": self.other_plan.pk,
            "template": self.template.pk,
            "notification": self.notification.pk,
            "metric_load": self.metric_load.pk,
            "checkin": self.checkin.pk if self.checkin else 0,
            "review": self.review.pk if self.review else 0,
            "version": version,
            "latest_version": latest.number,
            "uid": urlsafe_base64_encode(force_bytes(reset_user.pk)),
            "token": default_token_generator.make_token(reset_user),
            **self.extra,
        }


@pytest.fixture
def analyst(db) -> User:
    return make_user("quinn", "Quinn", "Analyst", "analyst")


@pytest.fixture
def dana(db) -> User:
    return make_user("dana", "Dana", "Okafor", "supervisor", "hr")


@pytest.fixture
def people(alex, blake, sam, olivia, harper, admin_user, analyst, dana) -> dict[str, User | None]:
    alex.user.email = "alex@example.com"
    alex.user.save(update_fields=["email"])
    return {
        "anon": None,
        "agent": alex.user,
        "other_agent": blake.user,
        "supervisor": sam,
        "other_supervisor": olivia,
        "hr": harper,
        "admin": admin_user,
        "analyst": analyst,
        "supervisor_hr": dana,
    }


@pytest.fixture
def build_world(people, alex, blake, sam, harper, dana, make_plan, template):
    """Build the world with Alex's plan in a given state."""

    def build(state: str) -> World:
        assert state in PLAN_STATES, state
        plan = make_plan(alex, state, hr=harper, start=days_ago(30), days=60)
        other = make_plan(blake, "active", hr=harper, start=days_ago(30), days=60)
        world = World(
            users=people,
            plan=plan,
            other_plan=other,
            template=template,
            notification=Notification.objects.create(
                user=alex.user, pip=plan, text="Your plan is ready", url=plan.get_absolute_url()
            ),
            metric_load=MetricLoad.objects.create(
                source=MetricSource.objects.create(name="WFM", mapping=WFM_MAPPING),
                uploaded_by=people["analyst"],
                filename="week.csv",
                status=MetricLoad.Status.LOADED,
            ),
        )
        if state == "active":
            world.checkin = services.checkin_record(
                actor=sam,
                pip=plan,
                data=CheckInInput(held_on=days_ago(20), attendees="Sam, Alex", notes="On track"),
                snapshot=[],
            )
            world.review, _ = services.review_open(pip=plan, kind=Review.Kind.MIDPOINT)
            services.amendment_start(
                actor=sam, pip=plan, change_summary="Adjust the AHT target after coaching."
            )
        # Sam has named Olivia to cover for him from tomorrow: nothing she may see changes today.
        world.extra["delegation"] = Delegation.objects.create(
            supervisor=sam,
            delegate=people["other_supervisor"],
            start_on=timezone.localdate() + dt.timedelta(days=1),
            end_on=timezone.localdate() + dt.timedelta(days=8),
        ).pk
        # Alex moves to Dana's team after Sam drafted the plan: she is his supervisor now.
        alex.supervisor = dana
        alex.save(update_fields=["supervisor"])
        world.plan = Pip.objects.get(pk=plan.pk)
        return world

    return build
