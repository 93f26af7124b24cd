from django.db import migrations, models

TRIGGER = "pips_auditevent_append_only"
BATCH = 2000


def chain_existing_events(apps, schema_editor):
    """Link the events written before the chain, in the order they were written. The row
    trigger refuses UPDATE, so it is off for this, inside the migration's transaction."""
    from pips.audit import GENESIS, event_hash

    AuditEvent = apps.get_model("pips", "AuditEvent")
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(f"ALTER TABLE pips_auditevent DISABLE TRIGGER {TRIGGER}")
    previous = GENESIS
    pending = []
    for event in AuditEvent.objects.order_by("pk").iterator(chunk_size=BATCH):
        event.prev_hash = previous
        event.event_hash = previous = event_hash(event, event.prev_hash)
        pending.append(event)
        if len(pending) >= BATCH:
            AuditEvent.objects.bulk_update(pending, ["prev_hash", "event_hash"])
            pending = []
    if pending:
        AuditEvent.objects.bulk_update(pending, ["prev_hash", "event_hash"])
    if postgresql:
        schema_editor.execute(f"ALTER TABLE pips_auditevent ENABLE TRIGGER {TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [("pips", "0005_audit_truncate_guard")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="event_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=["prev_hash"], name="audit_chain_one_successor"
            ),
        ),
    ]
