"""Celery tasks: thin, id-based and idempotent; the work is in services.

Both tasks are late-acknowledged (settings): a worker killed mid-task leaves the message on the
broker and another worker runs it again. That is safe because a poll advances its cursor only in
the transaction that stores the batch, and a send looks for an earlier attempt's post before
posting again (``inbox.replies.delivery``).
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from inbox.ingest.entry import ingest_batch

from . import health
from .models import Channel
from .polling import channel_poll

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def poll_channel(channel_id: int) -> str:
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or not channel.enabled:
        return "skipped: gone or disabled"
    if channel.next_poll_at and channel.next_poll_at > timezone.now():
        return "skipped: backing off"
    if not health.acquire_poll_lease(channel_id, settings.POLL_LEASE_SECONDS):
        return "skipped: another poll is running"
    try:
        return channel_poll(channel)
    finally:
        health.release_poll_lease(channel_id)


@shared_task(ignore_result=True)
def ingest_items(channel_id: int, items: list[dict]) -> str:
    """Ingest items a webhook delivered (serialised with ``item_to_dict``). No cursor moves:
    the next poll may fetch the same items, and the database drops them as duplicates.

    Nothing queues this any more (webhooks go through ``process_webhook_delivery``); it stays
    registered for one release so tasks queued by the previous webhook code still run."""
    from .serial import item_from_dict

    result = ingest_batch(channel_id=channel_id, items=[item_from_dict(d) for d in items])
    return f"stored {result.created}, duplicates {result.duplicates}"


@shared_task(ignore_result=True)
def process_webhook_delivery(delivery_id: int) -> str:
    """One attempt at a stored webhook delivery (``channels.intake``); the row keeps the outcome."""
    from .intake import process_delivery

    return process_delivery(delivery_id)


@shared_task(ignore_result=True, expires=60)
def sweep_webhook_deliveries() -> int:
    """Beat, every 30 s: queue webhook deliveries whose task was lost; prune old ones."""
    from .intake import sweep

    return sweep()


@shared_task(ignore_result=True, expires=60)
def heartbeat() -> None:
    from django.core.cache import cache

    from .heartbeat import WORKER_KEY

    cache.set(WORKER_KEY, timezone.now(), timeout=3600)


# A reply still "queued" this long after it was stored has lost its task (broker down or
# restarted without persistence); one still "sending" after the hard time limit has lost its
# worker. Both are sent again; the send itself guards against posting twice.
QUEUED_STALL = dt.timedelta(seconds=30)
SENDING_STALL = dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 10)


@shared_task(ignore_result=True, expires=60)
def redeliver_stalled_replies() -> int:
    from inbox.ingest.entry import replies_stalled

    now = timezone.now()
    ids = replies_stalled(queued_before=now - QUEUED_STALL, sending_before=now - SENDING_STALL)
    for pk in ids:
        send_message.delay(pk)
    if ids:
        log.warning("re-dispatched %d stalled replies", len(ids))
    return len(ids)


@shared_task(bind=True, ignore_result=True, max_retries=8)
def send_message(self, message_id: int) -> str:
    # The one channels → inbox call in this direction: the send task runs delivery.
    from inbox.ingest.entry import RetryLater, reply_deliver, reply_fail

    try:
        return reply_deliver(message_id=message_id)
    except RetryLater as exc:
        if self.request.retries >= self.max_retries:
            reply_fail(message_id=message_id, reason=f"Gave up after retries: {exc}")
            return "failed"
        # Exponential backoff, capped well below the broker's visibility timeout.
        countdown = exc.countdown or min(600, 5 * 2**self.request.retries)
        raise self.retry(countdown=countdown) from exc
