"""Channel changes: every path (admin, UI, demo setup) goes through these."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from . import health, schedules
from .models import Channel, HealthState


def channel_create(
    *,
    kind: str,
    name: str,
    credentials: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    poll_interval: int = 60,
    enabled: bool = True,
    **extra: Any,
) -> Channel:
    with transaction.atomic():
        channel = Channel.objects.create(
            kind=kind,
            name=name,
            credentials=credentials or {},
            settings=settings or {},
            poll_interval=poll_interval,
            enabled=enabled,
            health_state=HealthState.OK if enabled else HealthState.DISABLED,
            **extra,
        )
        schedules.sync_schedule(channel)
    return channel


def channel_update(
    *, channel: Channel, credentials_changed: bool = False, **changes: Any
) -> Channel:
    """Apply ``changes``; new credentials or re-enabling clears the channel's error state."""
    with transaction.atomic():
        was_enabled = channel.enabled
        for field, value in changes.items():
            setattr(channel, field, value)
        channel.save()
        schedules.sync_schedule(channel)
        if credentials_changed or (channel.enabled and not was_enabled) or not channel.enabled:
            health.reset_health(channel)
    channel.refresh_from_db()
    return channel


def channel_delete(*, channel: Channel) -> None:
    with transaction.atomic():
        schedules.drop_schedule(channel)
        channel.enabled = False
        channel.save(update_fields=["enabled", "updated_at"])
