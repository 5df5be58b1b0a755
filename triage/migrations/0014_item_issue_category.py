from django.db import migrations, models


class Migration(migrations.Migration):
    """Sentry's issue category on each item; the items from before are errors, the only kind intake read."""

    dependencies = [
        ("triage", "0013_item_sentry_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="triageitem",
            name="issue_category",
            field=models.CharField(default="error", max_length=32),
        ),
    ]
