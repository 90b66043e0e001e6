"""One poll of one channel: fetch pages, store each with its cursor, record health."""

from __future__ import annotations

from inbox.ingest.services import ingest_batch

from . import health
from .models import Channel

# A poll that keeps finding full pages stops after this many and continues next time, so one busy
# channel never holds a worker for long.
MAX_PAGES_PER_POLL = 10


def channel_poll(channel: Channel) -> str:
    """Fetch and store pages until the platform has no more (or the page cap), then record
    the channel's health. Never raises: a failure is recorded, not thrown."""
    reads = 0
    stored = 0
    billed: dict[str, int] = {}
    try:
        connector = channel.connector()
        cursor = channel.cursor
        for _ in range(MAX_PAGES_PER_POLL):
            page = connector.fetch(dict(cursor))
            reads += page.calls
            for key, units in page.billed.items():
                billed[key] = billed.get(key, 0) + units
            result = ingest_batch(channel_id=channel.pk, items=page.items, cursor=page.cursor)
            stored += result.created
            cursor = page.cursor
            if not page.more:
                break
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, none crashes the batch
        health.record_failure(channel.pk, exc, reads=reads, billed=billed)
        return f"failed: {exc!r}"
    health.record_success(channel.pk, reads=reads, items=stored, billed=billed)
    return f"stored {stored}"
