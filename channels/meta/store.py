"""Storing what one Meta webhook delivery holds, channel by channel."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..base import InboundItem

log = logging.getLogger(__name__)


def store_per_channel(
    items: dict[int, list[InboundItem]],
    moderations: dict[int, list],
    *,
    prepare: Callable[[int, list[InboundItem]], list[InboundItem]] | None = None,
    failure: Exception | None = None,
) -> str:
    """Ingest each channel's items and apply its moderation changes (hidden, removed, unsent).

    One channel's failure does not stop the others; the last one is raised at the end so the
    delivery is retried (ingest's dedupe makes the retry harmless). ``prepare`` may enrich a
    channel's items first (Messenger's profile names); ``failure`` is one met earlier."""
    from inbox.ingest.entry import webhook_store

    stored = 0
    for channel_id in set(items) | set(moderations):
        try:
            batch = items.get(channel_id, [])
            if batch and prepare is not None:
                batch = prepare(channel_id, batch)
            stored += webhook_store(
                channel_id=channel_id, items=batch, moderations=moderations.get(channel_id, [])
            ).created
        except Exception as exc:  # noqa: BLE001 - one channel must not block the others
            log.exception("Meta webhook: channel %s failed", channel_id)
            failure = exc
    if failure is not None:
        raise failure
    return f"stored {stored}"
