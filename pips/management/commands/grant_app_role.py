"""Give the database role the application runs as exactly what it needs, and no more.

Run by the role that owns the tables (the one `migrate` runs as), after every `migrate`:

    export DATABASE_URL=postgres://pipsystem_owner@db/pipsystem
    python manage.py migrate && python manage.py grant_app_role pipsystem_app

The web server, the worker and beat then connect as `pipsystem_app`. That role reads and writes
rows, but owns nothing: it cannot drop or alter a table, disable a trigger or truncate a table,
and on the audit trail it may only read and insert. `--sql` prints the statements instead of
running them, for a database administrator to apply.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from pips.models import AuditEvent


def grant_statements(role: str, database: str, schema: str) -> list[str]:
    quote = connection.ops.quote_name
    who, audit = quote(role), quote(AuditEvent._meta.db_table)
    return [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {quote(database)} TO {who}",
        f"GRANT USAGE ON SCHEMA {quote(schema)} TO {who}",
        # Start from nothing, so a privilege granted by hand earlier does not linger.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {quote(schema)} FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {quote(schema)} FROM {who}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {quote(schema)} TO {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quote(schema)} TO {who}",
        # The audit trail: read and append, nothing else (no UPDATE, DELETE or TRUNCATE).
        f"REVOKE ALL ON {audit} FROM {who}",
        f"GRANT SELECT, INSERT ON {audit} TO {who}",
    ]


def role_problems(role: str, schema: str) -> list[str]:
    """Why `role` must not be the application's role, if it must not."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls, pg_has_role(%s, current_user, 'MEMBER') "
            "FROM pg_roles WHERE rolname = %s",
            [role, role],
        )
        found = cursor.fetchone()
        if found is None:
            return [f"There is no database role {role!r}; create it first (CREATE ROLE … LOGIN)."]
        superuser, bypass_rls, member_of_owner = found
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tableowner = %s "
            "ORDER BY tablename LIMIT 5",
            [schema, role],
        )
        owned = [row[0] for row in cursor.fetchall()]
    problems = []
    if superuser:
        problems.append(f"{role!r} is a superuser; the application's role must not be.")
    if bypass_rls:
        problems.append(f"{role!r} has BYPASSRLS; the application's role must not.")
    if owned:
        tables = ", ".join(owned)
        problems.append(f"{role!r} owns tables ({tables}); run migrations as another role.")
    if member_of_owner:
        problems.append(
            f"{role!r} is the role running this command or a member of it, so it could act as "
            "the owner of the tables; give the application a role of its own."
        )
    return problems


class Command(BaseCommand):
    help = (
        "Grant the database role the application runs as what it needs: rows of every table, "
        "but only SELECT and INSERT on the audit trail, and no ownership. Run as the tables' "
        "owner after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="the role the web server and the worker connect as")
        parser.add_argument(
            "--sql", action="store_true", help="print the statements instead of running them"
        )

    def handle(self, *args, role: str, sql: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are a PostgreSQL matter; DATABASE_URL is not one.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database(), current_schema()")
            database, schema = cursor.fetchone()
        statements = grant_statements(role, database, schema)
        if sql:
            self.stdout.write(";\n".join(statements) + ";")
            return
        problems = role_problems(role, schema)
        if problems:
            raise CommandError(" ".join(problems))
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            f"{role} may now read and write the rows of {database} ({schema}), and only read "
            "and append to the audit trail."
        )
