from django.db import migrations, models


class Migration(migrations.Migration):
    """Which Sentry snapshot an item's Sentry state came from, and Sentry's assignee as sent."""

    dependencies = [
        ("triage", "0012_team_slack_webhook_url"),
    ]

    operations = [
        migrations.AddField(
            model_name="triageitem",
            name="sentry_assignee_info",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="triageitem",
            name="sentry_state_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
