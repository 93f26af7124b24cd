"""Demo data: a contact center with three teams, 60 agents, 90 days of KPI data and plans in
every lifecycle state. Idempotent: a second run finds everything in place and changes nothing."""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from metrics import rollups
from metrics.models import Kpi, Sample
from pips import services
from pips.models import Agent, Outcome, Pip, PipTemplate, Review, SignerRole, Status, Team
from pips.roster.directory import user_for_employee
from pips.services import RequestMeta, ReviewItemInput, SignatureInput
from pipsystem.identity import invitations
from pipsystem.identity.models import Invitation

DEMO_PASSWORD = "pipsystem-demo"
KPI_DAYS = 90
META = RequestMeta(ip_address="127.0.0.1", user_agent="seed_demo")

TEAMS = [
    ("Billing Support", "Customer Care", "America/New_York"),
    ("Technical Support", "Customer Care", "America/Chicago"),
    ("Retention", "Sales & Retention", "Europe/London"),
]
SUPERVISORS = [
    ("supervisor", "Sam", "Carter"),
    ("supervisor2", "Olivia", "Brooks"),
    ("supervisor3", "Marcus", "Nguyen"),
]
FIRST = [
    "Alex",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Drew",
    "Skyler",
    "Reese",
    "Rowan",
    "Emerson",
    "Finley",
    "Hayden",
    "Kendall",
    "Logan",
    "Parker",
    "Sage",
]
LAST = [
    "Rivera",
    "Patel",
    "Kim",
    "Okafor",
    "Schmidt",
    "Rossi",
    "Haddad",
    "Silva",
    "Novak",
    "Tanaka",
    "Moreau",
    "Kowalski",
    "Jensen",
    "Mensah",
    "Dubois",
    "Larsen",
    "Costa",
    "Ali",
    "Murphy",
    "Ibrahim",
]

# Per KPI: (typical value for a good agent, for a struggling one, daily noise).
PROFILES = {
    "qa_score": (90.0, 72.0, 4.0),
    "aht": (270.0, 420.0, 35.0),
    "csat": (86.0, 71.0, 5.0),
    "adherence": (96.5, 84.0, 2.5),
    "fcr": (79.0, 64.0, 5.0),
    "wrapup": (98.0, 80.0, 4.0),
}

# The lifecycle state each demo plan ends in, and the agent index it belongs to.
PLAN_STATES = [
    Status.ISSUED,  # the `agent` demo account: returned by HR once, issued, waiting to be signed
    Status.DRAFT,
    Status.PENDING_HR,
    Status.APPROVED,
    Status.ACTIVE,
    Status.MIDPOINT,
    Status.FINAL,
    Status.EXTENDED,
    Status.CLOSED_SUCCESSFUL,
    Status.CLOSED_UNSUCCESSFUL,
    Status.CANCELLED,
    Status.ENDED,  # the agent left the company mid-plan
]


class Command(BaseCommand):
    help = "Load the demo contact center (idempotent). Demo logins use the password pipsystem-demo."

    def handle(self, *args, **options) -> None:
        rng = random.Random(20261126)
        with transaction.atomic():
            users = self._users()
            teams = self._teams()
            agents = self._agents(teams, users, rng)
        samples = self._samples(agents, rng)
        plans = self._plans(agents, users)
        invited = self._invitations(agents, users["hr"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(agents)} agents, {samples} new KPI samples, "
                f"{plans} new plans, {len(invited)} new invitations."
            )
        )
        if invited:
            self.stdout.write(
                f"Agents without a plan are invited to join; for example "
                f"{invited[0].user.get_full_name()}: {invitations.link_for(invited[0])}"
            )
        self.stdout.write(
            "Logins (password pipsystem-demo): supervisor, agent, hr, admin "
            "(also supervisor2, supervisor3)."
        )

    # --- people ------------------------------------------------------------------------------

    def _user(self, username: str, first: str, last: str, *, groups=(), superuser=False):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                # The demo password is short on purpose; the validators apply to real users.
                password=make_password(DEMO_PASSWORD),
                is_staff=superuser,
                is_superuser=superuser,
            )
            for name in groups:
                user.groups.add(Group.objects.get(name=name))
        return user

    def _users(self) -> dict:
        users = {
            username: self._user(username, first, last, groups=["supervisor"])
            for username, first, last in SUPERVISORS
        }
        users["hr"] = self._user("hr", "Harper", "Lee", groups=["hr"])
        users["analyst"] = self._user("analyst", "Dana", "Whitfield", groups=["analyst"])
        users["admin"] = self._user("admin", "Ada", "Admin", superuser=True)
        users["agent"] = self._user("agent", "Alex", "Rivera")
        return users

    def _teams(self) -> list[Team]:
        return [
            Team.objects.get_or_create(name=name, defaults={"department": dept, "timezone": tz})[0]
            for name, dept, tz in TEAMS
        ]

    def _agents(self, teams: list[Team], users: dict, rng: random.Random) -> list[Agent]:
        agents = []
        for team_index, team in enumerate(teams):
            supervisor = users[SUPERVISORS[team_index][0]]
            for i in range(20):
                n = team_index * 20 + i
                employee_id = f"E{1001 + n}"
                name = f"{FIRST[i]} {LAST[(i + 7 * team_index) % len(LAST)]}"
                agent = Agent.objects.filter(employee_id=employee_id).first()
                if agent is None:
                    agent = Agent.objects.create(
                        employee_id=employee_id,
                        full_name="Alex Rivera" if n == 0 else name,
                        email=f"{employee_id.lower()}@example.com",
                        team=team,
                        supervisor=supervisor,
                        user=users["agent"] if n == 0 else None,
                        hired_on=dt.date(2022, 1, 10) + dt.timedelta(days=37 * n),
                    )
                agents.append(agent)
        return agents

    # --- KPI data ----------------------------------------------------------------------------

    @staticmethod
    def struggling(index: int) -> bool:
        # The first agents carry the plans (one per state); a few more are below standard with
        # no plan yet, so their supervisors can spot them.
        return index < len(PLAN_STATES) or index in (15, 16, 20, 21, 22, 40, 41)

    def _samples(self, agents: list[Agent], rng: random.Random) -> int:
        kpis = {k.code: k for k in Kpi.objects.all()}
        today = timezone.localdate()
        start = today - dt.timedelta(days=KPI_DAYS)
        rows = []
        for index, agent in enumerate(agents):
            weak = self.struggling(index)
            for day_offset in range(KPI_DAYS):
                day = start + dt.timedelta(days=day_offset)
                if day.weekday() >= 5:
                    continue
                # Struggling agents improve slowly over the last weeks, some more than others.
                progress = max(0.0, (day_offset - 45) / 45) * (0.8 if index % 2 else 0.3)
                calls = rng.randint(25, 60)
                for code, (good, bad, noise) in PROFILES.items():
                    base = bad + (good - bad) * progress if weak else good
                    value = rng.gauss(base, noise)
                    kpi = kpis[code]
                    value = min(max(value, kpi.min_value), kpi.max_value or value)
                    rows.append(
                        Sample(
                            employee_id=agent.employee_id,
                            kpi=kpi,
                            date=day,
                            value=round(value, 1),
                            weight=calls if code in ("aht", "fcr") else 1,
                        )
                    )
        before = Sample.objects.count()
        Sample.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5000)
        rollups.rebuild(start, today)  # written beside the loader: its weeks' totals too
        return Sample.objects.count() - before

    # --- plans -------------------------------------------------------------------------------

    def _plans(self, agents: list[Agent], users: dict) -> int:
        template = PipTemplate.objects.get(is_default=True)
        hr = users["hr"]
        created = 0
        for offset, state in enumerate(PLAN_STATES):
            agent = agents[offset]
            if Pip.objects.filter(agent=agent).exists():
                continue
            supervisor = agent.supervisor
            self._agent_account(agent)
            with transaction.atomic():
                self._plan(agent, supervisor, hr, template, state)
            created += 1
        return created

    def _invitations(self, agents: list[Agent], hr) -> list:
        """Every agent can sign in: those with a plan have a demo login; the others have an
        account without a password and an invitation to join (sent like any other, to the
        console in development). Only people not yet invited, or whose link expired."""
        waiting = []
        for agent in agents:
            user = agent.user if agent.user_id else user_for_employee(agent.employee_id)
            if user is None or invitations.has_joined(user):
                continue
            if not Invitation.objects.usable().filter(user=user).exists():
                waiting.append(user)
        with transaction.atomic():
            return invitations.invitations_send(actor=hr, users=waiting)

    def _agent_account(self, agent: Agent) -> None:
        if agent.user_id is None:
            first, _, last = agent.full_name.partition(" ")
            user = self._user(agent.employee_id.lower(), first, last)
            agent.user = user
            agent.save(update_fields=["user"])

    def _plan(self, agent: Agent, supervisor, hr, template: PipTemplate, state: str) -> Pip:
        today = timezone.localdate()
        # Plans that are further along started longer ago.
        started_days_ago = {
            Status.ACTIVE: 10,
            Status.MIDPOINT: 35,
            Status.FINAL: 31,
            Status.EXTENDED: 31,
            Status.CLOSED_SUCCESSFUL: 45,
            Status.CLOSED_UNSUCCESSFUL: 45,
            Status.CANCELLED: 20,
            Status.ENDED: 15,
        }.get(state, 0)
        long_period = state == Status.MIDPOINT
        start = today - dt.timedelta(days=started_days_ago)
        content = services.content_from_template(template, start=start)
        if long_period:
            content.period_end = start + dt.timedelta(days=60)
            content.final_review_date = content.period_end
            content.midpoint_date = start + dt.timedelta(days=30)
        content.checkin_weekday = 0
        content.description = (
            f"{agent.full_name}'s QA, AHT, CSAT and adherence have been below the team standard "
            "for most of the last three months, as the weekly reports show. This plan sets out "
            "the targets and the support we will give."
        )
        # Targets the data says are not met yet; baselines come from the agent's last 30 days.
        pip = services.pip_create(
            actor=supervisor,
            agent=agent,
            content=content,
            template=template,
            meta=META,
            today=start,
        )
        if state == Status.DRAFT:
            return pip
        pip = services.pip_submit(actor=supervisor, pip=pip, meta=META)
        if state == Status.PENDING_HR:
            return pip
        if state in (Status.CANCELLED, Status.ISSUED):
            # HR returned these once: the `agent` demo login shows that the employee sees none
            # of the drafting between supervisor and HR.
            services.pip_return(
                actor=hr,
                pip=pip,
                comment="Please add the March QA audits and state the AHT target as the team's "
                "5:00, not 4:30.",
                meta=META,
            )
            pip = services.pip_submit(actor=supervisor, pip=pip, meta=META)
        pip = services.pip_approve(actor=hr, pip=pip, meta=META)
        if state == Status.APPROVED:
            return pip
        pip = services.pip_issue(
            actor=supervisor,
            pip=pip,
            meeting_held_on=min(start, today),
            meta=META,
            signature=SignatureInput(typed_name=supervisor.get_full_name(), consent=True),
        )
        if state == Status.ISSUED:
            return pip
        if state == Status.CANCELLED:
            return services.pip_cancel(
                actor=hr,
                pip=pip,
                meta=META,
                reason="The agent moved to another role before the plan started.",
            )
        version = pip.current_version
        services.signature_add(
            actor=agent.user,
            pip=pip,
            version=version,
            role=SignerRole.AGENT,
            meta=META,
            data=SignatureInput(
                typed_name=agent.full_name,
                consent=True,
                agrees=True,
                comments="I will work on my call handling.",
            ),
        )
        services.signature_add(
            actor=hr,
            pip=pip,
            version=version,
            role=SignerRole.HR,
            meta=META,
            data=SignatureInput(typed_name=hr.get_full_name(), consent=True),
        )
        pip.refresh_from_db()
        if state == Status.ACTIVE:
            return pip
        if state == Status.ENDED:
            return services.pip_end_employment(actor=hr, pip=pip, ended_on=today, meta=META)
        if long_period:
            review, _ = services.review_open(pip=pip, kind=Review.Kind.MIDPOINT)
            services.midpoint_record(
                actor=supervisor,
                review=review,
                meta=META,
                summary="Good progress on QA and adherence; AHT still high.",
                items=[
                    ReviewItemInput(
                        expectation_id=e.pk,
                        confirmed=e.kpi is None or e.kpi.code != "aht",
                        evidence="Weekly reports",
                    )
                    for e in version.expectations.all()
                ],
                suggestions={},
            )
            return pip
        review, _ = services.review_open(pip=pip, kind=Review.Kind.FINAL)
        if state == Status.FINAL:
            return pip
        outcome = {
            Status.EXTENDED: Outcome.EXTENDED,
            Status.CLOSED_SUCCESSFUL: Outcome.SUCCESSFUL,
            Status.CLOSED_UNSUCCESSFUL: Outcome.UNSUCCESSFUL,
        }[state]
        met = outcome == Outcome.SUCCESSFUL
        services.final_record(
            actor=supervisor,
            review=review,
            outcome=outcome,
            meta=META,
            summary={
                Outcome.SUCCESSFUL: "All targets met for the last three weeks. Well done.",
                Outcome.EXTENDED: "Close to target on QA and CSAT; two more weeks agreed.",
                Outcome.UNSUCCESSFUL: "Targets were not met despite weekly coaching.",
            }[outcome],
            items=[
                ReviewItemInput(expectation_id=e.pk, confirmed=met, evidence="Weekly reports")
                for e in version.expectations.all()
            ],
            suggestions={},
            new_end_date=version.period_end + dt.timedelta(days=14)
            if outcome == Outcome.EXTENDED
            else None,
        )
        if outcome == Outcome.UNSUCCESSFUL:
            services.pip_decide(
                actor=hr,
                pip=pip,
                meta=META,
                outcome=Outcome.UNSUCCESSFUL,
                typed_name=hr.get_full_name(),
                decision="Reviewed the plan, the check-ins and the data with the supervisor.",
                consequence="Written warning; role review in 30 days.",
            )
        pip.refresh_from_db()
        return pip
