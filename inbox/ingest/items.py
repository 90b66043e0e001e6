"""Cleaning a batch before it is stored: NUL characters stripped, duplicates inside the batch
folded to their newest version, and edits of stored messages applied with their version history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.db.models import Q

from channels.base import InboundItem
from channels.models import Channel
from inbox.core import bulk
from inbox.models import (
    Message,
)


def _has_nul(item: InboundItem) -> bool:
    a = item.author
    return (
        "\x00" in item.text
        or "\x00" in item.external_id
        or "\x00" in item.thread_key
        or "\x00" in item.url
        or "\x00" in item.parent_external_id
        or "\x00" in item.language
        or "\x00" in item.kind
        or (
            a is not None
            and (
                "\x00" in a.platform_user_id
                or "\x00" in a.handle
                or "\x00" in a.display_name
                or "\x00" in a.avatar_url
                or "\x00" in a.profile_url
            )
        )
    )


def _strip(value: str) -> str:
    return value.replace("\x00", "")


def _without_nul(items: Sequence[InboundItem]) -> Sequence[InboundItem]:
    """PostgreSQL text cannot hold U+0000, which a broken or hostile payload may carry: drop it
    from the items' strings (on every database, so both store the same text) rather than fail
    the batch for good. ``inbox.core.bulk`` does the same for JSON payloads on PostgreSQL."""
    if not any(_has_nul(item) for item in items):
        return items
    clean = []
    for item in items:
        if _has_nul(item):
            author = item.author
            if author is not None:
                author = replace(
                    author,
                    platform_user_id=_strip(author.platform_user_id),
                    handle=_strip(author.handle),
                    display_name=_strip(author.display_name),
                    avatar_url=_strip(author.avatar_url),
                    profile_url=_strip(author.profile_url),
                )
            item = replace(
                item,
                text=_strip(item.text),
                external_id=_strip(item.external_id),
                thread_key=_strip(item.thread_key),
                url=_strip(item.url),
                parent_external_id=_strip(item.parent_external_id),
                language=_strip(item.language),
                kind=_strip(item.kind),
                author=author,
            )
        clean.append(item)
    return clean


def _version_key(version: str) -> tuple[int, int, str]:
    """Platform version ids in their order: decimal ids (X's snowflakes) by value."""
    if version.isdigit():
        digits = version.lstrip("0")
        return (0, len(digits), digits)
    return (1, 0, version)


def _dedupe_batch(items: Sequence[InboundItem]) -> tuple[list[InboundItem], list[InboundItem]]:
    """One item per platform id, and the other versions of those messages in the batch.

    A later version (an edit) replaces an earlier one. Where the platform numbers its versions
    (``InboundItem.version``), the newest is the one stored whatever the order of the batch, and
    the others come back as the second list, for the message's history."""
    by_id: dict[str, InboundItem] = {}
    others: list[InboundItem] = []
    for item in items:
        earlier = by_id.get(item.external_id)
        if earlier is None:
            by_id[item.external_id] = item
            continue
        if item.version and earlier.version:
            if item.version == earlier.version:
                continue  # the same version twice: a replay
            newer, older = (
                (item, earlier)
                if _version_key(item.version) > _version_key(earlier.version)
                else (earlier, item)
            )
            sent_at = min(item.sent_at, earlier.sent_at)
            by_id[item.external_id] = replace(newer, sent_at=sent_at, edited=True)
            others.append(older)
            continue
        if not item.edited:
            continue
        if not earlier.edited:
            # The original and its edit in one batch: store the original's time, the new text.
            item = replace(item, sent_at=earlier.sent_at, edited=True)
        by_id[item.external_id] = item
    return list(by_id.values()), others


def _version_entry(item: InboundItem, now: dt.datetime) -> dict[str, str]:
    """One entry of ``Message.versions``. An edit the platform does not date is dated when it
    reached us; the first version of a message, when it was sent."""
    at = item.version_at or (now if item.edited and not item.version else item.sent_at)
    return {"version": item.version, "text": item.text, "at": at.isoformat()}


def _merge_version(
    entries: list[dict[str, str]], item: InboundItem, now: dt.datetime
) -> list[dict[str, str]]:
    """``entries`` with ``item``'s version added, oldest first (the last is the current text).

    A numbered version goes to its place, so an older one arriving late joins the history and
    never replaces newer text; one already there (a replay) changes nothing. Without numbers the
    latest delivery is the current text."""
    if item.version:
        if any(e.get("version") == item.version for e in entries):
            return entries
        merged = [*entries, _version_entry(item, now)]
        return sorted(merged, key=lambda e: _version_key(e.get("version") or ""))
    if entries and entries[-1].get("text") == item.text:
        return entries
    return [*entries, _version_entry(item, now)]


def _apply_edits(
    channel: Channel,
    edits: list[InboundItem],
    now: dt.datetime,
    *,
    fresh: dict[str, InboundItem],
    late: list[InboundItem],
) -> dict[str, str]:
    """Store the versions of edited messages; return the platform ids whose text (or rating)
    changed, each with the thread key of the ticket its message is in (for that ticket: an
    edit may name its thread otherwise, as X's Account Activity edits of replies do).

    ``edits``: edited items of stored messages and other versions from the batch; ``fresh``: the
    edited items just inserted (their message starts its history with them); ``late``: earlier
    versions of stored messages, which only matter if the message was edited meanwhile."""
    group: dict[str, list[InboundItem]] = defaultdict(list)
    for item in edits:
        group[item.external_id].append(item)
    for fresh_id in fresh:
        group.setdefault(fresh_id, [])
    late_ids = []
    for item in late:
        if item.external_id not in group:
            late_ids.append(item.external_id)
        group[item.external_id].append(item)
    wanted = [x for x in group if x not in late_ids]
    stored = (
        Message.objects.filter(channel=channel)
        .filter(
            Q(external_id__in=wanted) | Q(external_id__in=late_ids, edited_at__isnull=False)
        )
        .values_list("id", "external_id", "text", "rating", "versions", "sent_at", "edited_at",
                     "raw", "ticket__thread_key")
    )  # fmt: skip
    pks: list[int] = []
    rows: dict[str, list[Any]] = {n: [] for n in ("text", "rating", "raw", "versions", "edited_at")}
    changed: dict[str, str] = {}
    for pk, external_id, text, rating, versions, sent_at, edited_at, raw, thread_key in stored:
        if external_id is None:  # not among the wanted ids the query asks for
            continue
        items = group[external_id]
        first = fresh.get(external_id)
        if versions:
            start = list(versions)
        elif first is not None:
            start = [_version_entry(first, now)]
        else:
            numbered = any(i.version for i in items)
            at = sent_at.isoformat()
            start = [{"version": external_id if numbered else "", "text": text, "at": at}]
        entries = start
        current = None
        for item in items:
            entries = _merge_version(entries, item, now)
            if entries[-1].get("version") == item.version and entries[-1].get("text") == item.text:
                current = item
            elif not item.version and item.rating != rating:
                current = item  # a review whose stars changed, not its words
        keep = entries if len(entries) > 1 or first is not None else list(versions or [])
        new_text = entries[-1]["text"]
        new_rating = current.rating if current is not None else rating
        if new_text == text and new_rating == rating and keep == (versions or []):
            continue
        text_changed = new_text != text or new_rating != rating
        pks.append(pk)
        rows["text"].append(new_text)
        rows["rating"].append(new_rating)
        rows["raw"].append(current.raw if current is not None and text_changed else raw)
        rows["versions"].append(keep)
        rows["edited_at"].append(now if text_changed or first is not None else edited_at or now)
        if text_changed and first is None:
            changed[external_id] = thread_key
    bulk.update_rows(Message, pks, rows)
    return changed
