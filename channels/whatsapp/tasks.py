"""Celery tasks of the WhatsApp channels: thin, id-based and safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from ..base import ConnectorError
from ..models import Channel

log = logging.getLogger(__name__)


@shared_task(name="channels.whatsapp.sync_templates", ignore_result=True)
def sync_templates(channel_id: int) -> str:
    """Synchronise a number's message templates from its WhatsApp Business Account."""
    from .. import health
    from .services import templates_sync

    channel = Channel.objects.filter(pk=channel_id, kind="whatsapp").first()
    if channel is None:
        return "gone"
    try:
        return f"synced {templates_sync(channel=channel)}"
    except ConnectorError as exc:
        health.record_warning(channel_id, f"Templates not synchronised: {exc.message}")
        return f"failed: {exc.message}"


@shared_task(name="channels.whatsapp.daily", ignore_result=True)
def daily() -> int:
    """Beat, daily: templates of every enabled number (their standing is the channel's poll)."""
    ids = list(Channel.objects.filter(kind="whatsapp", enabled=True).values_list("pk", flat=True))
    for pk in ids:
        sync_templates.delay(pk)
    return len(ids)


# The read receipt's task lives beside the inbox's call to it (it calls nothing of the inbox);
# imported here so that it is registered with the other WhatsApp tasks.
from .receipts import mark_read  # noqa: E402, F401
