"""Read receipts: when an agent opens a WhatsApp thread, the customer's latest message is marked
read (a channel setting). The inbox screen calls :func:`read_receipt_on_open`; this module
imports nothing that calls the inbox (``.importlinter``, "no inbox <-> channels cycle")."""

from __future__ import annotations

import logging

from celery import shared_task

from ..base import ConnectorError
from ..models import Channel

log = logging.getLogger(__name__)


@shared_task(name="channels.whatsapp.mark_read", ignore_result=True, expires=300)
def mark_read(channel_id: int, wamid: str) -> str:
    """Send the read receipt of a customer's message (an agent opened the thread)."""
    channel = Channel.objects.filter(pk=channel_id, kind="whatsapp").first()
    if channel is None:
        return "gone"
    try:
        channel.connector().mark_read(wamid)
    except ConnectorError as exc:
        # A read receipt is a courtesy: a failure is logged, never retried into a storm.
        log.warning("read receipt for %s on channel %s failed: %s", wamid, channel_id, exc)
        return f"failed: {exc.message}"
    return "read"


def read_receipt_on_open(ticket) -> bool:
    """When an agent opens a WhatsApp thread, mark the customer's latest message read (if the
    channel's setting says so). Returns whether a receipt was queued."""
    from inbox.models import Direction

    channel = ticket.channel
    if channel.platform != "whatsapp":
        return False
    if not (channel.settings or {}).get("read_receipts", True):
        return False
    last = (
        ticket.messages.filter(direction=Direction.INBOUND)
        .exclude(external_id=None)
        .order_by("-sent_at", "-id")
        .values_list("external_id", flat=True)
        .first()
    )
    if not last:
        return False
    from django.core.cache import cache

    # Once per message, however often the thread is opened.
    if not cache.add(f"wa:read:{channel.pk}:{last}", 1, timeout=7 * 24 * 3600):
        return False
    try:
        mark_read.delay(channel.pk, last)
    except Exception:  # noqa: BLE001 - broker down: no receipt, nothing else lost
        log.warning("broker unreachable; read receipt for %s not sent", last)
        return False
    return True
