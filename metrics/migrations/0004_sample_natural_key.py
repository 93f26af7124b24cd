"""The sample table's primary key becomes its natural key (employee_id, kpi_id, date).

The surrogate `id` and its index were never used to find a sample, yet every row loaded paid
for them. Django does not migrate a table to a composite primary key by itself, so the
database side is written out here: on PostgreSQL an ALTER TABLE, on SQLite (development) a
rebuild of the table, as SQLite cannot change a primary key in place.
"""

from django.db import migrations, models

_SQLITE_REBUILD = [
    'CREATE TABLE "metrics_sample__new" ('
    ' "employee_id" varchar(32) NOT NULL,'
    ' "date" date NOT NULL,'
    ' "value" real NOT NULL,'
    ' "weight" real NOT NULL,'
    ' "kpi_id" bigint NOT NULL,'
    ' "load_id" bigint NULL,'
    ' CONSTRAINT "sample_weight_positive" CHECK ("weight" > 0.0),'
    ' PRIMARY KEY ("employee_id", "kpi_id", "date"))',
    'INSERT INTO "metrics_sample__new" (employee_id, date, value, weight, kpi_id, load_id)'
    ' SELECT employee_id, date, value, weight, kpi_id, load_id FROM "metrics_sample"',
    'DROP TABLE "metrics_sample"',
    'ALTER TABLE "metrics_sample__new" RENAME TO "metrics_sample"',
    'CREATE INDEX "sample_kpi_date" ON "metrics_sample" ("kpi_id", "date")',
]

_POSTGRESQL = [
    'ALTER TABLE "metrics_sample" DROP CONSTRAINT "sample_employee_kpi_date",'
    ' DROP COLUMN "id",'
    ' ADD CONSTRAINT "metrics_sample_pkey" PRIMARY KEY ("employee_id", "kpi_id", "date")',
]


def natural_key(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = _POSTGRESQL
    elif vendor == "sqlite":
        statements = _SQLITE_REBUILD
    else:
        raise NotImplementedError(f"no migration of metrics_sample for {vendor}")
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0003_sample_lean_references"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(natural_key, elidable=False)],
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="sample",
                    name="sample_employee_kpi_date",
                ),
                migrations.RemoveField(
                    model_name="sample",
                    name="id",
                ),
                migrations.AddField(
                    model_name="sample",
                    name="pk",
                    field=models.CompositePrimaryKey(
                        "employee_id",
                        "kpi",
                        "date",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
            ],
        ),
    ]
