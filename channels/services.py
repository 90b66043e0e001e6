"""Channel changes: every path (admin, UI, demo setup) goes through these.

Each change made by a person writes an audit row (``inbox.models.Activity`` without a ticket):
``channel_created``, ``channel_updated``, ``channel_enabled``, ``channel_disabled``, with the
changed fields before and after. Credentials never enter the audit: a change shows as
``"credentials": "changed"``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from . import health, schedules
from .models import Channel, HealthState

# What the audit records of a channel (audit key: model attribute); credentials only as
# "changed", never their value.
AUDITED = {
    "name": "name",
    "kind": "kind",
    "enabled": "enabled",
    "poll_interval": "poll_interval",
    "default_team": "default_team_id",
    "own_account_id": "own_account_id",
    "own_handle": "own_handle",
    "settings": "settings",
}


def _snapshot(channel: Channel) -> dict[str, Any]:
    return {key: getattr(channel, attribute) for key, attribute in AUDITED.items()}


def _audit(
    *,
    actor: User | None,
    verb: str,
    channel: Channel,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    from inbox.ingest.entry import channel_change_log

    channel_change_log(
        actor=actor,
        verb=verb,
        before={"channel": channel.pk, **before},
        after={"channel": channel.pk, **after},
    )


def channel_create(
    *,
    kind: str,
    name: str,
    credentials: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    poll_interval: int = 60,
    enabled: bool = True,
    actor: User | None = None,
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
        after = _snapshot(channel)
        if credentials:
            after["credentials"] = "set"
        _audit(actor=actor, verb="channel_created", channel=channel, before={}, after=after)
    return channel


def channel_update(
    *,
    channel: Channel,
    credentials_changed: bool = False,
    actor: User | None = None,
    **changes: Any,
) -> Channel:
    """Apply ``changes``; new credentials or re-enabling clears the channel's error state.

    Only the changed fields are written, so health fields a poll updates meanwhile are kept.
    An audit row lists what changed (none when nothing did).
    """
    with transaction.atomic():
        stored = Channel.objects.select_for_update().get(pk=channel.pk)
        before = _snapshot(stored)
        was_enabled = stored.enabled
        for field, value in changes.items():
            setattr(channel, field, value)
        if changes:
            channel.save(update_fields=[*changes, "updated_at"])
        schedules.sync_schedule(channel)
        if credentials_changed or (channel.enabled and not was_enabled) or not channel.enabled:
            health.reset_health(channel)
        after = _snapshot(channel)
        changed = [key for key in AUDITED if before[key] != after[key]]
        old = {key: before[key] for key in changed}
        new = {key: after[key] for key in changed}
        if credentials_changed and "credentials" in changes:
            new["credentials"] = "changed"
        if new:
            verb = "channel_updated"
            if list(new) == ["enabled"]:
                verb = "channel_enabled" if channel.enabled else "channel_disabled"
            _audit(actor=actor, verb=verb, channel=channel, before=old, after=new)
    channel.refresh_from_db()
    return channel


def channel_delete(*, channel: Channel, actor: User | None = None) -> None:
    with transaction.atomic():
        schedules.drop_schedule(channel)
        was_enabled = channel.enabled
        channel.enabled = False
        channel.save(update_fields=["enabled", "updated_at"])
        _audit(
            actor=actor,
            verb="channel_disabled",
            channel=channel,
            before={"enabled": was_enabled},
            after={"enabled": False},
        )
