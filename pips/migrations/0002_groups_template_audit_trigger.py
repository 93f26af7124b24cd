from django.db import migrations

ROLE_GROUPS = ("supervisor", "hr", "analyst")

# Row triggers only: TRUNCATE (a test database being flushed) is not a row change.
TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION pips_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'pips_auditevent is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER pips_auditevent_append_only
    BEFORE UPDATE OR DELETE ON pips_auditevent
    FOR EACH ROW EXECUTE FUNCTION pips_auditevent_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS pips_auditevent_append_only ON pips_auditevent;
DROP FUNCTION IF EXISTS pips_auditevent_append_only();
"""


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


def install_template(apps, schema_editor):
    from pips.template_seed import install_template as install

    install(apps)


def audit_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_audit_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("pips", "0001_initial"),
        ("metrics", "0002_kpi_catalog"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(create_groups, migrations.RunPython.noop),
        migrations.RunPython(install_template, migrations.RunPython.noop),
        migrations.RunPython(audit_trigger, drop_audit_trigger),
    ]
