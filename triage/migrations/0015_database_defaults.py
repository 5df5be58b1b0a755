from django.db import migrations, models


class Migration(migrations.Migration):
    """Database defaults for the columns added lately, so rows written by raw SQL without them still insert."""

    dependencies = [
        ('triage', '0014_item_issue_category'),
    ]

    operations = [
        migrations.AlterField(
            model_name='team',
            name='slack_webhook_url',
            field=models.URLField(blank=True, db_default='', help_text="A Slack-compatible incoming webhook: the team's morning digest goes there too.", max_length=500),
        ),
        migrations.AlterField(
            model_name='triageitem',
            name='issue_category',
            field=models.CharField(db_default='error', default='error', max_length=32),
        ),
        migrations.AlterField(
            model_name='triageitem',
            name='sentry_assignee_info',
            field=models.JSONField(blank=True, db_default={}, default=dict),
        ),
    ]
