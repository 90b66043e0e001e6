"""The Instagram token: refreshed before it expires, and checked daily.

A long-lived Instagram User token lasts 60 days; ``GET /refresh_access_token`` gives a new one
for 60 more, once the current one is at least 24 hours old and still valid. The daily task
refreshes every token that is older than a day and expires within INSTAGRAM_REFRESH_DAYS; a
refused refresh (error 190: expired, revoked, password changed) makes the channel "needs
reconnect" at once. A token that will expire within META_TOKEN_WARN_DAYS and could not be
refreshed makes it "degraded" with the date.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import health
from ..base import AuthError, ConnectorError
from ..models import Channel
from . import client

log = logging.getLogger(__name__)

MIN_AGE = dt.timedelta(hours=24)
WARNING = "Token: "


def instagram_channels():
    return Channel.objects.filter(kind="instagram", enabled=True)


def channels_for_account(account_id: str):
    return instagram_channels().filter(
        Q(own_account_id=account_id) | Q(settings__account_id=account_id)
    )


def refresh_due(credentials: dict, now: dt.datetime) -> bool:
    refreshed = client.parse_time(credentials.get("refreshed_at"))
    expires = client.parse_time(credentials.get("expires_at"))
    if refreshed is not None and now - refreshed < MIN_AGE:
        return False  # Meta refuses tokens younger than a day
    if expires is None:
        return True  # unknown expiry: refreshing tells us
    days = int(getattr(settings, "INSTAGRAM_REFRESH_DAYS", 10))
    return expires - now <= dt.timedelta(days=days)


def token_refresh(channel: Channel, *, force: bool = False) -> str:
    """Refresh one channel's token when due; returns a one-line summary."""
    now = timezone.now()
    credentials = dict(channel.credentials or {})
    token = credentials.get("access_token", "")
    if not token:
        health.record_failure(channel.pk, AuthError("No Instagram access token is configured."))
        return "needs reconnect: no token"
    if not force and not credentials.get("refreshed_at"):
        # A token an admin just pasted: its age is unknown and Meta refuses to refresh one
        # younger than 24 hours, so its age counts from now (refreshed a day later).
        _store(channel.pk, refreshed_at=now.isoformat())
        return "not due: token age unknown, counted from now"
    if not force and not refresh_due(credentials, now):
        return _warn_expiry(channel, credentials, now) or "not due"
    try:
        answer = client.refresh_token(token)
    except AuthError as exc:
        health.record_failure(channel.pk, exc)
        return f"needs reconnect: {exc.message}"
    except ConnectorError as exc:
        log.warning("token refresh of channel %s failed: %s", channel.pk, exc.message)
        return _warn_expiry(channel, credentials, now) or f"not refreshed: {exc.message}"
    new_token = str(answer.get("access_token") or "")
    seconds = answer.get("expires_in")
    if not new_token or not isinstance(seconds, int):
        return f"not refreshed: unexpected answer {sorted(answer)}"
    _store(
        channel.pk,
        access_token=new_token,
        expires_at=(now + dt.timedelta(seconds=seconds)).isoformat(),
        refreshed_at=now.isoformat(),
    )
    health.clear_warning(channel.pk)
    return "refreshed"


def _store(channel_id: int, **values: str) -> None:
    """Update some credentials (encrypted with the rest), under a lock: a refresh and an admin
    saving the form must not undo each other."""
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel_id)
        locked.credentials = {**(locked.credentials or {}), **values}
        locked.save(update_fields=["credentials", "updated_at"])


def _warn_expiry(channel: Channel, credentials: dict, now: dt.datetime) -> str:
    expires = client.parse_time(credentials.get("expires_at"))
    horizon = now + dt.timedelta(days=int(getattr(settings, "META_TOKEN_WARN_DAYS", 7)))
    if expires is None or expires > horizon:
        return ""
    if expires <= now:
        health.record_failure(
            channel.pk,
            AuthError(f"The Instagram token expired on {expires:%Y-%m-%d %H:%M} UTC: reconnect."),
        )
        return "needs reconnect: expired"
    text = (
        f"{WARNING}the Instagram token expires on {expires:%Y-%m-%d %H:%M} UTC and could not be "
        "refreshed yet: reconnect the account before then."
    )
    health.record_warning(channel.pk, text)
    return "warning: " + text
