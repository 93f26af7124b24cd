from django.db import migrations


def load_catalog(apps, schema_editor):
    from metrics.catalog import CATALOG

    Kpi = apps.get_model("metrics", "Kpi")
    for row in CATALOG:
        Kpi.objects.update_or_create(code=row["code"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_initial")]

    operations = [migrations.RunPython(load_catalog, migrations.RunPython.noop)]
