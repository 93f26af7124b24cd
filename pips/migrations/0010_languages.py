"""Languages: each person's (a profile), the language a plan and a template are written in,
and the language of the consent statement a signature was given under. Every consent stored
before this was shown in English."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français (Canada)"),
    ("pt-br", "Português (Brasil)"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("pips", "0009_agent_site_and_language"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Profile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("language", models.CharField(blank=True, choices=LANGUAGES, max_length=8)),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="profile",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="piptemplate",
            name="language",
            field=models.CharField(choices=LANGUAGES, db_default="en", default="en", max_length=8),
        ),
        migrations.RemoveConstraint(model_name="piptemplate", name="one_default_template"),
        migrations.AddConstraint(
            model_name="piptemplate",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_default", True)),
                fields=("language",),
                name="one_default_template",
            ),
        ),
        migrations.AddField(
            model_name="pipversion",
            name="language",
            field=models.CharField(choices=LANGUAGES, db_default="en", default="en", max_length=8),
        ),
        migrations.AddField(
            model_name="signature",
            name="consent_language",
            field=models.CharField(choices=LANGUAGES, default="en", max_length=8),
            preserve_default=False,
        ),
    ]
