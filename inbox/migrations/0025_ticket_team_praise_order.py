"""Open compliments per team in waiting order: the inbox's Compliments view (an agent's branch per
team walked the team's whole open queue to find the few compliments in it)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0006_channel_errors_by_hour'),
        ('inbox', '0024_drop_ticket_team_updated'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('intent', 'compliment'), ('status__in', ['new', 'open'])), fields=['team', 'waiting_since', 'id'], name='ticket_team_praise_order'),
        ),
    ]
