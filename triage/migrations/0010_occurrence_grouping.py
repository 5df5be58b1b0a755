from django.db import migrations, models

BATCH = 2000


def backfill(apps, schema_editor):
    """Fill the grouping columns of occurrences recorded before intake computed them.

    Older rows kept only the outermost exception, so it stands in for the inner one; the
    grouping advisor skips rows whose `service_key` is still empty.
    """
    from triage.grouping_keys import message_template

    Occurrence = apps.get_model("triage", "Occurrence")
    last_id = 0
    while rows := list(
        Occurrence.objects.filter(pk__gt=last_id, service_key="").order_by("pk")
        .values("pk", "tags", "exception_type", "exception_value", "item__project_slug")[:BATCH]
    ):
        Occurrence.objects.bulk_update([_filled(Occurrence, row, message_template) for row in rows],
                                       ["service_key", "inner_exception_type", "message_template"])
        last_id = rows[-1]["pk"]


def _filled(Occurrence, row, message_template):
    tags = row["tags"] if isinstance(row["tags"], dict) else {}
    service = (tags.get("service") or row["item__project_slug"] or "unknown")[:200]
    return Occurrence(pk=row["pk"], service_key=service, inner_exception_type=row["exception_type"][:200],
                      message_template=message_template(row["exception_value"] or ""))


class Migration(migrations.Migration):

    dependencies = [
        ("triage", "0009_environment_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="occurrence",
            name="service_key",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="occurrence",
            name="inner_exception_type",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="occurrence",
            name="message_template",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
