"""The daily Page token check: warn before a reply fails.

``GET /debug_token`` tells whether the Page token is valid, when it (or its data access)
expires, and which permissions it still has. An invalid token makes the channel "needs
reconnect" at once; an expiry within META_TOKEN_WARN_DAYS or a missing permission makes it
"degraded" with the reason in ``last_error``. Page tokens obtained from a long-lived user token
have ``expires_at`` 0 (never); ``data_access_expires_at`` still runs out after 90 days of the
admin not using the app.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from channels.payload import child

from .. import health
from ..base import AuthError, ConnectorError
from ..models import Channel

log = logging.getLogger(__name__)

KINDS = ("facebook", "messenger")
WARNING_PREFIX = "Token check: "  # after health.WARNING_PREFIX


def meta_channels():
    return Channel.objects.filter(kind__in=KINDS, enabled=True)


def channels_for_page(page_id: str):
    return meta_channels().filter(Q(own_account_id=page_id) | Q(settings__page_id=page_id))


def _when(timestamp: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def token_warnings(channel: Channel, data: dict) -> list[str]:
    """What an admin must do something about, from a ``debug_token`` answer."""
    now = timezone.now()
    horizon = now + dt.timedelta(days=int(getattr(settings, "META_TOKEN_WARN_DAYS", 7)))
    warnings = []
    for key, what in (("expires_at", "The Page token"), ("data_access_expires_at", "Data access")):
        value = data.get(key)
        if not (isinstance(value, int) and value > 0 and _when(value) <= horizon):
            continue
        if _when(value) <= now:
            warnings.append(
                f"{what} expired on {_when(value):%Y-%m-%d %H:%M} UTC: reconnect the Page."
            )
        else:
            warnings.append(
                f"{what} expires on {_when(value):%Y-%m-%d %H:%M} UTC: reconnect the Page before "
                "then."
            )
    scopes = data.get("scopes")
    if isinstance(scopes, list):
        missing = [s for s in channel.connector_class.required_scopes if s not in scopes]
        if missing:
            warnings.append(
                "Permission(s) no longer granted: "
                + ", ".join(missing)
                + ". Reading or replying will fail; reconnect the Page and grant them."
            )
    notice = channel.connector().notice()
    if notice:
        warnings.append(notice)
    return warnings


def token_check(channel: Channel) -> str:
    """Check one channel's token and record what it found; returns a one-line summary."""
    try:
        data = channel.connector().debug_token()
    except AuthError as exc:
        health.record_failure(channel.pk, exc)
        return f"needs reconnect: {exc.message}"
    except ConnectorError as exc:
        # Meta is down or limiting us: the check says nothing about the token. Try tomorrow.
        log.warning("token check of channel %s failed: %s", channel.pk, exc.message)
        return f"not checked: {exc.message}"
    if not data.get("is_valid", False):
        error = child(data, "error")
        reason = error.get("message") or "Meta says the Page token is no longer valid."
        health.record_failure(channel.pk, AuthError(f"Reconnect the Page: {reason}", code=190))
        return f"needs reconnect: {reason}"
    warnings = token_warnings(channel, data)
    if warnings:
        health.record_warning(channel.pk, WARNING_PREFIX + " ".join(warnings))
        return "warning: " + " ".join(warnings)
    health.clear_warning(channel.pk)
    return "ok"
