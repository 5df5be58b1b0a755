"""Errors stored before redaction may hold a webhook's secret URL: redact them where they are shown."""

from django.db import migrations

from common.redaction import redact

BATCH = 500


def _redact_column(model, field, **filters):
    rows = model.objects.filter(**filters).exclude(**{field: ""}).only("pk", field)
    changed = []
    for row in rows.iterator(chunk_size=BATCH):
        if (clean := redact(getattr(row, field))) != getattr(row, field):
            setattr(row, field, clean)
            changed.append(row)
    model.objects.bulk_update(changed, [field], batch_size=BATCH)


def redact_stored_errors(apps, schema_editor):
    _redact_column(apps.get_model("ops", "Notification"), "last_error")
    _redact_column(apps.get_model("ops", "NotificationAttempt"), "error")
    # The audit log is append-only, but a secret in it is no record worth keeping.
    _redact_column(apps.get_model("ops", "DataFixEvent"), "note", verb="notification_failed")


class Migration(migrations.Migration):
    dependencies = [("ops", "0001_data_fix_requests")]

    operations = [migrations.RunPython(redact_stored_errors, migrations.RunPython.noop)]
