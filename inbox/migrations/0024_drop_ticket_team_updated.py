"""The newest change an agent could see was read per team from (team, updated_at); the list's
poll now compares its first page instead (inbox.tickets.selectors.first_page_keys), so the index only
cost every ticket write."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0023_ticket_channel_open_order'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_team_updated',
        ),
    ]
