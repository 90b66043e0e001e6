"""A daily beat schedule for the Instagram token refresh (channels.instagram.token_refresh_all)."""

from django.db import migrations

TASK_NAME = "Instagram token refresh (daily)"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="41",
        hour="5",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "channels.instagram.token_refresh_all",
            "crontab": crontab,
            "enabled": True,
            "description": "Refreshes Instagram tokens (60 days) before they expire; a refused "
            "refresh shows 'needs reconnect' in channel health.",
        },
    )


def drop_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0007_webhook_delivery"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, drop_schedule)]
