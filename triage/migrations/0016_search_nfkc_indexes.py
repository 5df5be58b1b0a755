"""The queue's text search compares NFKC on both sides (ＳＫＵ finds SKU): its trigram indexes on the
title and the culprit move to `upper(normalize(col, NFKC))`, the expression the search now uses.

PostgreSQL only, and only where 0008 could create pg_trgm; the short id is ASCII and keeps its index.
"""

from django.db import migrations

COLUMNS = ("title", "culprit")


def _has_trgm(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql" or not _has_trgm(schema_editor):
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS item_{column}_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS item_{column}_nfkc_trgm ON triage_triageitem "
            f"USING gin (upper(normalize({column}, NFKC)) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql" or not _has_trgm(schema_editor):
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS item_{column}_nfkc_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS item_{column}_trgm ON triage_triageitem "
            f"USING gin (upper({column}) gin_trgm_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("triage", "0015_database_defaults")]
    operations = [migrations.RunPython(forwards, backwards)]
