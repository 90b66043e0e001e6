"""Celery tasks of the Instagram channel: thin, and safe to run twice."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from celery import shared_task

from ..base import ConnectorError, InboundItem
from ..meta.store import store_per_channel
from ..models import Channel
from . import normalize
from .tokens import channels_for_account, instagram_channels, token_refresh

log = logging.getLogger(__name__)


@shared_task(name="channels.instagram.process_webhook", ignore_result=True)
def process_webhook(payload: dict[str, Any]) -> str:
    """Store what one verified ``object: "instagram"`` delivery holds.

    Comments and DMs are stored as they come; an unsend marks the stored message; a ``mentions``
    change (ids only) is read where Instagram Login allows it, else stored with the reason
    (``channels.instagram.mentions``). One channel's failure does not stop the
    others; it is raised at the end, so the delivery is retried (ingest dedupes)."""
    items: dict[int, list[InboundItem]] = defaultdict(list)
    moderations: dict[int, list[normalize.Moderation]] = defaultdict(list)
    failure: Exception | None = None
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not entry.get("id"):
            continue
        account = str(entry["id"])
        channels = list(channels_for_account(account))
        if not channels:
            log.warning("Instagram webhook for unknown account %s ignored", account)
            continue
        for channel in channels:
            found = normalize.entry_results(entry, account_id=account, handle=channel.own_handle)
            items[channel.pk].extend(found.items)
            moderations[channel.pk].extend(found.moderations)
            for ref in found.mentions:
                try:
                    item = channel.connector().mention(ref, entry_time=entry.get("time"))
                except ConnectorError as exc:
                    from .. import health

                    health.record_failure(channel.pk, exc)
                    failure = exc
                    continue
                if item is not None:
                    items[channel.pk].append(item)
    return store_per_channel(items, moderations, failure=failure)


@shared_task(name="channels.instagram.token_refresh_channel", ignore_result=True)
def token_refresh_channel(channel_id: int) -> str:
    channel = Channel.objects.filter(pk=channel_id, kind="instagram", enabled=True).first()
    if channel is None:
        return "skipped: gone or disabled"
    return token_refresh(channel)


@shared_task(name="channels.instagram.token_refresh_all", ignore_result=True)
def token_refresh_all() -> int:
    """Daily (a beat schedule made by a migration): refresh every token that is due."""
    ids = list(instagram_channels().values_list("pk", flat=True))
    for pk in ids:
        token_refresh_channel.delay(pk)
    return len(ids)
