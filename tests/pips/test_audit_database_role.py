"""The audit trail cannot be emptied or rewritten from the application's database role.

On PostgreSQL: TRUNCATE of the audit table, directly or through `TRUNCATE … CASCADE` of a table
it refers to, is refused by a statement trigger, even for the role owning the table; and the
application runs under a role that owns nothing (`manage.py grant_app_role`), may only read and
insert audit events, cannot disable the triggers or turn them off for its session, and still
does everything the application does: plans through their lifecycle, signatures, KPI loads
(temporary table and COPY), the reminder sweep.

These tests commit (other connections must see the grants) and create roles of their own,
dropped at the end.
"""

from __future__ import annotations

import contextlib
import uuid

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from metrics.loading import load_rows
from metrics.models import MetricSource, Sample
from pips import reminders
from pips.models import AuditEvent, Pip, Status

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AUDIT = "pips_auditevent"


def connect(role: str | None = None, **options):
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname=db["NAME"],
        user=role or db.get("USER") or "postgres",
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        **options,
    )
    conn.autocommit = True
    return conn


def refused(conn, sql: str, params=()) -> str:
    """Run `sql`, which must fail; return PostgreSQL's message."""
    with conn.cursor() as cursor:
        try:
            cursor.execute(sql, params)
        except psycopg2.Error as error:
            return str(error)
    raise AssertionError(f"{sql!r} was allowed")


@pytest.fixture
def roles(postgres):
    made: list[str] = []

    def make(kind: str) -> str:
        name = f"pipsystem_test_{kind}_{uuid.uuid4().hex[:8]}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE ROLE "{name}" LOGIN')
        made.append(name)
        return name

    yield make
    connections.close_all()
    with connection.cursor() as cursor:
        for name in made:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [name]
            )
            cursor.execute(f'DROP OWNED BY "{name}"')
            cursor.execute(f'DROP ROLE "{name}"')


@contextlib.contextmanager
def django_connected_as(role: str):
    """Django's own connection, as `role`, for what the application does."""
    conn = connections["default"]
    conn.close()
    saved = conn.settings_dict["USER"]
    conn.settings_dict["USER"] = role
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict["USER"] = saved


@pytest.fixture
def plan(alex, harper, make_plan) -> Pip:
    return make_plan(alex, "issued", hr=harper)


def events() -> int:
    return AuditEvent.objects.count()


def test_truncate_of_the_audit_table_is_refused_even_for_its_owner(postgres, plan):
    before = events()
    assert before > 0
    owner = connect()  # the role that ran the migrations, without the test suite's say-so
    try:
        assert "TRUNCATE refused" in refused(owner, f"TRUNCATE {AUDIT}, pips_delivery")
        assert "TRUNCATE refused" in refused(owner, f"TRUNCATE {AUDIT} CASCADE")
        # Through a table the audit trail refers to.
        assert "TRUNCATE refused" in refused(owner, "TRUNCATE pips_pip CASCADE")
        assert "TRUNCATE refused" in refused(owner, "TRUNCATE auth_user CASCADE")
    finally:
        owner.close()
    assert events() == before
    assert Pip.objects.filter(pk=plan.pk).exists()


def test_only_a_superuser_who_says_so_may_truncate_not_a_role_granted_truncate(roles, plan):
    clerk = roles("clerk")
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT TRUNCATE, SELECT ON {AUDIT}, pips_delivery TO "{clerk}"')
    conn = connect(clerk)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET pipsystem.audit_truncate = 'allow'")
        assert "TRUNCATE refused" in refused(conn, f"TRUNCATE {AUDIT} CASCADE")
    finally:
        conn.close()
    assert events() > 0


def test_grant_app_role_refuses_a_role_that_could_act_as_the_owner(roles):
    with pytest.raises(CommandError, match="superuser"):
        call_command("grant_app_role", "postgres")
    with pytest.raises(CommandError, match="no database role"):
        call_command("grant_app_role", "nobody_" + uuid.uuid4().hex[:8])
    owner_like = roles("ownerlike")
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE TABLE "{owner_like}_t" (id int)')
        cursor.execute(f'ALTER TABLE "{owner_like}_t" OWNER TO "{owner_like}"')
    with pytest.raises(CommandError, match="owns tables"):
        call_command("grant_app_role", owner_like)


def test_the_application_role_may_read_and_append_the_audit_trail_and_nothing_more(roles, plan):
    app = roles("app")
    call_command("grant_app_role", app)
    before = events()
    conn = connect(app)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {AUDIT}")
            assert cursor.fetchone()[0] == before
        event = AuditEvent.objects.filter(pip=plan).first()
        for sql in (
            f"UPDATE {AUDIT} SET comment = 'rewritten' WHERE id = {event.pk}",
            f"DELETE FROM {AUDIT} WHERE id = {event.pk}",
            f"TRUNCATE {AUDIT}",
            "TRUNCATE pips_pip CASCADE",
        ):
            assert "permission denied" in refused(conn, sql), sql
        for sql in (
            f"ALTER TABLE {AUDIT} DISABLE TRIGGER ALL",
            f"DROP TRIGGER pips_auditevent_append_only ON {AUDIT}",
            f"DROP TABLE {AUDIT}",
            "CREATE TABLE pips_shadow (id int)",
        ):
            assert "must be owner" in refused(conn, sql) or "permission denied" in refused(
                conn, sql
            ), sql
        # Triggers cannot be switched off for the session either.
        assert "permission denied" in refused(conn, "SET session_replication_role = replica")
    finally:
        conn.close()
    assert events() == before
    assert AuditEvent.objects.get(pk=event.pk).comment == event.comment


def test_the_application_works_under_its_role(roles, alex, harper, sam, make_plan):
    app = roles("app")
    call_command("grant_app_role", app)
    source = MetricSource.objects.create(name="WFM", mapping={})
    with django_connected_as(app):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == app
        # A plan from draft to active: every step writes rows and audit events.
        pip = make_plan(alex, "active", hr=harper)
        assert pip.status == Status.ACTIVE
        # A KPI batch: temporary staging table, COPY, upsert.
        result = load_rows(
            [
                {"employee_id": "E1001", "date": "2025-03-03", "kpi": "aht", "value": 301},
                {"employee_id": "E1001", "date": "2025-03-04", "kpi": "aht", "value": 299},
            ],
            source=source,
            label="api batch",
        )
        assert result.ok, result
        # The reminder sweep (INSERT … ON CONFLICT, conditional UPDATEs).
        reminders.sweep()
        written = AuditEvent.objects.filter(pip=pip).count()
    assert written >= 5
    assert Sample.objects.filter(employee_id="E1001").count() == 2
