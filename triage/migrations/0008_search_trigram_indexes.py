"""Trigram indexes for the queue's text search (`UPPER(col) LIKE '%q%'`), on PostgreSQL only.

Without them every search reads all items (bench/morning.py). pg_trgm is a trusted extension
(PostgreSQL 13+), so the database owner may create it; where that is refused, search still
works, only slower, and the migration says so instead of failing the deployment.
"""

import logging

from django.db import migrations, transaction

COLUMNS = ("title", "culprit", "short_id")
log = logging.getLogger(__name__)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - any refusal leaves search working, unindexed
        log.warning("pg_trgm is not available (%s): the queue's text search stays unindexed.", exc)
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS item_{column}_trgm ON triage_triageitem "
            f"USING gin (upper({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in COLUMNS:
            schema_editor.execute(f"DROP INDEX IF EXISTS item_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("triage", "0007_list_indexes")]
    operations = [migrations.RunPython(create, drop)]
