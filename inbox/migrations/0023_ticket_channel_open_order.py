"""Open tickets per channel in waiting order: the inbox's channel filter (a quiet channel's
few tickets were found by walking a busy team's whole open queue)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0006_channel_errors_by_hour'),
        ('inbox', '0022_ticket_report_brin_autosummarize'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('status__in', ['new', 'open'])), fields=['channel', 'waiting_since', 'id'], name='ticket_channel_open_order'),
        ),
    ]
