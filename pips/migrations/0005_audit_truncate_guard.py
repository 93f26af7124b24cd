from django.db import migrations

# The row trigger of 0002 refuses UPDATE and DELETE; TRUNCATE (also reached through
# `TRUNCATE other_table CASCADE`) removes rows without row triggers, so a statement trigger
# refuses it too. A superuser can disable any trigger anyway; only one who says so in the session
# (`SET pipsystem.audit_truncate = 'allow'`, as the test suite does to empty its database) may
# truncate. The application's own role holds no TRUNCATE privilege at all (grant_app_role).
GUARD_SQL = """
CREATE OR REPLACE FUNCTION pips_auditevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('pipsystem.audit_truncate', true) = 'allow'
       AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'pips_auditevent is append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER pips_auditevent_no_truncate
    BEFORE TRUNCATE ON pips_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION pips_auditevent_no_truncate();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS pips_auditevent_no_truncate ON pips_auditevent;
DROP FUNCTION IF EXISTS pips_auditevent_no_truncate();
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_SQL, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("pips", "0004_team_timezone_validated")]

    operations = [migrations.RunPython(guard, unguard)]
