"""Indexes for the plan list's search (pips.plan_lists._search): part of the employee's name
(`full_name__icontains`, which PostgreSQL runs as UPPER(full_name) LIKE '%…%') through a trigram
index, and the employee ID (`employee_id__iexact`, UPPER(employee_id) = …). Without them the
search read all 50,000 agents of a large company for every page. PostgreSQL only: the pg_trgm
extension ships with it (and is trusted, so the database owner may create it); SQLite, used to
try the project, searches a small table anyway."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS agent_name_trgm ON pips_agent "
    "USING gin ((UPPER(full_name::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS agent_employee_id_upper ON pips_agent ((UPPER(employee_id::text)))",
]
BACKWARD = [
    "DROP INDEX IF EXISTS agent_employee_id_upper",
    "DROP INDEX IF EXISTS agent_name_trgm",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("pips", "0012_profile_time_zone")]

    operations = [migrations.RunPython(forward, backward)]
