"""The recently active conversations of a Page (Messenger) or an Instagram account."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..facebook import client


def recent_conversations(
    graph, own_id: str, *, platform: str, message_fields: str, floor: dt.datetime
) -> tuple[list[dict[str, Any]], int]:
    """``GET /{id}/conversations?platform=...`` with each one's newest 25 messages, up to three
    pages, stopping at the first conversation not updated since ``floor`` (Meta lists them most
    recently updated first). Returns the conversations and the calls made."""
    found: list[dict[str, Any]] = []
    calls = 0
    fields = f"id,updated_time,participants,messages.limit(25){{{message_fields}}}"
    for batch, calls in client.pages(  # noqa: B007 - the last page's count is the total
        graph, f"{own_id}/conversations", max_pages=3, platform=platform, fields=fields, limit=25
    ):
        for conversation in batch:
            updated = client.parse_time(conversation.get("updated_time"))
            if updated is not None and updated < floor:
                return found, calls
            found.append(conversation)
    return found, calls
