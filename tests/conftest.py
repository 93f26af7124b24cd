"""The people every test talks about, in one place.

Sam supervises the Billing team and his agent Alex; Harper is HR; Olivia supervises another team
and must get 404 on everything of Sam's. Under CI=true a test that needs a service fails when the
service is missing, instead of being skipped.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.utils import timezone, translation

from metrics.models import Kpi
from pips import services
from pips.models import Agent, Pip, PipTemplate, SignerRole, Team
from pips.services import SignatureInput
from pipsystem import pdfsign

# The browser tests' `chrome` and `shots` fixtures, for every test package.
pytest_plugins = ["tests.browser"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PASSWORD = "a-long-test-password-1"


# Modules whose tests take seconds each: a real Celery worker, WeasyPrint and PAdES signing.
SLOW_MODULES = {"test_celery_worker.py", "test_pdf.py", "test_pdfrender.py", "test_pdfsign.py"}


def pytest_collection_modifyitems(config, items):
    """Under CI, PostgreSQL is required: the whole run stops if it is not what we test on.
    Browser tests and the SLOW_MODULES are marked `slow`."""
    if IN_CI and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise pytest.UsageError("CI must run on PostgreSQL: set DATABASE_URL.")
    for item in items:
        if item.get_closest_marker("browser") or item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def need_service(name: str, reachable: bool) -> None:
    """Skip locally when a service is missing; fail under CI."""
    if reachable:
        return
    if IN_CI:
        pytest.fail(f"{name} is required under CI but is not reachable.")
    pytest.skip(f"{name} is not available here")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Argon2 stays first in production; tests hash dozens of passwords and need not be slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.MEDIA_ROOT = tmp_path / "media"
    # Rate limits counted afresh in each test, in memory.
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    from django.core.cache import caches

    caches["ratelimit"].clear()


@pytest.fixture(autouse=True)
def _language_of_the_organisation():
    """Each test starts in the organisation's language: a page requested by a test activates
    its reader's language in the thread, as a request does, and would leak into the next."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def postgres(db):
    need_service("PostgreSQL", connection.vendor == "postgresql")


def make_user(username: str, first: str, last: str, *groups: str) -> User:
    user = User.objects.create_user(
        username, f"{username}@example.com", PASSWORD, first_name=first, last_name=last
    )
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def sam(db) -> User:
    return make_user("sam", "Sam", "Carter", "supervisor")


@pytest.fixture
def olivia(db) -> User:
    return make_user("olivia", "Olivia", "Brooks", "supervisor")


@pytest.fixture
def harper(db) -> User:
    return make_user("harper", "Harper", "Lee", "hr")


@pytest.fixture
def admin_user(db) -> User:
    return User.objects.create_superuser(
        "root", "root@example.com", PASSWORD, first_name="Ada", last_name="Admin"
    )


@pytest.fixture
def alex_user(db) -> User:
    return make_user("alex", "Alex", "Rivera")


@pytest.fixture
def billing(db) -> Team:
    return Team.objects.create(name="Billing", department="Customer Care")


@pytest.fixture
def retention(db) -> Team:
    return Team.objects.create(name="Retention", department="Sales")


@pytest.fixture
def alex(billing, sam, alex_user) -> Agent:
    return Agent.objects.create(
        employee_id="E1001", full_name="Alex Rivera", team=billing, supervisor=sam, user=alex_user
    )


@pytest.fixture
def blake(retention, olivia) -> Agent:
    """Olivia's agent, with an account of their own."""
    user = make_user("blake", "Blake", "Moreau")
    return Agent.objects.create(
        employee_id="E2001", full_name="Blake Moreau", team=retention, supervisor=olivia, user=user
    )


@pytest.fixture
def template(db) -> PipTemplate:
    return PipTemplate.objects.get(is_default=True)


@pytest.fixture
def kpis(db) -> dict[str, Kpi]:
    return {k.code: k for k in Kpi.objects.all()}


def plan_content(template: PipTemplate, start: dt.date | None = None, days: int = 30):
    content = services.content_from_template(template, start=start or timezone.localdate())
    content.period_end = content.period_start + dt.timedelta(days=days)
    content.final_review_date = content.period_end
    content.midpoint_date = (
        content.period_start + dt.timedelta(days=days // 2) if days > 30 else None
    )
    content.description = "QA and AHT have been below standard for three months."
    return content


@pytest.fixture
def make_plan(template):
    """Build a plan for an agent and walk it to a given state through the services."""

    def build(agent: Agent, to: str = "draft", *, hr: User | None = None, start=None, days=30):
        supervisor = agent.supervisor
        pip = services.pip_create(
            actor=supervisor,
            agent=agent,
            content=plan_content(template, start, days),
            template=template,
        )
        order = ["draft", "pending_hr", "approved", "issued", "active"]
        steps = order[: order.index(to) + 1] if to in order else order
        if "pending_hr" in steps:
            pip = services.pip_submit(actor=supervisor, pip=pip)
        if "approved" in steps:
            pip = services.pip_approve(actor=hr, pip=pip)
        if "issued" in steps:
            pip = services.pip_issue(
                actor=supervisor,
                pip=pip,
                meeting_held_on=pip.current_version.period_start,
                signature=SignatureInput(typed_name=supervisor.get_full_name(), consent=True),
            )
        if "active" in steps:
            version = pip.current_version
            services.signature_add(
                actor=agent.user,
                pip=pip,
                version=version,
                role=SignerRole.AGENT,
                data=SignatureInput(typed_name=agent.full_name, consent=True, agrees=True),
            )
            services.signature_add(
                actor=hr,
                pip=pip,
                version=version,
                role=SignerRole.HR,
                data=SignatureInput(typed_name=hr.get_full_name(), consent=True),
            )
        return Pip.objects.get(pk=pip.pk)

    return build


# --- The organisation's signing certificate, under tmp_path (never var/) -------------------


@pytest.fixture(scope="module")
def signing_pair(tmp_path_factory) -> tuple[bytes, bytes]:
    """One key pair per module: generating the RSA key is the slow part."""
    directory = tmp_path_factory.mktemp("signing-pair")
    pdfsign.create_self_signed_cert(
        directory / "cert.pem",
        directory / "key.pem",
        common_name="Acme Contact Center document signing",
        organisation="Acme Contact Center",
        days=30,
    )
    return (directory / "cert.pem").read_bytes(), (directory / "key.pem").read_bytes()


@pytest.fixture
def signing(signing_pair, tmp_path: Path, settings) -> Path:
    directory = tmp_path / "signing"
    directory.mkdir()
    (directory / "cert.pem").write_bytes(signing_pair[0])
    (directory / "key.pem").write_bytes(signing_pair[1])
    settings.PIP_SIGNING_CERT = str(directory / "cert.pem")
    settings.PIP_SIGNING_KEY = str(directory / "key.pem")
    settings.PIP_SIGNING_KEY_PASSPHRASE = None
    settings.PIP_SIGNING_EXTRA_TRUST_ROOTS = []
    return directory


@receiver(connection_created)
def _allow_emptying_the_test_database(sender, connection, **kwargs):
    """The audit trail refuses TRUNCATE (pips migration audit_truncate_guard); the test suite,
    connected as a superuser, empties its database between transactional tests and says so."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET pipsystem.audit_truncate = 'allow'")
