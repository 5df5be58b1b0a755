from django.db import migrations

import runbooks.fields

INDEX = "runbook_search_document"


def create_gin_index(apps, schema_editor):
    # PostgreSQL only: elsewhere the column stays empty and search falls back to icontains.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON runbooks_runbook USING gin (search_document)")


def drop_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("runbooks", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="runbook",
            name="search_document",
            field=runbooks.fields.SearchDocument(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(create_gin_index, drop_gin_index),
    ]
