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
    from inbox.ingest.services import ingest_batch
    from inbox.tickets.moderation import message_platform_moderated

    stored = 0
    for channel_id in set(items) | set(moderations):
        try:
            if items.get(channel_id):
                batch = items[channel_id]
                if prepare is not None:
                    batch = prepare(channel_id, batch)
                stored += ingest_batch(channel_id=channel_id, items=batch).created
            for change in moderations.get(channel_id, []):
                message_platform_moderated(
                    channel_id=channel_id,
                    external_id=change.external_id,
                    hidden=change.hidden,
                    removed=change.removed,
                    unsent=change.unsent,
                )
        except Exception as exc:  # noqa: BLE001 - one channel must not block the others
            log.exception("Meta webhook: channel %s failed", channel_id)
            failure = exc
    if failure is not None:
        raise failure
    return f"stored {stored}"
