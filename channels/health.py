"""One policy for what a channel's success or failure means (health, backoff, budgets)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .base import AuthError, ConnectorError, PermanentError, RateLimited
from .models import Channel, HealthState

log = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=1)
RECONNECT_RETRY = dt.timedelta(hours=1)
DEFAULT_RATE_LIMIT_WAIT = dt.timedelta(minutes=15)
# A channel whose monthly read budget is spent (platforms that bill per call, like X) still
# polls, but at most this often, until the month ends.
BUDGET_SLOW_POLL = dt.timedelta(hours=1)
# (usage counter, channel setting, word shown to admins)
BUDGETS = (("reads", "monthly_read_budget", "read"), ("posts", "monthly_post_budget", "post"))


def _month(now: dt.datetime) -> str:
    return now.strftime("%Y-%m")


def count_usage(channel: Channel, now: dt.datetime, **increments: int) -> dict:
    """Add to this month's counters (platform reads, posts, items); a new month starts at 0."""
    usage = dict(channel.usage or {})
    if usage.get("month") != _month(now):
        usage = {"month": _month(now)}
    for key, amount in increments.items():
        usage[key] = int(usage.get(key, 0)) + amount
    return usage


def _budget_limit(value: object) -> int:
    try:
        return max(0, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


ERROR_WINDOW = dt.timedelta(hours=24)


def _hour(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H")


def count_error_hour(errors_by_hour: dict, now: dt.datetime) -> dict[str, int]:
    """One more failed poll in this UTC hour; buckets older than 24 hours are dropped, so the
    field stays at most 25 small entries whatever the error rate."""
    oldest = _hour(now - ERROR_WINDOW)
    kept = {h: int(n) for h, n in (errors_by_hour or {}).items() if h >= oldest}
    kept[_hour(now)] = kept.get(_hour(now), 0) + 1
    return kept


def errors_last_24h(errors_by_hour: dict, now: dt.datetime) -> int:
    """Failed polls in the 24 hours before ``now`` (to the hour: the current bucket counts in
    full, the one 24 hours back not at all)."""
    oldest = _hour(now - ERROR_WINDOW)
    return sum(int(n) for h, n in (errors_by_hour or {}).items() if h > oldest)


def budgets_spent(settings: dict, usage: dict) -> dict[str, str]:
    """Which monthly budgets (settings ``monthly_read_budget``, ``monthly_post_budget``) this
    month's usage has spent, with the reason an admin reads: {"reads": "monthly read budget
    spent: 10000/10000"}. Empty or zero budgets mean no limit."""
    spent = {}
    for key, setting, word in BUDGETS:
        limit = _budget_limit((settings or {}).get(setting))
        used = int((usage or {}).get(key, 0))
        if limit and used >= limit:
            spent[key] = f"monthly {word} budget spent: {used}/{limit}"
    return spent


def record_post(channel_id: int, *, posts: int = 1) -> None:
    """Count a post (a sent reply) against the channel's monthly budget."""
    now = timezone.now()
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel_id)
        channel.usage = count_usage(channel, now, posts=posts)
        channel.save(update_fields=["usage", "updated_at"])


def acquire_poll_lease(channel_id: int, seconds: int) -> bool:
    """Take the channel's poll lease if nobody holds a live one. One conditional UPDATE."""
    now = timezone.now()
    taken = (
        Channel.objects.filter(pk=channel_id)
        .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
        .update(poll_lease_until=now + dt.timedelta(seconds=seconds))
    )
    return taken == 1


def release_poll_lease(channel_id: int) -> None:
    Channel.objects.filter(pk=channel_id).update(poll_lease_until=None)


def _billed(billed: dict[str, int] | None) -> dict[str, int]:
    """Billable units a fetch reported (``FetchResult.billed``), as usage counters."""
    return {k: int(v) for k, v in (billed or {}).items() if k != "month" and int(v)}


def record_success(
    channel_id: int, *, reads: int = 0, items: int = 0, billed: dict[str, int] | None = None
) -> None:
    now = timezone.now()
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel_id)
        channel.usage = count_usage(channel, now, reads=reads, items=items, **_billed(billed))
        # A standing warning (see record_warning) or a policy block (record_policy_enforcement)
        # is not cured by a poll that works.
        warned = channel.health_state == HealthState.DEGRADED and channel.last_error.startswith(
            (WARNING_PREFIX, *POLICY_PREFIXES)
        )
        channel.health_state = HealthState.DEGRADED if warned else HealthState.OK
        channel.last_success_at = now
        channel.consecutive_failures = 0
        channel.rate_limited_until = None
        channel.next_poll_at = None
        spent = budgets_spent(channel.settings, channel.usage)
        if spent:
            # Working, but not as configured: the admin sees why.
            channel.health_state = HealthState.DEGRADED
            channel.last_error = "; ".join(spent.values())
            channel.last_error_at = now
            if "reads" in spent:
                channel.next_poll_at = now + max(
                    BUDGET_SLOW_POLL, dt.timedelta(seconds=channel.poll_interval)
                )
        channel.save(
            update_fields=[
                "usage",
                "health_state",
                "last_success_at",
                "consecutive_failures",
                "rate_limited_until",
                "next_poll_at",
                "last_error",
                "last_error_at",
                "updated_at",
            ]
        )


def record_failure(
    channel_id: int,
    error: BaseException,
    *,
    reads: int = 0,
    billed: dict[str, int] | None = None,
) -> dt.datetime:
    """Record what went wrong and when to try again; returns that time. ``reads`` and
    ``billed``: what the pages fetched before the failure used (and cost)."""
    now = timezone.now()
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel_id)
        channel.usage = count_usage(channel, now, reads=reads, errors=1, **_billed(billed))
        channel.errors_by_hour = count_error_hour(channel.errors_by_hour, now)
        message = error.message if isinstance(error, ConnectorError) else repr(error)
        channel.last_error = message[:2000]
        channel.last_error_at = now
        if isinstance(error, RateLimited):
            until = error.until or now + DEFAULT_RATE_LIMIT_WAIT
            channel.health_state = HealthState.RATE_LIMITED
            channel.rate_limited_until = until
            channel.next_poll_at = until
        elif isinstance(error, AuthError):
            channel.health_state = HealthState.NEEDS_RECONNECT
            channel.consecutive_failures += 1
            channel.next_poll_at = now + RECONNECT_RETRY
        else:
            channel.health_state = HealthState.DEGRADED
            channel.consecutive_failures += 1
            backoff = dt.timedelta(
                seconds=channel.poll_interval * 2 ** min(channel.consecutive_failures, 12)
            )
            channel.next_poll_at = now + min(backoff, MAX_BACKOFF)
        channel.save(
            update_fields=[
                "usage",
                "errors_by_hour",
                "last_error",
                "last_error_at",
                "health_state",
                "rate_limited_until",
                "next_poll_at",
                "consecutive_failures",
                "updated_at",
            ]
        )
    context = {"channel_id": channel_id, "health": channel.health_state}
    if not isinstance(error, ConnectorError):
        log.error(
            "channel %s poll failed unexpectedly: %r",
            channel_id,
            error,
            exc_info=error,
            extra=context,
        )
    else:
        log.warning("channel %s poll failed: %s", channel_id, message, extra=context)
    return channel.next_poll_at


def record_send_auth_failure(channel_id: int, error: AuthError) -> None:
    """A reply was refused because the credentials are dead (Meta error 190 and its subcodes,
    X 401): the channel needs reconnecting now, not after the next poll finds out. The poll
    schedule is left alone: a poll that still works will say so."""
    now = timezone.now()
    Channel.objects.filter(pk=channel_id).exclude(health_state=HealthState.DISABLED).update(
        health_state=HealthState.NEEDS_RECONNECT,
        last_error=f"Sending: {error.message}"[:2000],
        last_error_at=now,
        updated_at=now,
    )
    log.warning("channel %s send refused: %s", channel_id, error.message)


def record_send_rate_limit(channel_id: int, error: RateLimited) -> None:
    """A reply hit the platform's rate limit: admins see it like a polling one."""
    now = timezone.now()
    until = error.until or now + DEFAULT_RATE_LIMIT_WAIT
    Channel.objects.filter(pk=channel_id).update(
        health_state=HealthState.RATE_LIMITED,
        rate_limited_until=until,
        last_error=f"Sending: {error.message}"[:2000],
        last_error_at=now,
        updated_at=now,
    )


def record_send_refusal(channel_id: int, error: PermanentError) -> None:
    """A reply was refused for a reason of its recipient (outside the window, undeliverable):
    the channel works, so its state stays; its latest error says why, for the admin."""
    now = timezone.now()
    Channel.objects.filter(pk=channel_id).update(
        last_error=f"Sending: {error.message}"[:2000], last_error_at=now, updated_at=now
    )


# A warning set by a health check (a token that expires soon, a permission gone): polling still
# works, so successful polls leave it standing; the check that set it clears it.
WARNING_PREFIX = "Warning: "


def record_warning(channel_id: int, message: str) -> None:
    """Degraded with ``message``, without touching the poll schedule; no effect on a channel
    that already needs reconnecting or is disabled, or that the platform blocked (that says
    more)."""
    Channel.objects.filter(pk=channel_id).exclude(
        health_state__in=[HealthState.NEEDS_RECONNECT, HealthState.DISABLED]
    ).exclude(last_error__startswith=POLICY_PREFIXES[0]).update(
        health_state=HealthState.DEGRADED,
        last_error=(WARNING_PREFIX + message)[:2000],
        last_error_at=timezone.now(),
    )


def clear_warning(channel_id: int) -> None:
    """The condition a warning reported is gone."""
    Channel.objects.filter(
        pk=channel_id, health_state=HealthState.DEGRADED, last_error__startswith=WARNING_PREFIX
    ).update(health_state=HealthState.OK, last_error="")
    Channel.objects.filter(pk=channel_id, last_error__startswith=WARNING_PREFIX).update(
        last_error=""
    )


# The platform's own enforcement on the account (Meta's ``messaging_policy_enforcement``): a
# block stands until the platform lifts it ("unblock"), whatever polls and token checks find.
POLICY_PREFIXES = ("Blocked by Meta: ", "Warned by Meta: ")


def record_policy_enforcement(channel_id: int, action: str, reason: str) -> None:
    """Show Meta's policy action on the channel: "block" and "warning" make it degraded with
    Meta's reason ("Blocked by Meta: …"); "unblock" clears that again."""
    now = timezone.now()
    blocked, warned = POLICY_PREFIXES
    if action == "unblock":
        for prefix in POLICY_PREFIXES:
            Channel.objects.filter(
                pk=channel_id, health_state=HealthState.DEGRADED, last_error__startswith=prefix
            ).update(health_state=HealthState.OK, last_error="", updated_at=now)
        return
    text = reason or "no reason given"
    if action not in ("block", "warning"):
        text = f"{action}: {text}"
    channels = Channel.objects.filter(pk=channel_id).exclude(health_state=HealthState.DISABLED)
    if action != "block":
        # A warning does not replace a standing block, which says more.
        channels = channels.exclude(last_error__startswith=blocked)
    channels.update(
        health_state=HealthState.DEGRADED,
        last_error=((blocked if action == "block" else warned) + text)[:2000],
        last_error_at=now,
        updated_at=now,
    )
    log.warning("channel %s: Meta policy enforcement %s: %s", channel_id, action, reason)


def reset_health(channel: Channel) -> None:
    """After an admin reconnects or re-enables a channel: poll again at once."""
    Channel.objects.filter(pk=channel.pk).update(
        health_state=HealthState.OK if channel.enabled else HealthState.DISABLED,
        consecutive_failures=0,
        next_poll_at=None,
        rate_limited_until=None,
        last_error="",
    )
