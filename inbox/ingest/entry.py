"""The one door from ``channels/`` into the inbox.

Connectors return data — inbound items, moderation events (``channels.base.Moderation``),
identity hints (``SendResult.identity_hints``), send results — and never write the domain.
``channels/`` may import this module and ``inbox.models`` (the models it must name: a channel's
team) and nothing else of ``inbox``; the import-linter contract "channels reach the inbox only
through its entry point" in ``pyproject.toml`` fails CI otherwise. Each function is thin: it
hands what a connector returned to the inbox service that owns it.

Allowed channels → inbox calls, and why each runs in that direction:

- storing what was fetched or delivered: :func:`ingest_batch`, :func:`webhook_store`;
- the lookups a normaliser needs while it shapes a batch: :func:`identities_named`,
  :func:`thread_keys_of`;
- the Celery send task (a reply is sent by a channels task, which must call delivery):
  :func:`reply_deliver`, :func:`reply_fail`, :class:`RetryLater`, :func:`replies_stalled`;
- the audit row of a channel's configuration change: :func:`channel_change_log`;
- the admin check of the channels pages, so "who is an admin" has one definition:
  :data:`admin_required`; the WhatsApp composer's ticket access checks: :data:`access`;
- the WhatsApp template composer, which queues its template as a reply: :func:`reply_queue`;
- the storage a channel's media takes, shown on its page: :func:`channel_media_usage`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q

from channels.base import InboundItem, Moderation
from inbox.audit.services import activity_log
from inbox.core import access
from inbox.core.decorators import admin_required
from inbox.ingest import services as ingest_services
from inbox.ingest.services import IngestResult
from inbox.models import DeliveryState, Direction, Identity, Message
from inbox.replies import batch as replies_batch
from inbox.replies.delivery import RetryLater, message_fail
from inbox.tickets.moderation import message_platform_moderated

__all__ = [
    "IngestResult",
    "RetryLater",
    "access",
    "admin_required",
    "channel_change_log",
    "channel_media_usage",
    "identities_named",
    "ingest_batch",
    "replies_stalled",
    "reply_queue",
    "reply_deliver",
    "reply_fail",
    "thread_keys_of",
    "webhook_store",
]


def ingest_batch(
    *, channel_id: int, items: Sequence[InboundItem], cursor: dict[str, Any] | None = None
) -> IngestResult:
    """Store a fetched batch and the channel's new cursor (``inbox.ingest.services``: its
    documented order; lock: the channel row; audit: the tickets' activity rows)."""
    return ingest_services.ingest_batch(channel_id=channel_id, items=items, cursor=cursor)


def webhook_store(
    *, channel_id: int, items: Sequence[InboundItem], moderations: Iterable[Moderation] = ()
) -> IngestResult:
    """Store one webhook delivery's items (``ingest_batch``: its lock, its activity rows), then
    the moderation events it reported (``message_platform_moderated``: one row each)."""
    result = ingest_batch(channel_id=channel_id, items=items) if items else IngestResult()
    for change in moderations:
        message_platform_moderated(
            channel_id=channel_id,
            external_id=change.external_id,
            hidden=change.hidden,
            removed=change.removed,
            unsent=change.unsent,
        )
    return result


def identities_named(*, platform: str, platform_user_ids: Iterable[str]) -> set[str]:
    """Which of these platform users we know a name of already (not asked for their profile)."""
    return set(
        Identity.objects.filter(platform=platform, platform_user_id__in=list(platform_user_ids))
        .exclude(display_name="")
        .values_list("platform_user_id", flat=True)
    )


def thread_keys_of(*, channel_id: int, external_ids: Iterable[str]) -> dict[str, str]:
    """The thread key of each stored message of the channel, by platform id."""
    rows = (
        Message.objects.filter(channel_id=channel_id, external_id__in=list(external_ids))
        .values_list("external_id", "ticket__thread_key")
        .iterator()
    )
    # external_id__in above: no row without one.
    return {external_id: key for external_id, key in rows if external_id is not None}


def reply_queue(**kwargs: Any) -> Message:
    """Queue a reply on a ticket (``inbox.replies.services.reply_queue``: its checks, its lock
    of the ticket, its "replied" activity); the WhatsApp template composer's way in."""
    from inbox.replies.services import reply_queue as queue

    return queue(**kwargs)


def reply_deliver(*, message_id: int) -> str:
    """Send a stored reply: alone (``inbox.replies.delivery.message_deliver``) or, on a channel
    that sends in batches, with the channel's other queued replies (``inbox.replies.batch``)."""
    return replies_batch.reply_deliver(message_id=message_id)


def reply_fail(*, message_id: int, reason: str) -> None:
    """Give up on a reply: it shows as failed with ``reason``."""
    message_fail(message_id=message_id, reason=reason)


def replies_stalled(*, queued_before: dt.datetime, sending_before: dt.datetime) -> list[int]:
    """Replies still "queued" or "sending" since before these times (their task was lost)."""
    stalled = Message.objects.filter(direction=Direction.OUTBOUND).filter(
        Q(delivery_state=DeliveryState.QUEUED, delivery_changed_at__lt=queued_before)
        | Q(delivery_state=DeliveryState.SENDING, delivery_changed_at__lt=sending_before)
    )
    return list(stalled.values_list("pk", flat=True)[:5000])


def channel_change_log(
    *, actor: User | None, verb: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """The audit row of a channel's configuration change (an activity without a ticket)."""
    activity_log(ticket=None, actor=actor, verb=verb, before=before, after=after)


def channel_media_usage(channel_id: int):
    """How many files the channel's customers sent and the storage they take (channel page)."""
    from inbox.media.services import channel_usage

    return channel_usage(channel_id)
