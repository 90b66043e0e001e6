"""Keep one django-celery-beat periodic task per channel in step with the channel.

The channel's ``poll_interval`` and ``enabled`` are the truth; the PeriodicTask row is what beat
reads (and what an admin sees in the Django admin under "Periodic tasks").
"""

from __future__ import annotations

import json

from django_celery_beat.models import IntervalSchedule, PeriodicTask

from .models import Channel

TASK = "channels.tasks.poll_channel"


def task_name(channel: Channel) -> str:
    return f"poll channel {channel.pk}"


def sync_schedule(channel: Channel) -> PeriodicTask:
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=max(1, channel.poll_interval), period=IntervalSchedule.SECONDS
    )
    task, _ = PeriodicTask.objects.update_or_create(
        name=task_name(channel),
        defaults={
            "task": TASK,
            "interval": interval,
            "args": json.dumps([channel.pk]),
            "enabled": channel.enabled,
            # A poll that waits longer than one interval in the queue is stale; the next
            # one will do.
            "expire_seconds": max(30, channel.poll_interval * 2),
        },
    )
    return task


def drop_schedule(channel: Channel) -> None:
    PeriodicTask.objects.filter(name=task_name(channel)).delete()


def daily_task_operation(*, name: str, task: str, minute: str, hour: str, description: str):
    """A migration operation that creates (and on reverse drops) a daily beat task at
    ``hour:minute`` UTC, for checks that run once a day (token refreshes)."""
    from django.db import migrations

    def create(apps, schema_editor):
        crontab, _ = apps.get_model("django_celery_beat", "CrontabSchedule").objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        apps.get_model("django_celery_beat", "PeriodicTask").objects.get_or_create(
            name=name,
            defaults={
                "task": task,
                "crontab": crontab,
                "enabled": True,
                "description": description,
            },
        )

    def drop(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

    return migrations.RunPython(create, drop)
