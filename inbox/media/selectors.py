"""Reads of the media area: a thread's attachments, grouped by message, in one query."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..models.media import Attachment

COLUMNS = (
    "id", "message_id", "position", "kind", "declared_type", "detected_type", "name", "size",
    "alt_text", "title", "latitude", "longitude", "detail", "state", "reason",
    "storage_name", "thumbnail_name",
)  # fmt: skip


def thread_attachments(message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
    """The attachments of these messages by message id, in their order (one query; only the
    messages that have any are asked for by the caller)."""
    ids = list(message_ids)
    found: dict[int, list[Attachment]] = defaultdict(list)
    if not ids:
        return found
    for row in (
        Attachment.objects.filter(message_id__in=ids)
        .order_by("message_id", "position")
        .only(*COLUMNS)
    ):
        found[row.message_id].append(row)
    return found
