# Issue 18: refused requests are counted a minute at a time and pruned oldest first, on their own index.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0003_lean_delivery_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='webhookdelivery',
            index=models.Index(condition=models.Q(('status', 'rejected')), fields=['received_at'],
                               name='delivery_rejected'),
        ),
    ]
