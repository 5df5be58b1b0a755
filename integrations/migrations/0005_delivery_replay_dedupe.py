# Issue 18: a body or a Request-ID already processed makes a delivery a duplicate, whatever its timestamp.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0004_delivery_rejected_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhookdelivery',
            name='body_sha256',
            field=models.CharField(blank=True, db_default='', max_length=64),
        ),
        migrations.AlterField(
            model_name='webhookdelivery',
            name='status',
            field=models.CharField(
                choices=[
                    ('pending', 'Pending'),
                    ('processed', 'Processed'),
                    ('duplicate', 'Duplicate (same content, body or Request-ID already processed)'),
                    ('failed', 'Failed'),
                    ('rejected', 'Rejected (not signed, or not a webhook)'),
                ],
                default='pending',
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name='webhookdelivery',
            constraint=models.UniqueConstraint(
                condition=models.Q(('status', 'processed'), models.Q(('body_sha256', ''), _negated=True)),
                fields=('body_sha256',), name='delivery_body_processed_once',
            ),
        ),
        migrations.AddConstraint(
            model_name='webhookdelivery',
            constraint=models.UniqueConstraint(
                condition=models.Q(('status', 'processed'), models.Q(('request_id', ''), _negated=True)),
                fields=('request_id',), name='delivery_request_processed_once',
            ),
        ),
    ]
