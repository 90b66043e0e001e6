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
