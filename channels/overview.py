"""The channel health overview admins and leads see: what needs attention first, and why.

One query for all channels (a handful of rows); everything else is arithmetic on the health
fields ``channels.health`` writes. The channel list and the settings start page render the same
rows with the same table (``templates/channels/_health_table.html``).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from . import health
from .models import Channel, HealthState

# No successful poll for this many poll intervals (and at least STALE_MIN) while enabled: the
# channel is silently stuck (a dead worker, a beat that stopped), which no error field shows.
STALE_INTERVALS = 3
STALE_MIN = dt.timedelta(minutes=10)

# Most urgent first: nothing comes in at all, then limits and errors, then silence.
_ORDER: dict[str, int] = {
    HealthState.NEEDS_RECONNECT: 0,
    HealthState.RATE_LIMITED: 1,
    HealthState.DEGRADED: 2,
}


def stale_after(channel: Channel) -> dt.timedelta:
    return max(STALE_MIN, dt.timedelta(seconds=channel.poll_interval * STALE_INTERVALS))


def attention_reason(channel: Channel, now: dt.datetime) -> str:
    """Why an admin should look at this channel now; "" when it is fine or switched off."""
    if not channel.enabled:
        return ""
    if channel.health_state == HealthState.NEEDS_RECONNECT:
        return _("Needs reconnecting: enter new credentials and test the connection.")
    if channel.health_state == HealthState.RATE_LIMITED and (
        channel.rate_limited_until is None or channel.rate_limited_until > now
    ):
        return _("Rate limited by the platform; polling waits.")
    if channel.health_state == HealthState.DEGRADED and channel.last_error.startswith(
        health.POLICY_PREFIXES
    ):
        return _("Meta restricted this Page's messaging; see the last error.")
    if channel.health_state == HealthState.DEGRADED:
        return _("Polling has problems; see the last error.")
    since = channel.last_success_at or channel.created_at
    if now - since > stale_after(channel):
        return _("No successful poll for a while: check that the worker and beat run.")
    return ""


def health_notices(channel: Channel, now: dt.datetime) -> list[str]:
    """Warnings about the channel's kind worked out now (a platform API version near its end
    of life), from the connector class's ``health_notices`` where it has one, and what the
    connector says of this channel itself (``channel_notices``: a token's expiry, the rate-limit
    usage the platform reported)."""
    if not channel.enabled:
        return []
    found: list[str] = []
    notices = getattr(channel.connector_class, "health_notices", None)
    if notices is not None:
        found.extend(notices(today=timezone.localdate(now, dt.UTC)))
    if callable(getattr(channel.connector_class, "channel_notices", None)):
        found.extend(channel.connector().channel_notices())
    return found


def last_poll_at(channel: Channel) -> dt.datetime | None:
    """When the channel was last polled, successfully or not."""
    times = [t for t in (channel.last_success_at, channel.last_error_at) if t is not None]
    return max(times) if times else None


def health_overview(now: dt.datetime | None = None) -> list[Channel]:
    """Every channel, those needing attention first (most urgent first), then enabled, then
    disabled ones, by name. Each carries ``attention`` (a reason or ""), ``errors_24h``,
    ``last_poll_at``, ``lag_seconds`` and ``usage_counts`` for the health table."""
    now = now or timezone.now()
    channels = list(Channel.objects.select_related("default_team").order_by("name", "pk"))
    for channel in channels:
        channel.attention = attention_reason(channel, now)
        channel.notices = health_notices(channel, now)
        channel.errors_24h = health.errors_last_24h(channel.errors_by_hour, now)
        channel.last_poll_at = last_poll_at(channel)
        channel.lag_seconds = channel.last_ingest_lag_seconds
        # As sorted pairs: in a template, ``usage.items`` would be the counter named "items"
        # (and jsonb keeps its own key order).
        channel.usage_counts = sorted(
            (k, v) for k, v in (channel.usage or {}).items() if k != "month"
        )
    channels.sort(
        key=lambda c: (
            0 if c.attention else 1 if c.enabled else 2,
            _ORDER.get(c.health_state, 3) if c.attention else 0,
        )
    )
    return channels
