"""A daily beat schedule for the Instagram token refresh (channels.instagram.token_refresh_all)."""

from django.db import migrations

from channels.schedules import daily_task_operation


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0009_whatsapp_daily_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        daily_task_operation(
            name="Instagram token refresh (daily)",
            task="channels.instagram.token_refresh_all",
            minute="41",
            hour="5",
            description="Refreshes Instagram tokens (60 days) before they expire; a refused "
            "refresh shows 'needs reconnect' in channel health.",
        )
    ]
