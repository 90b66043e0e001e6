"""Items as JSON-safe dicts, for Celery task arguments (webhook → ingest task)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .base import InboundAttachment, InboundAuthor, InboundItem


def item_to_dict(item: InboundItem) -> dict[str, Any]:
    """JSON-safe form of an item, for a Celery task argument (webhook → ingest task)."""
    from dataclasses import asdict

    data = asdict(item)
    data["sent_at"] = item.sent_at.isoformat()
    if item.version_at is not None:
        data["version_at"] = item.version_at.isoformat()
    return data


def item_from_dict(data: dict[str, Any]) -> InboundItem:
    data = dict(data)
    data["sent_at"] = dt.datetime.fromisoformat(data["sent_at"])
    if data.get("version_at"):
        data["version_at"] = dt.datetime.fromisoformat(data["version_at"])
    if data.get("author"):
        data["author"] = InboundAuthor(**data["author"])
    data["attachments"] = tuple(InboundAttachment(**a) for a in data.get("attachments") or ())
    return InboundItem(**data)
